"""Result backends that store JSON (never pickle) and push completion to the waiting caller.

Stored document (JSON)::

    {"v":1,"is_err":false,"error":null,"execution_time":0.01,"return_value":<JSON>}
    {"v":1,"is_err":true,"error":{"type":"IntegrityViolationError",
     "module":"core_sdk.exceptions","message":"..."},"execution_time":0.01,"return_value":null}

The return value comes last, so a reader takes its JSON text apart without parsing it and the
caller validates it into the declared type in one pass; a document with the keys in another
order is still read (parsed as a whole).

Redis: every calling process keeps one pub/sub subscription on its own reply channel (sent
with each call in the ``dam_reply_to`` label); a waiting call registers a future before the
message is sent and is woken by the worker. Two ways for the result to travel:

* pushed (an awaited call, label ``dam_reply_push``): the worker sends
  ``PUBLISH <reply channel> <task_id>\n<doc>`` and stores nothing when the caller's process
  received it (one command, no key, and the caller needs no second round trip). When nobody
  received it (the caller's subscription is down), or the document is larger than
  ``push_max_bytes``, it falls back to the stored way. A pushed result that arrives after its
  caller stopped waiting is stored by the caller's process, so it stays readable for the TTL.
* stored (handles of ``kick``, raw ``.kiq()``, Redis Cluster): ``SET <prefix>:result:<task_id>
  <doc> EX <ttl>`` and ``PUBLISH <reply channel> <task_id>`` in one pipeline; the woken caller
  reads the result with ``GETDEL``.

taskiq's own ``AsyncTaskiqTask.wait_result()`` keeps working (``is_result_ready`` /
``get_result``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from abc import abstractmethod
from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis
from redis.exceptions import RedisError
from taskiq.abc.result_backend import AsyncResultBackend
from taskiq.result import TaskiqResult

from core_sdk.broker.codec import RawJSON, dumps, dumps_any, loads
from core_sdk.exceptions import (
    BrokerConnectionError,
    OperationTimeoutError,
    RemoteOperationError,
    ResultDecodingError,
)

__all__ = [
    "PUSH_LABEL",
    "REPLY_LABEL",
    "DAMResultBackend",
    "InMemoryJSONResultBackend",
    "RedisJSONResultBackend",
    "StoredResult",
]

logger = logging.getLogger("core_sdk.broker.result_backend")

REPLY_LABEL = "dam_reply_to"
PUSH_LABEL = "dam_reply_push"
_FORMAT_VERSION = 1
_VALUE_KEY = b',"return_value":'
_HEADER_KEYS = frozenset({"v", "is_err", "error", "execution_time"})


@dataclass(frozen=True)
class StoredResult:
    """A decoded result document. A successful result keeps its return value as JSON text
    (``return_json``, when the document has it last) and parses it (``return_value``) only when
    asked for."""

    is_err: bool
    execution_time: float
    error_type: str | None = None
    error_module: str | None = None
    error_message: str | None = None
    task_id: str = ""
    document: bytes = b"null"  # the whole document, to read the value from when asked
    return_json: bytes | None = None

    @cached_property
    def return_value(self) -> Any:
        """The return value as JSON data (None for an error)."""
        if self.is_err:
            return None
        document = _parsed(self.document, self.task_id)
        return document["return_value"]

    def to_exception(
        self,
        *,
        model_name: str | None = None,
        method_name: str | None = None,
        task_id: str | None = None,
    ) -> RemoteOperationError:
        """The caller-side exception for an error result."""
        return RemoteOperationError(
            self.error_type or "Exception",
            self.error_message or "",
            remote_module=self.error_module,
            model_name=model_name,
            method_name=method_name,
            task_id=task_id,
        )

    def to_taskiq(self) -> TaskiqResult[Any]:
        """The same result as taskiq's own type (``error`` is a RemoteOperationError)."""
        return TaskiqResult(
            is_err=self.is_err,
            return_value=self.return_value,
            execution_time=self.execution_time,
            error=self.to_exception() if self.is_err else None,
        )


