"""Consumers of the stream's group: one per worker process, deleted again when it stops."""

from __future__ import annotations

import asyncio
import re
import signal
import socket
import uuid
from collections.abc import Callable
from typing import Any

import redis.asyncio as aioredis
from rel_helpers import Names, Worker, call, wait_for, wait_serving, wait_stream

from core_sdk.broker.stream import DAMStreamMixin


async def consumers(client: Any, names: Names) -> dict[str, int]:
    """Consumer name -> pending entries."""
    found = await client.xinfo_consumers(names.queue_name, names.consumer_group)
    return {entry["name"].decode(): entry["pending"] for entry in found}


async def test_each_worker_process_is_its_own_consumer_and_leaves_on_sigterm(
    names: Names, start_worker: Callable[..., Worker], make_client: Callable[..., Any]
) -> None:
    worker = start_worker(names, "--workers", "2")
    broker = await make_client(names)
    await wait_serving(broker, [worker])
    await wait_for(lambda: worker.log().count("Listening started") == 2, 30, "both processes")
    pids = set(worker.children())
    assert len(pids) == 2
    tag = uuid.uuid4().hex[:8]
    served: set[int] = set()
    for attempt in range(20):  # Redis lists a consumer once it has read something
        served |= set(
            await asyncio.gather(
                *(
                    call(broker, "put", 30, idempotency_key=f"{tag}-{attempt}-{n}", tag=tag)
                    for n in range(40)
                )
            )
        )
        if served == pids:
            break
    assert served == pids
    client = aioredis.Redis.from_url(names.url)
    try:
        running = await consumers(client, names)
        pattern = re.compile(rf"{re.escape(socket.gethostname())}-(\d+)-[0-9a-f]{{6}}")
        matches = [pattern.fullmatch(name) for name in running]
        assert all(matches), running
        assert {int(m.group(1)) for m in matches if m} == pids  # one consumer per process

        worker.signal_group(signal.SIGTERM)
        assert await asyncio.to_thread(worker.wait_exit, 15) == 0, worker.log()
        assert await consumers(client, names) == {}, worker.log()
    finally:
        await client.aclose()


async def test_a_consumer_holding_an_unfinished_call_is_kept(
    names: Names, start_worker: Callable[..., Worker], make_client: Callable[..., Any]
) -> None:
    worker = start_worker(names, "--wait-tasks-timeout", "0.5")
    broker = await make_client(names)
    await wait_serving(broker, [worker])
    await wait_stream(names, 0, 0)
    long = asyncio.create_task(
        call(broker, "put", 30, idempotency_key=uuid.uuid4().hex, tag="kept", seconds=30)
    )
    client = aioredis.Redis.from_url(names.url)
    try:
        await wait_stream(names, 1, 1)
        worker.signal_group(signal.SIGTERM)
        assert await asyncio.to_thread(worker.wait_exit, 15) == 0, worker.log()
        # deleting it would have deleted the pending entry with it: the call would be lost
        assert list((await consumers(client, names)).values()) == [1], worker.log()
        assert await client.xlen(names.queue_name) == 1
    finally:
        long.cancel()
        await client.aclose()


async def test_start_up_deletes_idle_consumers_that_hold_nothing(
    names: Names, make_client: Callable[..., Any]
) -> None:
    broker: DAMStreamMixin = await make_client(names)
    client = aioredis.Redis.from_url(names.url)
    try:
        queue, group = names.queue_name, names.consumer_group
        await client.xgroup_createconsumer(queue, group, "killed-empty")
        await client.xadd(queue, {b"data": b"{}"})
        await client.xreadgroup(group, "killed-holding", {queue: ">"}, count=1)
        await asyncio.sleep(0.3)
        await client.xgroup_createconsumer(queue, group, "recent")
        assert await broker.delete_dead_consumers(0.2) == 1
        assert await consumers(client, names) == {"killed-holding": 1, "recent": 0}
    finally:
        await client.aclose()
