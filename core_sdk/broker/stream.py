"""Redis stream brokers with the SDK's delivery guarantees, on one server, Sentinel or Cluster.

* :class:`DAMRedisStreamBroker` (``redis://``) subclasses taskiq-redis ``RedisStreamBroker``,
  :class:`DAMRedisStreamSentinelBroker` (``redis+sentinel://``) its ``RedisStreamSentinelBroker``
  and :class:`DAMRedisStreamClusterBroker` (``redis+cluster://``) its
  ``RedisStreamClusterBroker``. All three share :class:`DAMStreamMixin`:

Delivery (at least once):

* A call is one stream entry read by one consumer of the group (``XREADGROUP``). It is
  acknowledged (``XACK`` + ``XDEL``, so the stream only holds unfinished calls) after its result
  is stored. If storing the result failed, the entry is NOT acknowledged (taskiq itself would
  acknowledge it anyway): it is run again, so the caller still gets a result.
* While this worker holds an entry (from the moment it is read until it is acknowledged or the
  broker shuts down) one heartbeat task refreshes the claim on all held entries every
  ``idle_timeout / 3`` (``XCLAIM ... JUSTID``), so a long call is not handed to a second, live
  worker. A worker that dies stops refreshing; every ``idle_timeout / 2`` (at most 5 s) each
  worker claims entries idle for longer than ``idle_timeout`` (``XAUTOCLAIM``) and runs them.
* Redis errors while reading (connection lost, Redis restarted, consumer group gone) are retried
  with a back-off; the group is declared again. A failed acknowledgement is logged and leaves the
  entry pending (it is run again after the idle time), it never ends the worker.
* Shutdown (``taskiq worker`` on SIGTERM/SIGINT): ``listen()`` stops reading when the receiver
  cancels it. Python 3.11's ``asyncio.wait_for`` (used inside redis-py) can swallow that
  cancellation when it races with a completed socket write, which left the stock worker reading
  for ever; ``listen()`` therefore re-raises a cancellation that is still pending on its task
  after every Redis command. Entries read but not yet handed to the receiver are released at
  once; calls already running keep their claims fresh until the broker shuts down (taskiq waits
  for them up to ``--wait-tasks-timeout``), then whatever is still unfinished stays pending and
  another worker claims it after ``idle_timeout``.
* Consumers: every worker process reads as its own consumer of the group, named
  ``<host>-<pid>-<random>`` when it starts (after taskiq forked it), so ``XINFO CONSUMERS``
  shows one consumer per process. On a graceful shutdown the process deletes its consumer
  (``XGROUP DELCONSUMER``) unless it still holds pending entries (calls it did not finish, which
  another worker claims after ``idle_timeout``); at start-up a worker also deletes consumers
  that hold nothing and have been idle for :attr:`DAMStreamMixin.dead_consumer_idle_seconds`
  (left behind by killed workers), so dead consumers do not pile up.
* A message for a task this worker does not know is answered with an ``OperationRefusedError``
  result (the caller, when there is one, gets it instead of waiting for its timeout) and
  acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections import deque
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextvars import ContextVar
from typing import Any, NoReturn

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError
from taskiq import AckableMessage, AsyncBroker, TaskiqMiddleware
from taskiq.decor import AsyncTaskiqDecoratedTask
from taskiq.message import BrokerMessage, TaskiqMessage
from taskiq.result import TaskiqResult
from taskiq_redis import RedisStreamBroker, RedisStreamClusterBroker, RedisStreamSentinelBroker

from core_sdk.exceptions import OperationRefusedError

__all__ = [
    "DAMRedisStreamBroker",
    "DAMRedisStreamClusterBroker",
    "DAMRedisStreamSentinelBroker",
    "DAMStreamMixin",
    "ResultStoredMiddleware",
    "worker_consumer_name",
]

logger = logging.getLogger("core_sdk.broker")

_EntryKey = tuple[str, Any]  # (stream name, entry id)

# Where the receiver's task for one message is: None (not tracked), "running" (pre_execute
# ran), "saving" (executed, result not stored yet), "saved" (the result backend stored it).
_call_state: ContextVar[str | None] = ContextVar("core_sdk_call_state", default=None)


class ResultStoredMiddleware(TaskiqMiddleware):
    """Records whether a call's result reached the result backend.

    taskiq's receiver acknowledges a message even when storing its result failed (it logs the
    error), which would lose the result for good. The stream brokers read this mark (a context
    variable of the receiver's task for that message) and leave such an entry pending instead.
    """

    def pre_execute(self, message: TaskiqMessage) -> TaskiqMessage:
        _call_state.set("running")
        return message

    def post_execute(self, message: TaskiqMessage, result: TaskiqResult[Any]) -> None:
        _call_state.set("saving")

    def post_save(self, message: TaskiqMessage, result: TaskiqResult[Any]) -> None:
        _call_state.set("saved")


def _raise_if_cancelled() -> None:
    """Re-raise a cancellation of the current task that a library swallowed (see module doc)."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


class DAMStreamMixin(AsyncBroker):
    """The shared implementation; subclasses say how to reach Redis (:attr:`client`)."""

    #: a call still running after this many seconds stops protecting its entry from being
    #: claimed by another worker (guards against an entry that is never acknowledged)
    max_claim_refresh_seconds: float = 24 * 3600.0
    #: XACK + XDEL in a MULTI/EXEC (not on Cluster, whose pipelines are not transactions)
    ack_in_transaction: bool = True
    #: at start-up, delete consumers of the group that hold no pending entry and have not read
    #: for this long (a live worker reads every few seconds; a deleted live consumer with
    #: nothing pending would simply be created again by its next read)
    dead_consumer_idle_seconds: float = 3600.0

    # provided by the taskiq-redis stream broker classes
    queue_name: str
    consumer_group_name: str
    consumer_name: str
    consumer_id: str
    mkstream: bool
    block: int
    maxlen: int | None
    approximate: bool
    additional_streams: Any
    idle_timeout: int
    unacknowledged_batch_size: int
    count: int | None

    def _init_dam_stream(self, idle_timeout: int, unacknowledged_batch_size: int) -> None:
        self.idle_timeout = idle_timeout
        self.unacknowledged_batch_size = unacknowledged_batch_size
        self._inflight: dict[_EntryKey, float] = {}
        self._heartbeat: asyncio.Task[None] | None = None
        self._background: set[asyncio.Future[Any]] = set()
        self.add_middlewares(ResultStoredMiddleware())

    # -- connection ----------------------------------------------------------------------

    @property
    def client(self) -> Any:
        """The client every command goes through (``Redis`` or ``RedisCluster``)."""
        raise NotImplementedError

    async def _close_client(self) -> None:
        """Release what :attr:`client` holds (after the base class's shutdown)."""

    # -- sending -------------------------------------------------------------------------

    async def _declare_consumer_group(self) -> None:
        for stream_name in {self.queue_name, *self.additional_streams.keys()}:
            try:
                await self.client.xgroup_create(
                    stream_name, self.consumer_group_name, id=self.consumer_id, mkstream=True
                )
            except ResponseError as err:  # BUSYGROUP: it exists
                logger.debug("xgroup_create %s: %s", stream_name, err)

    async def kick(self, message: BrokerMessage) -> None:
        queue_name = message.labels.get("queue_name") or self.queue_name
        await self.client.xadd(
            queue_name,
            {b"data": message.message},
            maxlen=self.maxlen,
            approximate=self.approximate,
        )

    # -- tasks ---------------------------------------------------------------------------

    def find_task(self, task_name: str) -> AsyncTaskiqDecoratedTask[Any, Any] | None:
        """In a worker, an unknown task name resolves to a task that reports the refusal."""
        task = super().find_task(task_name)
        if task is None and self.is_worker_process:
            return _refusing_task(self, task_name)
        return task

    # -- acknowledgement and claims --------------------------------------------------------

    def _ack_for(self, key: _EntryKey) -> Callable[[], Awaitable[None]]:
        stream_name, msg_id = key

        async def ack() -> None:
            self._inflight.pop(key, None)
            if _call_state.get() == "saving":
                logger.warning(
                    "The result of stream entry %r of %s could not be stored; leaving the entry "
                    "unacknowledged so that it is run again after the idle time.",
                    msg_id,
                    stream_name,
                )
                return
            try:
                pipe = self.client.pipeline(transaction=self.ack_in_transaction)
                pipe.xack(stream_name, self.consumer_group_name, msg_id)
                pipe.xdel(stream_name, msg_id)
                await pipe.execute()
            except Exception as exc:
                logger.warning(
                    "Could not acknowledge stream entry %r of %s (%s); it stays pending and "
                    "will be run again after the idle time.",
                    msg_id,
                    stream_name,
                    exc,
                )

        return ack

    def _take(
        self, stream: Any, msg_id: Any, fields: Any
    ) -> tuple[_EntryKey, AckableMessage] | None:
        """Hold a freshly read entry (its claim is refreshed from now on) and wrap it."""
        stream_name = stream.decode() if isinstance(stream, bytes) else str(stream)
        key: _EntryKey = (stream_name, msg_id)
        data = fields.get(b"data") if isinstance(fields, dict) else None
        if not isinstance(data, bytes):
            logger.warning(
                "Deleting stream entry %r of %s: it has no 'data' field.", msg_id, stream_name
            )
            self._spawn(self._ack_for(key)())
            return None
        self._inflight[key] = time.monotonic()
        return key, AckableMessage(data=data, ack=self._ack_for(key))

    def _spawn(self, awaitable: Awaitable[Any]) -> None:
        future = asyncio.ensure_future(awaitable)
        self._background.add(future)
        future.add_done_callback(self._background.discard)

    def _ensure_heartbeat(self) -> None:
        if self._heartbeat is None or self._heartbeat.done():
            self._heartbeat = asyncio.get_running_loop().create_task(
                self._keep_claims_fresh(), name="core_sdk stream claim heartbeat"
            )

    async def _keep_claims_fresh(self) -> None:
        interval = max(self.idle_timeout / 3000.0, 0.05)
        while True:
            await asyncio.sleep(interval)
            await self.refresh_claims()

    async def refresh_claims(self) -> None:
        """Reset the idle time of every entry this worker holds (one XCLAIM per stream)."""
        now = time.monotonic()
        by_stream: dict[str, list[Any]] = {}
        for key, since in list(self._inflight.items()):
            if now - since > self.max_claim_refresh_seconds:
                self._inflight.pop(key, None)
                logger.warning(
                    "Stream entry %r of %s has run for more than %.0f s; no longer keeping it "
                    "claimed (another worker may claim it after the idle time).",
                    key[1],
                    key[0],
                    self.max_claim_refresh_seconds,
                )
                continue
            by_stream.setdefault(key[0], []).append(key[1])
        for stream_name, ids in by_stream.items():
            for start in range(0, len(ids), 500):
                try:
                    await self.client.xclaim(
                        stream_name,
                        self.consumer_group_name,
                        self.consumer_name,
                        min_idle_time=0,
                        message_ids=ids[start : start + 500],
                        justid=True,
                    )
                except Exception as exc:  # best effort; retried at the next interval
                    logger.debug("Could not refresh claims on %s: %s", stream_name, exc)

    # -- reading -------------------------------------------------------------------------

    async def _read(self, batch: deque[tuple[_EntryKey, AckableMessage]], claim: bool) -> None:
        """One XREADGROUP (and, when ``claim``, one XAUTOCLAIM per stream) into ``batch``."""
        fetched: Any = await self.client.xreadgroup(
            self.consumer_group_name,
            self.consumer_name,
            {self.queue_name: ">", **self.additional_streams},
            block=self.block,
            noack=False,
            count=self.count,
        )
        _raise_if_cancelled()
        for stream, entries in fetched or []:
            for msg_id, fields in entries:
                taken = self._take(stream, msg_id, fields)
                if taken is not None:
                    batch.append(taken)
        if not claim:
            return
        for stream_name in [self.queue_name, *self.additional_streams.keys()]:
            claimed: Any = await self.client.xautoclaim(
                name=stream_name,
                groupname=self.consumer_group_name,
                consumername=self.consumer_name,
                min_idle_time=self.idle_timeout,
                count=self.unacknowledged_batch_size,
            )
            _raise_if_cancelled()
            for msg_id, fields in claimed[1]:
                logger.info("Claimed idle entry %r of %s.", msg_id, stream_name)
                taken = self._take(stream_name, msg_id, fields)
                if taken is not None:
                    batch.append(taken)

    async def listen(self) -> AsyncGenerator[AckableMessage, None]:
        """Read new entries and, periodically, claim idle ones; survive Redis outages."""
        self._ensure_heartbeat()
        claim_every = max(min(self.idle_timeout / 2000.0, 5.0), 0.05)
        next_claim = 0.0
        backoff = 0.1
        batch: deque[tuple[_EntryKey, AckableMessage]] = deque()
        try:
            while True:
                now = time.monotonic()
                claim = now >= next_claim
                if claim:
                    next_claim = now + claim_every
                try:
                    await self._read(batch, claim)
                    backoff = 0.1
                except ResponseError as exc:
                    if "NOGROUP" not in str(exc):
                        raise
                    logger.warning("Consumer group missing (Redis restarted?); declaring it again.")
                    await self._declare_consumer_group()
                    _raise_if_cancelled()
                except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
                    logger.warning(
                        "Redis unavailable while reading the stream (%s); retrying in %.1f s.",
                        exc,
                        backoff,
                    )
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 1.0)
                while batch:
                    _, message = batch.popleft()
                    yield message
        finally:
            # entries read but never handed out: stop refreshing them so others can claim them
            for key, _ in batch:
                self._inflight.pop(key, None)

    # -- lifecycle -----------------------------------------------------------------------

    async def startup(self) -> None:
        """In a worker process: take a consumer name of its own, then declare the group and
        delete consumers that killed workers left behind."""
        if self.is_worker_process:
            # set here, after taskiq forked this process: a name made when the broker was
            # built could be shared by every process forked from one parent
            self.consumer_name = worker_consumer_name()
        await super().startup()
        if self.is_worker_process:
            logger.info(
                "Reading %s as consumer %s of group %s.",
                self.queue_name,
                self.consumer_name,
                self.consumer_group_name,
            )
            await self.delete_dead_consumers(self.dead_consumer_idle_seconds)

    async def delete_dead_consumers(self, min_idle_seconds: float) -> int:
        """Delete the group's consumers that hold no pending entry and have been idle for
        ``min_idle_seconds`` (never this process's own); returns how many. Best effort."""
        deleted = 0
        for stream_name in [self.queue_name, *self.additional_streams.keys()]:
            try:
                count = await self.client.eval(
                    _DELETE_IDLE_CONSUMERS,
                    1,
                    stream_name,
                    self.consumer_group_name,
                    int(min_idle_seconds * 1000),
                    self.consumer_name,
                )
            except Exception as exc:
                logger.debug("Could not delete idle consumers of %s: %s", stream_name, exc)
                continue
            deleted += int(count)
        if deleted:
            logger.info(
                "Deleted %d consumer(s) of group %s that held nothing and were idle for over "
                "%.0f s (workers that were killed).",
                deleted,
                self.consumer_group_name,
                min_idle_seconds,
            )
        return deleted

    async def _delete_own_consumer(self) -> None:
        """``XGROUP DELCONSUMER`` this process's consumer when it holds no pending entry."""
        for stream_name in [self.queue_name, *self.additional_streams.keys()]:
            try:
                result = await self.client.eval(
                    _DELETE_CONSUMER_IF_EMPTY,
                    1,
                    stream_name,
                    self.consumer_group_name,
                    self.consumer_name,
                )
            except Exception as exc:  # best effort: an idle consumer is harmless
                logger.debug("Could not delete consumer %s: %s", self.consumer_name, exc)
                continue
            if int(result) < 0:
                logger.info(
                    "Keeping consumer %s of %s: it still holds unfinished calls.",
                    self.consumer_name,
                    stream_name,
                )

    async def shutdown(self) -> None:
        """Stop refreshing claims (unfinished calls become claimable), delete this worker's
        consumer when it holds nothing, then close."""
        heartbeat, self._heartbeat = self._heartbeat, None
        if heartbeat is not None:
            heartbeat.cancel()
        for future in list(self._background):
            future.cancel()
        if self._inflight:
            logger.warning(
                "Shutting down with %d call(s) unfinished; they stay pending and another worker "
                "runs them after the idle time (%d ms).",
                len(self._inflight),
                self.idle_timeout,
            )
        self._inflight.clear()
        if self.is_worker_process:
            await self._delete_own_consumer()
        await super().shutdown()
        await self._close_client()


