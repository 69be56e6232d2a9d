"""RedisStreamBroker that deletes acknowledged entries so the stream does not grow."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError
from taskiq import AckableMessage
from taskiq.message import BrokerMessage
from taskiq_redis import RedisStreamBroker

__all__ = ["DAMRedisStreamBroker"]

logger = logging.getLogger("core_sdk.broker")


class DAMRedisStreamBroker(RedisStreamBroker):
    """Consumer-group stream broker; an acknowledgement is ``XACK`` + ``XDEL`` in one round trip.

    taskiq acknowledges after the result is stored (``AcknowledgeType.WHEN_SAVED``), so a
    worker that dies mid-call leaves the entry pending for another worker to claim after
    ``idle_timeout`` ms. While a call runs, its worker refreshes the entry's claim every
    ``idle_timeout / 3`` so a long call is not handed to a second live worker. Pending entries
    are reclaimed every ``idle_timeout / 2`` (at most every
    5 s) instead of after every read, connection errors are retried with a back-off instead of
    ending the worker, and a stream entry without a ``data`` field is logged and deleted.
    """

    #: a call still running after this many seconds stops protecting its entry from being
    #: claimed by another worker (guards against an entry that is never acknowledged)
    max_claim_refresh_seconds: float = 24 * 3600.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._client: Redis | None = None
        self._tasks: set[asyncio.Future[Any]] = set()

    @property
    def client(self) -> Redis:
        """One client over the pool (building a ``Redis`` object per command is costly)."""
        if self._client is None:
            self._client = Redis(connection_pool=self.connection_pool)
        return self._client

    async def kick(self, message: BrokerMessage) -> None:
        queue_name = message.labels.get("queue_name") or self.queue_name
        await self.client.xadd(
            queue_name,
            {b"data": message.message},
            maxlen=self.maxlen,
            approximate=self.approximate,
        )

    def _ack_generator(self, id: str, queue_name: str) -> Callable[[], Awaitable[None]]:
        async def _ack() -> None:
            pipe = self.client.pipeline(transaction=True)
            pipe.xack(queue_name, self.consumer_group_name, id)
            pipe.xdel(queue_name, id)
            await pipe.execute()

        return _ack

    def _message(self, stream: Any, msg_id: Any, fields: Any) -> AckableMessage | None:
        stream_name = stream.decode() if isinstance(stream, bytes) else str(stream)
        ack = self._ack_generator(id=msg_id, queue_name=stream_name)
        data = fields.get(b"data") if isinstance(fields, dict) else None
        if not isinstance(data, bytes):
            logger.warning(
                "Deleting stream entry %r of %s: it has no 'data' field.", msg_id, stream_name
            )
            self._background(ack())
            return None
        heartbeat = self._background(self._keep_claimed(stream_name, msg_id))

        async def ack_and_stop() -> None:
            heartbeat.cancel()
            await ack()

        return AckableMessage(data=data, ack=ack_and_stop)

    def _background(self, awaitable: Awaitable[Any]) -> asyncio.Future[Any]:
        future = asyncio.ensure_future(awaitable)
        self._tasks.add(future)
        future.add_done_callback(self._tasks.discard)
        return future

    async def _keep_claimed(self, stream_name: str, msg_id: Any) -> None:
        """While this worker runs the call, reset the entry's idle time so that no other
        worker claims it (a dead worker stops refreshing and the entry is claimed)."""
        interval = max(self.idle_timeout / 3000.0, 0.05)
        deadline = time.monotonic() + self.max_claim_refresh_seconds
        while time.monotonic() < deadline:
            await asyncio.sleep(interval)
            try:
                await self.client.xclaim(
                    stream_name,
                    self.consumer_group_name,
                    self.consumer_name,
                    min_idle_time=0,
                    message_ids=[msg_id],
                    justid=True,
                )
            except Exception as exc:  # best effort; retried at the next interval
                logger.debug("Could not refresh the claim on %r: %s", msg_id, exc)

    async def listen(self) -> AsyncGenerator[AckableMessage, None]:
        """Read new entries (XREADGROUP) and, periodically, claim idle ones (XAUTOCLAIM)."""
        claim_every = max(min(self.idle_timeout / 2000.0, 5.0), 0.05)
        next_claim = 0.0
        backoff = 0.1
        streams = [self.queue_name, *self.additional_streams.keys()]
        while True:
            try:
                fetched: Any = await self.client.xreadgroup(
                    self.consumer_group_name,
                    self.consumer_name,
                    {self.queue_name: ">", **self.additional_streams},  # type: ignore[dict-item]
                    block=self.block,
                    noack=False,
                    count=self.count,
                )
                for stream, entries in fetched or []:
                    for msg_id, fields in entries:
                        message = self._message(stream, msg_id, fields)
                        if message is not None:
                            yield message
                now = time.monotonic()
                if now >= next_claim:
                    next_claim = now + claim_every
                    for stream_name in streams:
                        claimed: Any = await self.client.xautoclaim(
                            name=stream_name,
                            groupname=self.consumer_group_name,
                            consumername=self.consumer_name,
                            min_idle_time=self.idle_timeout,
                            count=self.unacknowledged_batch_size,
                        )
                        for msg_id, fields in claimed[1]:
                            logger.info("Claimed idle entry %r of %s.", msg_id, stream_name)
                            message = self._message(stream_name, msg_id, fields)
                            if message is not None:
                                yield message
                backoff = 0.1
            except ResponseError as exc:
                if "NOGROUP" not in str(exc):
                    raise
                logger.warning("Consumer group missing (Redis restarted?); declaring it again.")
                await self._declare_consumer_group()
            except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
                logger.warning("Redis unavailable while reading the stream (%s); retrying.", exc)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    async def shutdown(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        self._client = None
        await super().shutdown()