def _message_of(exc: BaseException) -> str:
    """``str(exc)`` as valid UTF-8, even when ``__str__`` raises or the text has lone surrogates."""
    try:
        message = str(exc)
    except Exception:
        message = f"<{type(exc).__name__} whose message could not be printed>"
    return message.encode("utf-8", "replace").decode("utf-8")


def _document(header: dict[str, Any], value: bytes) -> bytes:
    return dumps(header)[:-1] + _VALUE_KEY + value + b"}"


def encode_result(result: TaskiqResult[Any]) -> bytes:
    """The JSON document for ``result``; never raises (an unencodable value becomes an error)."""
    header: dict[str, Any] = {
        "v": _FORMAT_VERSION,
        "is_err": False,
        "error": None,
        "execution_time": result.execution_time,
    }
    if not (result.is_err or result.error is not None):
        value = result.return_value
        if isinstance(value, RawJSON):  # execute_dam_operation's result, encoded by its type
            return _document(header, value.data)
        try:  # any other task's value is serialised as pydantic would
            return _document(header, dumps_any(value))
        except Exception as exc:
            error = {
                "type": "ResultEncodingError",
                "module": "core_sdk.exceptions",
                "message": f"the task result is not JSON-serialisable: {exc}",
            }
    else:
        raised = result.error
        error = {
            "type": type(raised).__name__ if raised is not None else "Exception",
            "module": type(raised).__module__ if raised is not None else "builtins",
            "message": _message_of(raised) if raised is not None else "unknown error",
        }
    header.update(is_err=True, error=error)
    return _document(header, b"null")


def _split_document(data: bytes) -> tuple[dict[str, Any], bytes] | None:
    """(header, return value's JSON text) of a document written by :func:`encode_result`."""
    head, found, value = data.partition(_VALUE_KEY)
    if not found or not value.endswith(b"}"):
        return None
    try:
        header = loads(head + b"}")
    except ValueError:
        return None
    if not isinstance(header, dict) or header.keys() != _HEADER_KEYS:
        return None
    return header, value[:-1]


def _refused(task_id: str, reason: object) -> ResultDecodingError:
    return ResultDecodingError(
        f"The stored result of task {task_id} is not a core_sdk JSON result document "
        f"({reason}); it was ignored."
    )


def _parsed(data: bytes, task_id: str) -> dict[str, Any]:
    """The whole document parsed and checked (ResultDecodingError when it is not ours)."""
    try:
        document = loads(data)
    except ValueError as exc:
        raise _refused(task_id, exc) from exc
    _check_header(document, task_id)
    if not document["is_err"] and "return_value" not in document:
        raise _refused(task_id, "a successful result without return_value")
    return document  # type: ignore[no-any-return]


def _check_header(document: Any, task_id: str) -> None:
    """Exactly the fields and types :func:`encode_result` writes (``true`` is not 1)."""
    if not isinstance(document, dict):
        raise _refused(task_id, "not a JSON object")
    version = document.get("v")
    if type(version) is not int or version != _FORMAT_VERSION:
        raise _refused(task_id, f"format version {version!r}, expected {_FORMAT_VERSION}")
    is_err, error = document.get("is_err"), document.get("error")
    if not isinstance(is_err, bool):
        raise _refused(task_id, f"is_err is {is_err!r}, not true or false")
    elapsed = document.get("execution_time", 0.0)
    if isinstance(elapsed, bool) or not isinstance(elapsed, int | float):
        raise _refused(task_id, f"execution_time is {elapsed!r}, not a number")
    if not is_err and error is not None:
        raise _refused(task_id, "a successful result with an error")
    if is_err and not (
        isinstance(error, dict)
        and isinstance(error.get("type"), str)
        and isinstance(error.get("message"), str)
        and isinstance(error.get("module"), str | None)
    ):
        raise _refused(task_id, "an error result without an error of type, module and message")


