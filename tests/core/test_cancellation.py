"""A caller's wait for a result is cancellable at any moment, also as the result arrives."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from typing import Any

from taskiq import TaskiqResult

from core_sdk.broker.result_backend import (
    DAMResultBackend,
    InMemoryJSONResultBackend,
    RedisJSONResultBackend,
    encode_result,
)

DOCUMENT = encode_result(TaskiqResult(is_err=False, return_value="done", execution_time=0.0))


async def cancel_around_arrival(backend: DAMResultBackend, arrive: Any) -> tuple[int, int]:
    """Cancel waiting callers just before, as and just after their result arrives.

    Returns (cancellations delivered to a waiting caller, results returned despite one).
    """
    delivered = swallowed = 0
    schedules = itertools.product(range(3), range(3), (True, False))
    for before, between, arrival_first in list(schedules) * 6:
        task_id = uuid.uuid4().hex
        await backend.expect(task_id, 5)
        waiter = asyncio.create_task(backend.wait(task_id, 5))
        for _ in range(before):
            await asyncio.sleep(0)
        if arrival_first:
            arrive(task_id)
        for _ in range(between):
            await asyncio.sleep(0)
        cancelled = waiter.cancel()
        if not arrival_first:
            arrive(task_id)
        try:
            await waiter
        except asyncio.CancelledError:
            pass
        else:
            swallowed += cancelled
        delivered += cancelled
    return delivered, swallowed


async def test_cancellation_of_a_waiting_caller_is_never_swallowed_in_memory() -> None:
    backend = InMemoryJSONResultBackend()

    def arrive(task_id: str) -> None:
        backend._resolve(task_id, DOCUMENT)  # as a pushed result wakes its waiter

    delivered, swallowed = await cancel_around_arrival(backend, arrive)
    assert delivered > 20 and swallowed == 0


async def test_cancellation_of_a_waiting_caller_is_never_swallowed_redis(redis_names: Any) -> None:
    backend = RedisJSONResultBackend(redis_names.url, key_prefix=redis_names.key_prefix)
    try:

        def arrive(task_id: str) -> None:  # what the reply listener does with a push
            backend._on_reply(task_id.encode() + b"\n" + DOCUMENT)

        delivered, swallowed = await cancel_around_arrival(backend, arrive)
        assert delivered > 20 and swallowed == 0
        # and a wait that is not cancelled still gets its pushed result
        task_id = uuid.uuid4().hex
        await backend.expect(task_id, 5)
        waiter = asyncio.create_task(backend.wait(task_id, 5))
        await asyncio.sleep(0)
        arrive(task_id)
        assert (await waiter).return_value == "done"
    finally:
        await backend.shutdown()
