"""Redis restarted (SIGKILL, no persistence) during a stream of calls: callers get a clear
``CoreSDKError`` within their ``_broker_timeout``; the same worker process and the same client
(including its pub/sub reply subscription) serve again once Redis is back."""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from rel_helpers import Names, RedisServer, Worker, call, wait_serving

from core_sdk.broker.result_backend import RedisJSONResultBackend
from core_sdk.exceptions import BrokerConnectionError, OperationTimeoutError

TIMEOUT = 3.0
LOOPS = 4
OUTAGE = 4.5  # longer than TIMEOUT: calls are also started while Redis is down


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    server = RedisServer().start()
    yield server
    server.stop()


@dataclass
class Outcome:
    started: float
    ended: float
    pid: int | None = None
    error: BaseException | None = None

    @property
    def seconds(self) -> float:
        return self.ended - self.started


async def test_redis_restart_during_a_stream_of_calls(
    own_redis: RedisServer,
    start_worker: Callable[..., Worker],
    make_client: Callable[..., Any],
    db: Any,
) -> None:
    names = Names(own_redis.url)
    worker = start_worker(names, REDIS_IDLE_TIMEOUT_MS="1000")
    broker = await make_client(names, REDIS_IDLE_TIMEOUT_MS=1000)
    await wait_serving(broker, [worker])
    worker_pid = await call(broker, "pid")
    tag = f"restart-{uuid.uuid4().hex[:8]}"
    outcomes: list[Outcome] = []
    stop = asyncio.Event()

    async def loop(number: int) -> None:
        index = 0
        while not stop.is_set():
            index += 1
            outcome = Outcome(started=time.monotonic(), ended=0.0)
            try:
                outcome.pid = await call(
                    broker,
                    "put",
                    TIMEOUT,
                    idempotency_key=f"{tag}-{number}-{index}",
                    tag=tag,
                    seconds=0.05,
                )
            except Exception as exc:
                outcome.error = exc
                await asyncio.sleep(0.05)
            outcome.ended = time.monotonic()
            outcomes.append(outcome)

    loops = [asyncio.create_task(loop(number)) for number in range(LOOPS)]
    try:
        await asyncio.sleep(1.5)
        killed_at = time.monotonic()
        own_redis.kill()
        await asyncio.sleep(OUTAGE)
        own_redis.start()
        restarted_at = time.monotonic()

        # the stream of calls recovers: every loop succeeds again after the restart
        deadline = restarted_at + 30
        while time.monotonic() < deadline:
            recent = [o for o in outcomes if o.started > restarted_at + 0.5]
            if sum(1 for o in recent if o.error is None) >= 3 * LOOPS:
                break
            await asyncio.sleep(0.2)
        stop.set()
        await asyncio.gather(*loops)
    finally:
        stop.set()
        for task in loops:
            task.cancel()

    if os.environ.get("REL_DEBUG"):  # what callers saw, relative to the kill
        for o in outcomes:
            if o.error is not None or o.started > killed_at:
                print(f"{o.started - killed_at:6.2f} {o.seconds:5.2f} {o.error!r}")
    before = [o for o in outcomes if o.ended < killed_at]
    failed = [o for o in outcomes if o.error is not None]
    after = [o for o in outcomes if o.started > restarted_at + 0.5 and o.error is None]
    assert before and all(o.error is None for o in before)
    assert failed, "the outage was not noticed by any call"
    assert len(after) >= 3 * LOOPS, [repr(o.error) for o in outcomes[-20:]]

    # every failure is a clear SDK error, raised within the caller's _broker_timeout
    for outcome in failed:
        assert isinstance(outcome.error, BrokerConnectionError | OperationTimeoutError), repr(
            outcome.error
        )
        assert outcome.seconds < TIMEOUT + 2.0, (outcome.seconds, repr(outcome.error))
    # calls in flight when Redis died are lost with it (no persistence): they fail, and a
    # timeout says that the connection was lost during the wait
    # (a call whose result arrived just before the kill may count as in flight: it succeeded)
    in_flight = [o for o in outcomes if o.started < killed_at < o.ended]
    assert any(o.error is not None for o in in_flight)
    for outcome in in_flight:
        if isinstance(outcome.error, OperationTimeoutError):
            assert outcome.error.connection_lost, str(outcome.error)
            assert "the connection to Redis was lost" in str(outcome.error)

    # the same worker process (no restart) served before and after, and is still running
    assert worker.alive()
    assert {o.pid for o in before} == {o.pid for o in after} == {worker_pid}
    assert "Redis unavailable while reading the stream" in worker.log()

    # the client's reply subscription came back: a result is pushed, long before the timeout
    backend = broker.result_backend
    assert isinstance(backend, RedisJSONResultBackend)
    assert backend.connection_losses >= 1
    started = time.monotonic()
    assert await call(broker, "pid", 20.0) == worker_pid
    assert time.monotonic() - started < 10.0

    # every call that returned a result has its row (committed before the result was stored)
    keys = {
        row["idempotency_key"]
        for row in await db.fetch("SELECT idempotency_key FROM rel_item WHERE tag = $1", tag)
    }
    succeeded = [o for o in outcomes if o.error is None]
    assert len(keys) >= len(succeeded)