def decode_result(data: bytes | str, task_id: str) -> StoredResult:
    """Parse a stored document. Anything that is not our JSON format is refused, never loaded."""
    raw = data.encode() if isinstance(data, str) else data
    split = _split_document(raw)
    if split is not None:
        document, return_json = split
        _check_header(document, task_id)
    else:
        document, return_json = _parsed(raw, task_id), None
    error = document["error"] or {}
    is_err = document["is_err"]
    return StoredResult(
        is_err=is_err,
        execution_time=float(document.get("execution_time", 0.0)),
        error_type=error.get("type"),
        error_module=error.get("module"),
        error_message=error.get("message"),
        task_id=task_id,
        document=raw,
        return_json=None if is_err else return_json,
    )


def _raise_if_cancelled(task: asyncio.Task[Any] | None, cancel_requests: int) -> None:
    """Re-raise a cancellation of ``task`` requested since it had ``cancel_requests`` pending
    that a library swallowed (redis-py runs commands under 3.11's ``wait_for``)."""
    if task is not None and task.cancelling() > cancel_requests:
        raise asyncio.CancelledError


class DAMResultBackend(AsyncResultBackend[Any]):
    """Shared logic: JSON documents, futures resolved on notification, one final read on timeout."""

    def __init__(self) -> None:
        # resolved with the pushed document, or None when the result is to be read from storage
        self._futures: dict[str, asyncio.Future[bytes | None]] = {}
        #: how often the push channel (pub/sub) was lost; a wait that sees it change reports it
        self.connection_losses = 0
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- storage primitives implemented by subclasses ---------------------------------------

    @abstractmethod
    async def _store(self, task_id: str, document: bytes, reply_to: str | None) -> None:
        """Store ``document`` with the TTL and notify ``reply_to``."""

    @abstractmethod
    async def _fetch(self, task_id: str, *, delete: bool) -> bytes | None:
        """The stored document (deleting it when ``delete``), or None."""

    @abstractmethod
    async def _ensure_listening(self, timeout: float) -> None:
        """Make sure notifications for this process's reply channel are being received."""

    async def _push(self, reply_to: str, task_id: str, document: bytes) -> bool:
        """Deliver ``document`` to the waiting process only; True when it was received."""
        return False

    def reply_labels(self, *, push: bool = False) -> dict[str, str]:
        """Labels to send with a call so that its completion reaches this process.

        ``push``: the caller waits now (its future is registered), so the worker may send the
        result itself instead of storing it.
        """
        return {}

    # -- taskiq API ------------------------------------------------------------------------

    async def set_result(self, task_id: str, result: TaskiqResult[Any]) -> None:
        labels = result.labels or {}
        reply_to = labels.get(REPLY_LABEL)
        document = encode_result(result)
        pushed = bool(reply_to and labels.get(PUSH_LABEL)) and await self._push(
            str(reply_to), task_id, document
        )
        if pushed:
            return
        await self._store(task_id, document, str(reply_to) if reply_to else None)

    async def is_result_ready(self, task_id: str) -> bool:
        return await self._fetch(task_id, delete=False) is not None

    async def get_result(self, task_id: str, with_logs: bool = False) -> TaskiqResult[Any]:
        data = await self._fetch(task_id, delete=False)
        if data is None:
            raise ResultDecodingError(f"No result is stored for task {task_id} (expired?).")
        return decode_result(data, task_id).to_taskiq()

    # -- push-based waiting ----------------------------------------------------------------

    def _check_loop(self) -> None:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            if self._loop is not None:
                self._futures = {}
                self._reset_listener()
            self._loop = loop

    def _reset_listener(self) -> None:
        """Forget listener state bound to a previous event loop."""

    def _resolve(self, task_id: str, document: bytes | None = None) -> bool:
        """Wake the waiter of ``task_id`` (with the pushed ``document``); False if none."""
        future = self._futures.get(task_id)
        if future is not None and not future.done():
            future.set_result(document)
            return True
        return False

    async def expect(self, task_id: str, timeout: float) -> asyncio.Future[bytes | None]:
        """Register interest in ``task_id`` (call BEFORE sending the message)."""
        self._check_loop()
        await self._ensure_listening(timeout)
        future = self._futures.get(task_id)
        if future is None:
            assert self._loop is not None
            future = self._loop.create_future()
            self._futures[task_id] = future
        return future

    def forget(self, task_id: str) -> None:
        """Drop the registration of ``task_id``."""
        future = self._futures.pop(task_id, None)
        if future is not None and not future.done():
            future.cancel()

    async def wait(
        self, task_id: str, timeout: float, *, check_first: bool = False
    ) -> StoredResult:
        """Wait for the pushed result of ``task_id`` and consume it.

        ``expect()`` must have been called before the message was sent, or ``check_first``
        must be true (a result stored before the registration is then read immediately).
        """
        deadline = time.monotonic() + timeout
        losses = self.connection_losses
        task = asyncio.current_task()
        cancel_requests = task.cancelling() if task is not None else 0
        try:
            future = await self.expect(task_id, timeout)
            if check_first:
                data = await self._fetch(task_id, delete=True)
                _raise_if_cancelled(task, cancel_requests)
                if data is not None:
                    return decode_result(data, task_id)
            remaining = max(deadline - time.monotonic(), 0.0)
            # asyncio.wait, not wait_for: Python 3.11's wait_for returns the result and drops a
            # cancellation that arrives together with it (the caller, e.g. an aborted HTTP
            # request, would go on); wait() never swallows one, nor cancels the future
            await asyncio.wait((future,), timeout=remaining)
            pushed = future.result() if future.done() and not future.cancelled() else None
            if pushed is not None:  # the document came with the notification: nothing to read
                return decode_result(pushed, task_id)
            data = await self._fetch(task_id, delete=True)
            _raise_if_cancelled(task, cancel_requests)  # one a Redis command may have swallowed
            if data is None:
                lost = self.connection_losses != losses
                raise OperationTimeoutError(
                    f"No result for task {task_id} within {timeout:g} s; "
                    + (
                        "the connection to Redis was lost meanwhile (Redis restarted or "
                        "unreachable?): the call may have been lost, or it may still complete "
                        "in the worker."
                        if lost
                        else "the operation may still complete in the worker."
                    ),
                    task_id=task_id,
                    timeout=timeout,
                    connection_lost=lost,
                )
            return decode_result(data, task_id)
        except RedisError as exc:
            raise BrokerConnectionError(
                f"Redis failed while waiting for the result of task {task_id}: {exc}"
            ) from exc
        finally:
            self.forget(task_id)


