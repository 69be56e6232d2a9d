"""Delivery through real worker processes: claims survive long calls, a killed worker's call is
taken over by another worker (at-least-once)."""

from __future__ import annotations

import asyncio
import signal
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import redis.asyncio as aioredis
from core_helpers import redis_settings, spawn_worker, stop_worker, wait_until_serving
from taskiq import AsyncBroker

from core_sdk.broker.client import call_operation
from core_sdk.broker.setup import build_broker
from core_sdk.data_access import DataAccessManagerFactory
from core_sdk.exceptions import RemoteOperationError

IDLE_MS = 1000


class Names:
    """Redis names of one test, under the session's prefix (cleaned up with it)."""

    def __init__(self, base: Any) -> None:
        tag = f"{base.key_prefix}:claims{uuid.uuid4().hex[:6]}"
        self.url = base.url
        self.queue_name = f"{tag}:queue"
        self.key_prefix = tag
        self.consumer_group = f"{tag}:workers"

    def env(self) -> dict[str, str]:
        return {
            "REDIS_URL": self.url,
            "REDIS_QUEUE_NAME": self.queue_name,
            "REDIS_KEY_PREFIX": self.key_prefix,
            "REDIS_CONSUMER_GROUP": self.consumer_group,
            "REDIS_IDLE_TIMEOUT_MS": str(IDLE_MS),
        }


@pytest.fixture
async def cluster(
    database: str, redis_names: Any
) -> AsyncIterator[tuple[Names, Callable[..., Any], AsyncBroker]]:
    names = Names(redis_names)
    started: list[Any] = []

    def start(**env: str) -> Any:
        process = spawn_worker(database, names.env(), **env)
        started.append(process)
        return process

    broker = build_broker(redis_settings(names, database, REDIS_IDLE_TIMEOUT_MS=IDLE_MS))
    await broker.startup()
    try:
        yield names, start, broker
    finally:
        await broker.shutdown()
        for process in started:
            stop_worker(process)


async def executions(tag: str) -> int:
    page = await DataAccessManagerFactory().get_manager("Depot").list(filters={"city": tag})
    return len(page.items)


async def test_a_call_over_the_operation_timeout_is_cancelled_rolled_back_and_acked(
    cluster: tuple[Names, Callable[..., Any], AsyncBroker],
) -> None:
    names, start, broker = cluster
    worker = start(OPERATION_TIMEOUT_SECONDS="1")
    await wait_until_serving(broker, [worker])
    name = f"hang-{uuid.uuid4().hex[:8]}"
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(RemoteOperationError) as caught:
        await call_operation(
            "Depot", "write_then_hang", [], {"name": name}, None, 20, broker=broker
        )
    assert loop.time() - started < 5
    error = caught.value
    assert error.remote_type == "ExecutionTimeoutError"
    assert error.message.startswith(
        "Depot.write_then_hang was cancelled after 1 s, the worker's limit "
        "(OPERATION_TIMEOUT_SECONDS)"
    )
    page = await DataAccessManagerFactory().get_manager("Depot").list(filters={"name": name})
    assert page.items == []  # its transaction was rolled back
    client = aioredis.Redis.from_url(names.url)
    try:  # acknowledged: not pending, not run again
        for _ in range(100):
            if await client.xlen(names.queue_name) == 0:
                break
            await asyncio.sleep(0.05)
        assert await client.xlen(names.queue_name) == 0
    finally:
        await client.aclose()
    assert await call_operation("Depot", "ping", [], {}, None, 10, broker=broker) == "pong"
    assert worker.poll() is None


async def test_long_call_is_not_handed_to_a_second_live_worker(
    cluster: tuple[Names, Callable[..., Any], AsyncBroker],
) -> None:
    _, start, broker = cluster
    workers = [start(), start()]
    await wait_until_serving(broker, workers)
    tag = f"long-{uuid.uuid4().hex[:8]}"
    seconds = 3 * IDLE_MS / 1000
    result = await call_operation(
        "Depot", "record_run", [], {"tag": tag, "seconds": seconds}, None, 30, broker=broker
    )
    assert result == tag
    # a second execution, had the entry been claimed, would finish within ~idle + seconds
    await asyncio.sleep(IDLE_MS / 1000 + 1.5)
    assert await executions(tag) == 1
    assert all(w.poll() is None for w in workers)


async def test_killed_workers_call_is_claimed_by_another_worker(
    cluster: tuple[Names, Callable[..., Any], AsyncBroker],
) -> None:
    names, start, broker = cluster
    first = start()
    await wait_until_serving(broker, [first])
    tag = f"killed-{uuid.uuid4().hex[:8]}"
    call = asyncio.create_task(
        call_operation(
            "Depot", "record_run", [], {"tag": tag, "seconds": 2.0}, None, 60, broker=broker
        )
    )
    client = aioredis.Redis.from_url(names.url)
    try:
        for _ in range(200):  # the first worker has taken the call
            pending = await client.xpending(names.queue_name, names.consumer_group)
            if pending["pending"] == 1:
                break
            await asyncio.sleep(0.05)
        assert pending["pending"] == 1
        stop_worker(first, signal.SIGKILL)
        second = start()
        assert await call == tag  # the second worker claimed the idle entry and ran it
        assert await executions(tag) == 1  # the killed run never committed
        for _ in range(100):
            if await client.xlen(names.queue_name) == 0:
                break
            await asyncio.sleep(0.05)
        assert await client.xlen(names.queue_name) == 0
        assert second.poll() is None
    finally:
        call.cancel()
        await client.aclose()
