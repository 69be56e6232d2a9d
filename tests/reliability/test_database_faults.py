"""PostgreSQL failing inside a DAM method or unavailable: the transaction is rolled back, the caller
gets the error, nothing partial remains, the worker keeps serving. Also: a message for a task
the worker does not know is reported to its caller."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import redis.asyncio as aioredis
from rel_helpers import Names, Worker, call, free_port, wait_for, wait_serving
from sqlalchemy.engine import make_url
from taskiq import AsyncBroker

from core_sdk.broker.result_backend import REPLY_LABEL, RedisJSONResultBackend
from core_sdk.exceptions import RemoteOperationError


@pytest.fixture
async def serving(
    names: Names, start_worker: Callable[..., Worker], make_client: Callable[..., Any]
) -> AsyncIterator[tuple[Worker, AsyncBroker]]:
    worker = start_worker(names)
    broker = await make_client(names)
    await wait_serving(broker, [worker])
    yield worker, broker


async def rows(db: Any, key: str) -> int:
    return int(await db.fetchval("SELECT count(*) FROM rel_item WHERE idempotency_key = $1", key))


@pytest.mark.parametrize(
    ("method", "remote_type", "text"),
    [
        ("write_then_fail", "ValueError", "failed after writing"),
        ("write_then_sql_error", "DBAPIError", "division by zero"),
        ("write_then_lose_connection", None, "terminat"),
    ],
)
async def test_failure_after_a_write_rolls_back_and_the_worker_keeps_serving(
    serving: tuple[Worker, AsyncBroker], db: Any, method: str, remote_type: str | None, text: str
) -> None:
    worker, broker = serving
    pid = await call(broker, "pid")
    key = f"{method}-{uuid.uuid4().hex[:8]}"
    with pytest.raises(RemoteOperationError) as caught:
        await call(broker, method, 10, idempotency_key=key)
    if remote_type is not None:
        assert caught.value.remote_type == remote_type, caught.value
    assert text in str(caught.value).lower(), caught.value
    assert await rows(db, key) == 0  # the row written before the failure was rolled back
    # the same worker process goes on, and its database pool recovers
    after = f"after-{key}"
    assert await call(broker, "put", 10, idempotency_key=after, tag="after") == pid
    assert await rows(db, after) == 1
    assert worker.alive() and worker.children() == [pid]


class Forwarder:
    """A local TCP port forwarding to PostgreSQL, switched on and off by the test."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.port = free_port()
        self.target = target
        self.server: asyncio.Server | None = None
        self.streams: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._forward, "127.0.0.1", self.port)

    async def stop(self) -> None:
        """Stop listening and cut every open connection (PostgreSQL is gone)."""
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None
        for writer in list(self.streams):
            writer.close()

    async def _forward(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self.streams |= {writer, up_writer}

        async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.close()
            self.streams.discard(sink)

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))


async def test_database_unreachable_at_start_then_lost_then_back(
    names: Names, rel_db: str, start_worker: Callable[..., Worker], make_client: Callable[..., Any]
) -> None:
    url = make_url(rel_db)
    forwarder = Forwarder((url.host or "127.0.0.1", url.port or 5432))
    through = url.set(host="127.0.0.1", port=forwarder.port).render_as_string(hide_password=False)
    worker = start_worker(names, DATABASE_URL=through)
    broker = await make_client(names)
    try:
        # unreachable at start: each start of the worker process fails, naming DATABASE_URL
        await wait_for(lambda: worker.log().count(" is unreachable: ") >= 2, 20, "failed starts")
        shown = url.set(host="127.0.0.1", port=forwarder.port).render_as_string()
        assert f"Worker start-up failed: DATABASE_URL ({shown}) is unreachable" in worker.log()
        assert "Worker context ready" not in worker.log() and worker.alive()

        # the database answers: the next start succeeds and the worker serves
        await forwarder.start()
        await wait_serving(broker, [worker], timeout=30)
        pid = await call(broker, "put", 10, idempotency_key=uuid.uuid4().hex, tag="reachable")

        # lost while the worker runs: every call that uses it fails, the worker goes on
        await forwarder.stop()
        for attempt in range(3):
            with pytest.raises(RemoteOperationError) as caught:
                await call(broker, "put", 10, idempotency_key=f"k{attempt}", tag="unreachable")
            assert str(forwarder.port) in str(caught.value), caught.value
        assert await call(broker, "pid") == pid

        # back: the same worker process uses it again
        await forwarder.start()
        assert await call(broker, "put", 10, idempotency_key=uuid.uuid4().hex, tag="back") == pid
        assert worker.alive()
    finally:
        await forwarder.stop()


async def test_unknown_task_is_reported_to_the_caller(
    serving: tuple[Worker, AsyncBroker], names: Names
) -> None:
    worker, broker = serving
    backend = broker.result_backend
    assert isinstance(backend, RedisJSONResultBackend)
    task_id = uuid.uuid4().hex
    await backend.expect(task_id, 10)
    message = {
        "task_id": task_id,
        "task_name": "app.tasks:no_such_task",
        "labels": {REPLY_LABEL: backend.reply_channel},
        "labels_types": None,
        "args": [1],
        "kwargs": {"x": 2},
    }
    client = aioredis.Redis.from_url(names.url)
    try:
        await client.xadd(names.queue_name, {b"data": json.dumps(message).encode()})
        stored = await backend.wait(task_id, 10)
    finally:
        await client.aclose()
    assert stored.is_err and stored.error_type == "OperationRefusedError"
    assert "Refused task 'app.tasks:no_such_task': this worker has no such task" in (
        stored.error_message or ""
    )
    assert await call(broker, "pid") in worker.children()