class InMemoryJSONResultBackend(DAMResultBackend):
    """In-process backend for ``InMemoryBroker`` (ENV=test): same JSON documents, same TTL."""

    def __init__(self, ttl_seconds: float = 3600.0, max_stored_results: int = 10_000) -> None:
        super().__init__()
        self.ttl_seconds = ttl_seconds
        self.max_stored_results = max_stored_results
        self._documents: OrderedDict[str, tuple[float, bytes]] = OrderedDict()

    async def _store(self, task_id: str, document: bytes, reply_to: str | None) -> None:
        self._purge()
        while len(self._documents) >= self.max_stored_results:
            self._documents.popitem(last=False)
        self._documents[task_id] = (time.monotonic() + self.ttl_seconds, document)
        self._resolve(task_id)

    async def _fetch(self, task_id: str, *, delete: bool) -> bytes | None:
        self._purge()
        entry = self._documents.pop(task_id, None) if delete else self._documents.get(task_id)
        return entry[1] if entry is not None else None

    async def _ensure_listening(self, timeout: float) -> None:
        return None

    def _purge(self) -> None:
        now = time.monotonic()
        expired = [key for key, (expires, _) in self._documents.items() if expires <= now]
        for key in expired:
            del self._documents[key]

    def stored_document(self, task_id: str) -> bytes | None:
        """The raw stored JSON (tests and debugging)."""
        entry = self._documents.get(task_id)
        return entry[1] if entry is not None else None