# KEYS[1] stream; ARGV group, consumer. Atomic: nothing can become pending in between.
_DELETE_CONSUMER_IF_EMPTY = """
if #redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2]) > 0 then return -1 end
return redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
"""

# KEYS[1] stream; ARGV group, minimum idle time (ms), a consumer never to delete.
_DELETE_IDLE_CONSUMERS = """
local deleted = 0
for _, entry in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], ARGV[1])) do
  local info = {}
  for i = 1, #entry, 2 do info[entry[i]] = entry[i + 1] end
  if info['name'] ~= ARGV[3] and info['pending'] == 0 and info['idle'] >= tonumber(ARGV[2]) then
    redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], info['name'])
    deleted = deleted + 1
  end
end
return deleted
"""


def worker_consumer_name() -> str:
    """``<host>-<pid>-<6 random hex>``: unique per worker process, and readable."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


def _refusing_task(broker: AsyncBroker, task_name: str) -> AsyncTaskiqDecoratedTask[Any, Any]:
    async def refuse(*args: Any, **kwargs: Any) -> NoReturn:
        from core_sdk.broker.operations import TASK_NAME

        raise OperationRefusedError(
            f"Refused task {task_name!r}: this worker has no such task (DAM calls use "
            f"{TASK_NAME!r}; are the caller and the worker on compatible core_sdk versions?)."
        )

    return AsyncTaskiqDecoratedTask(
        broker=broker, task_name=task_name, original_func=refuse, labels={}
    )


class DAMRedisStreamBroker(DAMStreamMixin, RedisStreamBroker):
    """``redis://`` (one server): taskiq-redis ``RedisStreamBroker`` + :class:`DAMStreamMixin`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._client: Redis | None = None
        self._init_dam_stream(self.idle_timeout, self.unacknowledged_batch_size)

    @property
    def client(self) -> Redis:
        """One client over the pool (building a ``Redis`` object per command is costly)."""
        if self._client is None:
            self._client = Redis(connection_pool=self.connection_pool)
        return self._client

    async def _close_client(self) -> None:
        self._client = None  # the base class disconnected the pool


