"""A call is acknowledged only after its result is stored: when storing fails, the entry stays
pending, is run again after the idle time, and the caller still gets its result (the idempotent
DAM method makes the repeated run harmless). taskiq itself would acknowledge it anyway."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis.asyncio as aioredis
from rel_helpers import Names, RedisServer, Worker, call, wait_for, wait_serving, wait_stream

from core_sdk.broker.client import kick_operation, wait_operation

IDLE_MS = 1000


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    server = RedisServer().start()
    yield server
    server.stop()


async def test_result_that_cannot_be_stored_is_not_acknowledged(
    own_redis: RedisServer,
    start_worker: Callable[..., Worker],
    make_client: Callable[..., Any],
    db: Any,
) -> None:
    names = Names(own_redis.url)
    worker = start_worker(names, REDIS_IDLE_TIMEOUT_MS=str(IDLE_MS))
    broker = await make_client(names, REDIS_IDLE_TIMEOUT_MS=IDLE_MS)
    await wait_serving(broker, [worker])
    pid = await call(broker, "pid")
    tag = f"unsaved-{uuid.uuid4().hex[:8]}"
    admin = aioredis.Redis.from_url(own_redis.url)
    try:
        await wait_stream(names, 0, 0)  # earlier calls acknowledged
        # a started call whose result is stored for later (a handle: `broker.kick.x(...)`);
        # an awaited call's result is pushed to the caller instead (PUBLISH is never refused)
        task_id = await kick_operation(
            "RelItem",
            "put",
            [],
            {"idempotency_key": tag, "tag": tag, "seconds": 1.0},
            None,
            broker=broker,
        )

        await wait_stream(names, 1, 1)  # the worker took it
        # Redis now refuses writes that need memory: storing the result (SET) fails
        await admin.config_set("maxmemory", "1")
        await wait_for(
            lambda: "could not be stored; leaving the entry unacknowledged" in worker.log(),
            10,
            "the failed store",
        )
        await admin.config_set("maxmemory", "0")
        # the entry was left pending: claimed again after the idle time, run again, stored
        stored = await wait_operation(task_id, 20, broker=broker, check_first=True)
        assert (stored.is_err, stored.return_value) == (False, pid)
    finally:
        await admin.aclose()
    attempts = await db.fetchval("SELECT count(*) FROM rel_attempt WHERE tag = $1", tag)
    items = await db.fetchval("SELECT count(*) FROM rel_item WHERE tag = $1", tag)
    assert (attempts, items) == (2, 1)  # ran twice (at least once), one change (idempotent)
    assert "Claimed idle entry" in worker.log()
    assert worker.alive()