class RedisJSONResultBackend(DAMResultBackend):
    """Redis backend: JSON documents with a TTL, completion pushed over pub/sub."""

    def __init__(
        self,
        redis_url: str,
        *,
        key_prefix: str = "dam",
        ttl_seconds: int = 3600,
        max_connections: int | None = None,
        push_max_bytes: int = 256 * 1024,
        **connection_kwargs: Any,
    ) -> None:
        """``push_max_bytes``: larger results are stored and read back instead of pushed
        (Redis disconnects a subscriber whose unread pub/sub output exceeds
        ``client-output-buffer-limit pubsub``, 32 MB by default)."""
        super().__init__()
        if ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be positive: results must expire")
        self.redis_url = redis_url
        self.key_prefix = key_prefix
        self.ttl_seconds = ttl_seconds
        self.push_max_bytes = push_max_bytes
        self._late: set[asyncio.Task[None]] = set()
        self._pool_kwargs: dict[str, Any] = {
            "max_connections": max_connections,
            **connection_kwargs,
        }
        self._pool: BlockingConnectionPool | None = None
        self._client: Redis | None = None
        self.reply_channel = f"{key_prefix}:reply:{uuid.uuid4().hex}"
        self._listener: asyncio.Task[None] | None = None
        self._subscribed: asyncio.Event | None = None

    def result_key(self, task_id: str) -> str:
        """Redis key holding the result of ``task_id``."""
        return f"{self.key_prefix}:result:{task_id}"

    @property
    def pool(self) -> BlockingConnectionPool:
        if self._pool is None:
            self._pool = BlockingConnectionPool.from_url(self.redis_url, **self._pool_kwargs)
        return self._pool

    @property
    def client(self) -> Redis:
        """One client over the pool (building a ``Redis`` object per command is costly)."""
        if self._client is None:
            self._client = Redis(connection_pool=self.pool)
        return self._client

    def reply_labels(self, *, push: bool = False) -> dict[str, str]:
        if push:
            return {REPLY_LABEL: self.reply_channel, PUSH_LABEL: "1"}
        return {REPLY_LABEL: self.reply_channel}

    async def _push(self, reply_to: str, task_id: str, document: bytes) -> bool:
        client = self.client
        # Redis Cluster counts only the receivers on one node: store there instead
        if len(document) > self.push_max_bytes or not isinstance(client, Redis):
            return False
        receivers = await client.publish(reply_to, task_id.encode() + b"\n" + document)
        return bool(receivers)

    async def _store(self, task_id: str, document: bytes, reply_to: str | None) -> None:
        pipe = self.client.pipeline(transaction=True)
        pipe.set(self.result_key(task_id), document, ex=self.ttl_seconds)
        if reply_to:
            pipe.publish(reply_to, task_id)
        await pipe.execute()

    async def _fetch(self, task_id: str, *, delete: bool) -> bytes | None:
        key = self.result_key(task_id)
        value = await (self.client.getdel(key) if delete else self.client.get(key))
        return value if value is None or isinstance(value, bytes) else str(value).encode()

    async def is_result_ready(self, task_id: str) -> bool:
        return bool(await self.client.exists(self.result_key(task_id)))

    def _reset_listener(self) -> None:
        self._listener = None
        self._subscribed = None
        # Connections of the pool belong to the previous loop.
        self._pool = None
        self._client = None

    async def _ensure_listening(self, timeout: float) -> None:
        if self._subscribed is None:
            self._subscribed = asyncio.Event()
        if self._listener is None or self._listener.done():
            self._listener = asyncio.get_running_loop().create_task(
                self._listen(self._subscribed), name=f"core_sdk reply listener {self.reply_channel}"
            )
        if self._subscribed.is_set():
            return
        try:
            async with asyncio.timeout(max(timeout, 0.001)):  # never swallows a cancellation
                await self._subscribed.wait()
        except TimeoutError as exc:
            raise BrokerConnectionError(
                f"Could not subscribe to the reply channel on {self._safe_url()} within "
                f"{timeout:g} s; is Redis reachable?"
            ) from exc

    def _safe_url(self) -> str:
        from sqlalchemy.engine import make_url

        try:
            return make_url(self.redis_url).render_as_string(hide_password=True)
        except Exception:
            return "Redis"

    async def _listen(self, subscribed: asyncio.Event) -> None:
        backoff = 0.05
        task = asyncio.current_task()
        while True:
            pubsub = None
            try:
                pubsub = self.client.pubsub()
                await pubsub.subscribe(self.reply_channel)
                while True:
                    message = await pubsub.get_message(timeout=5.0)
                    _raise_if_cancelled(task, 0)
                    if message is not None and message.get("type") == "subscribe":
                        break
                subscribed.set()
                backoff = 0.05
                await self._recheck_pending()
                while True:
                    message = await pubsub.get_message(timeout=30.0)
                    _raise_if_cancelled(task, 0)  # shutdown() must not wait for ever
                    if message is not None and message.get("type") == "message":
                        self._on_reply(message["data"])
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                subscribed.clear()
                self.connection_losses += 1
                logger.warning(
                    "Reply listener lost its Redis subscription (%s); reconnecting.", exc
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
            finally:
                if pubsub is not None:
                    with contextlib.suppress(Exception):
                        await pubsub.aclose()  # type: ignore[no-untyped-call]

    def _on_reply(self, data: Any) -> None:
        """``<task_id>`` (stored result) or ``<task_id>\n<document>`` (pushed result)."""
        raw = data if isinstance(data, bytes) else str(data).encode()
        task_id_bytes, pushed, document = raw.partition(b"\n")
        task_id = task_id_bytes.decode()
        if not pushed:
            self._resolve(task_id)
        elif not self._resolve(task_id, document):
            # its caller stopped waiting (timed out): keep it readable like a stored result
            task = asyncio.get_running_loop().create_task(self._store_late(task_id, document))
            self._late.add(task)
            task.add_done_callback(self._late.discard)

    async def _store_late(self, task_id: str, document: bytes) -> None:
        try:
            await self.client.set(self.result_key(task_id), document, ex=self.ttl_seconds)
        except Exception as exc:  # best effort: nobody is waiting for it
            logger.debug("Could not store the late result of task %s: %s", task_id, exc)

    async def _recheck_pending(self) -> None:
        """Results stored while the subscription was down: wake their waiters."""
        pending = [task_id for task_id, fut in self._futures.items() if not fut.done()]
        if not pending:
            return
        pipe = self.client.pipeline(transaction=False)
        for task_id in pending:
            pipe.exists(self.result_key(task_id))
        found = await pipe.execute()
        for task_id, exists in zip(pending, found, strict=True):
            if exists:
                self._resolve(task_id)

    async def shutdown(self) -> None:
        listener = self._listener
        self._listener = None
        while listener is not None and not listener.done():
            listener.cancel()  # again if redis-py swallowed the last one (3.11's wait_for)
            await asyncio.wait((listener,), timeout=1.0)
        if listener is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                listener.result()
        for task_id in list(self._futures):
            self.forget(task_id)
        pool = self._pool
        self._pool = None
        self._client = None
        if pool is not None:
            await pool.disconnect()
        await super().shutdown()