class DAMRedisStreamSentinelBroker(DAMStreamMixin, RedisStreamSentinelBroker):
    """``redis+sentinel://``: taskiq-redis ``RedisStreamSentinelBroker`` + the SDK's delivery.

    Every command goes to the master the Sentinels currently name (``Sentinel.master_for``), so
    a fail-over is followed.
    """

    def __init__(
        self,
        *args: Any,
        idle_timeout: int = 600_000,
        unacknowledged_batch_size: int = 100,
        xread_count: int | None = 100,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.count = xread_count
        self._client: Redis | None = None
        self._init_dam_stream(idle_timeout, unacknowledged_batch_size)

    @property
    def client(self) -> Redis:
        if self._client is None:
            self._client = self.sentinel.master_for(self.master_name)
        return self._client

    async def _close_client(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                await client.aclose()


class DAMRedisStreamClusterBroker(DAMStreamMixin, RedisStreamClusterBroker):
    """``redis+cluster://``: taskiq-redis ``RedisStreamClusterBroker`` + the SDK's delivery.

    The stream is one key, so it lives on one shard; acknowledgement is XACK then XDEL in a
    (non-transactional) cluster pipeline.
    """

    ack_in_transaction = False

    def __init__(
        self,
        *args: Any,
        idle_timeout: int = 600_000,
        unacknowledged_batch_size: int = 100,
        xread_count: int | None = 100,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.count = xread_count
        self._init_dam_stream(idle_timeout, unacknowledged_batch_size)

    @property
    def client(self) -> Any:
        return self.redis
