"""SIGTERM: the stock ``taskiq worker`` stops taking calls, finishes what it runs within the grace
period (``--wait-tasks-timeout``), exits, and leaves unfinished calls to another worker."""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import redis.asyncio as aioredis
from rel_helpers import Names, Worker, call, wait_for, wait_serving, wait_stream

IDLE_MS = 1000
GRACE = 4.0
SHUTDOWN_TIMEOUT = 3.0


@pytest.mark.parametrize("target", ["main process", "process group"])
async def test_idle_worker_exits_promptly_on_sigterm(
    names: Names,
    start_worker: Callable[..., Worker],
    make_client: Callable[..., Any],
    target: str,
) -> None:
    worker = start_worker(names)
    broker = await make_client(names)
    await wait_serving(broker, [worker])
    started = time.monotonic()
    if target == "main process":  # Kubernetes and `docker stop` signal PID 1 only
        os.kill(worker.pid, signal.SIGTERM)
    else:
        worker.signal_group(signal.SIGTERM)
    code = worker.wait_exit(timeout=15)
    assert code == 0, worker.log()
    # the main process polls its action queue every second, the read blocks 0.5 s
    assert time.monotonic() - started < 10, worker.log()


async def test_sigterm_finishes_running_calls_within_the_grace_period(
    names: Names,
    start_worker: Callable[..., Worker],
    make_client: Callable[..., Any],
    db: Any,
) -> None:
    env = {"REDIS_IDLE_TIMEOUT_MS": str(IDLE_MS)}
    first = start_worker(
        names,
        "--wait-tasks-timeout",
        str(GRACE),
        "--shutdown-timeout",
        str(SHUTDOWN_TIMEOUT),
        **env,
    )
    broker = await make_client(names, REDIS_IDLE_TIMEOUT_MS=IDLE_MS)
    await wait_serving(broker, [first])
    first_pid = await call(broker, "pid")
    tag = f"term-{uuid.uuid4().hex[:8]}"

    await wait_stream(names, 0, 0)  # earlier calls acknowledged: only ours will be there
    short = asyncio.create_task(
        call(broker, "put", 30, idempotency_key=f"{tag}-short", tag=tag, seconds=1.0)
    )
    long = asyncio.create_task(
        call(broker, "put", 60, idempotency_key=f"{tag}-long", tag=tag, seconds=GRACE + 2)
    )
    client = aioredis.Redis.from_url(names.url)
    try:
        await wait_stream(names, 2, 2)  # the worker took both

        sent = time.monotonic()
        first.signal_group(signal.SIGTERM)
        await wait_for(
            lambda: "Stopping prefetching messages" in first.log(), 10, "the worker to stop reading"
        )
        late = asyncio.create_task(
            call(broker, "put", 60, idempotency_key=f"{tag}-late", tag=tag, seconds=0.0)
        )

        # the call that fits in the grace period completes, in the terminating worker
        assert await short == first_pid
        # the worker exits once the grace period is over (it does not wait for the long call)
        code = await asyncio.to_thread(first.wait_exit, GRACE + SHUTDOWN_TIMEOUT + 10)
        assert code == 0, first.log()
        assert time.monotonic() - sent < GRACE + SHUTDOWN_TIMEOUT + 5, first.log()
        assert "Shutting down with 1 call(s) unfinished" in first.log()
        assert not late.done() and not long.done()

        # nothing ran the late call or committed the long one; both are still in the stream
        rows = await db.fetch("SELECT idempotency_key FROM rel_item WHERE tag = $1", tag)
        assert {row["idempotency_key"] for row in rows} == {f"{tag}-short"}
        assert await client.xlen(names.queue_name) == 2

        # another worker runs both: the unfinished one after the idle time
        second = start_worker(names, **env)
        second_pid_of_long = await long
        second_pid_of_late = await late
        assert second_pid_of_long == second_pid_of_late != first_pid
        assert second.alive()
        rows = await db.fetch(
            "SELECT idempotency_key, pid FROM rel_item WHERE tag = $1 ORDER BY idempotency_key",
            tag,
        )
        assert [(r["idempotency_key"], r["pid"]) for r in rows] == [
            (f"{tag}-late", second_pid_of_late),
            (f"{tag}-long", second_pid_of_long),
            (f"{tag}-short", first_pid),
        ]
        attempts = await db.fetchval("SELECT count(*) FROM rel_attempt WHERE tag = $1", tag)
        assert attempts == 3  # the interrupted run of the long call committed nothing

        async def stream_empty() -> bool:
            return bool(await client.xlen(names.queue_name) == 0)

        await wait_for(stream_empty, 10, "the stream to be empty")
    finally:
        await client.aclose()
