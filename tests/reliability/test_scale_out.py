"""Several worker processes on one consumer group: they share the load; a call longer than the
idle time runs once; 500 calls in flight survive a SIGKILLed worker (at-least-once + an
idempotent DAM method = every intended change present exactly once)."""

from __future__ import annotations

import asyncio
import collections
import time
import uuid
from collections.abc import Callable
from typing import Any

import redis.asyncio as aioredis
from rel_helpers import Names, Worker, call, wait_for, wait_serving

IDLE_MS = 1000


async def test_worker_processes_share_the_load(
    names: Names, start_worker: Callable[..., Worker], make_client: Callable[..., Any], db: Any
) -> None:
    # two `taskiq worker` commands, one of them with two processes: three consumers
    workers = [
        start_worker(names, "--max-async-tasks", "5"),
        start_worker(names, "--max-async-tasks", "5", "--workers", "2"),
    ]
    broker = await make_client(names)
    await wait_serving(broker, workers)
    await wait_for(
        lambda: [w.log().count("Listening started") for w in workers] == [1, 2],
        30,
        "all three processes to listen",
    )
    pids = set(workers[0].children()) | set(workers[1].children())
    assert len(pids) == 3
    tag = f"share-{uuid.uuid4().hex[:8]}"
    results = await asyncio.gather(
        *(
            call(broker, "put", 60, idempotency_key=f"{tag}-{n}", tag=tag, seconds=0.2)
            for n in range(300)
        )
    )
    per_pid = collections.Counter(results)
    assert set(per_pid) == pids, per_pid
    assert min(per_pid.values()) >= 30, per_pid  # every process did a real share (>= 10 %)
    by_db = dict(
        await db.fetch("SELECT pid, count(*) FROM rel_item WHERE tag = $1 GROUP BY pid", tag)
    )
    assert by_db == dict(per_pid)


async def test_call_three_times_longer_than_the_idle_time_runs_once_with_two_workers(
    names: Names, start_worker: Callable[..., Worker], make_client: Callable[..., Any], db: Any
) -> None:
    env = {"REDIS_IDLE_TIMEOUT_MS": str(IDLE_MS)}
    workers = [start_worker(names, **env), start_worker(names, **env)]
    broker = await make_client(names, REDIS_IDLE_TIMEOUT_MS=IDLE_MS)
    await wait_serving(broker, workers)
    tag = f"long-{uuid.uuid4().hex[:8]}"
    seconds = 3 * IDLE_MS / 1000
    pid = await call(broker, "put", 30, idempotency_key=tag, tag=tag, seconds=seconds)
    # a second execution, had the entry been claimed, would end within ~idle + seconds
    await asyncio.sleep(IDLE_MS / 1000 + 1.5)
    attempts = await db.fetch("SELECT pid FROM rel_attempt WHERE tag = $1", tag)
    assert [row["pid"] for row in attempts] == [pid]
    assert all(worker.alive() for worker in workers)
    assert not any("Claimed idle entry" in worker.log() for worker in workers)


async def test_500_calls_in_flight_survive_a_sigkilled_worker(
    names: Names, start_worker: Callable[..., Worker], make_client: Callable[..., Any], db: Any
) -> None:
    env = {"REDIS_IDLE_TIMEOUT_MS": str(IDLE_MS)}
    args = ("--max-async-tasks", "25")
    victim, survivor = start_worker(names, *args, **env), start_worker(names, *args, **env)
    broker = await make_client(names, REDIS_IDLE_TIMEOUT_MS=IDLE_MS)
    await wait_serving(broker, [victim, survivor])
    await wait_for(lambda: victim.children() and survivor.children(), 20, "worker processes")
    victim_pid, survivor_pid = victim.children()[0], survivor.children()[0]
    tag = f"kill-{uuid.uuid4().hex[:8]}"
    total = 500
    done: list[int] = []

    async def one(n: int) -> int:
        pid = int(
            await call(broker, "put", 120, idempotency_key=f"{tag}-{n}", tag=tag, seconds=0.3)
        )
        done.append(pid)
        return pid

    started = time.monotonic()
    calls = [asyncio.create_task(one(n)) for n in range(total)]
    try:
        await wait_for(lambda: len(done) >= total // 2, 60, "half of the calls")
        assert victim_pid in done and survivor_pid in done  # both were working
        victim.kill()  # SIGKILL, mid-stream: its running and held calls are abandoned
        killed_after = len(done)
        results = await asyncio.wait_for(asyncio.gather(*calls), 120)
    finally:
        for task in calls:
            task.cancel()
    elapsed = time.monotonic() - started

    assert len(results) == total  # every call completed for its caller
    assert killed_after < total
    assert set(results[killed_after:]) <= {victim_pid, survivor_pid}
    # every intended change is present exactly once
    keys = await db.fetch("SELECT idempotency_key FROM rel_item WHERE tag = $1", tag)
    assert len(keys) == total
    assert {row["idempotency_key"] for row in keys} == {f"{tag}-{n}" for n in range(total)}
    attempts = await db.fetchval("SELECT count(*) FROM rel_attempt WHERE tag = $1", tag)
    assert attempts >= total  # > total: a committed run was repeated (at-least-once)
    assert survivor.alive()
    assert "Claimed idle entry" in survivor.log()  # the victim's calls were taken over
    client = aioredis.Redis.from_url(names.url)
    try:

        async def drained() -> bool:
            info = await client.xpending(names.queue_name, names.consumer_group)
            return bool(info["pending"] == 0 and await client.xlen(names.queue_name) == 0)

        await wait_for(drained, 10, "the stream to drain")
    finally:
        await client.aclose()
    print(
        f"\n500 calls, 1 of 2 workers SIGKILLed after {killed_after} results: all completed in "
        f"{elapsed:.1f} s; {attempts - total} committed re-run(s) absorbed by the idempotency key"
    )
