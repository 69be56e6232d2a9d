"""Redis specifics: JSON-only storage with a TTL, pushed completion, taskiq compatibility."""

from __future__ import annotations

import asyncio
import json
import pickle
import uuid
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from taskiq import AsyncBroker

from core_sdk.broker.client import call_operation, kick_operation, result_backend_of
from core_sdk.broker.operations import TASK_NAME
from core_sdk.broker.result_backend import RedisJSONResultBackend
from core_sdk.broker.tasks import execute_dam_operation
from core_sdk.exceptions import RemoteOperationError, ResultDecodingError

PLANTED: list[str] = []


class Planted:
    """Unpickling this would append to PLANTED."""

    def __reduce__(self) -> Any:
        return (PLANTED.append, ("unpickled!",))


@pytest.fixture
async def redis_client(redis_names: Any) -> Any:
    client = aioredis.Redis.from_url(redis_names.url)
    yield client
    await client.aclose()


def backend(broker: AsyncBroker) -> RedisJSONResultBackend:
    result_backend = result_backend_of(broker)
    assert isinstance(result_backend, RedisJSONResultBackend)
    return result_backend


async def test_taskiq_wait_result_still_works(redis_broker: AsyncBroker) -> None:
    kicker = execute_dam_operation.kicker().with_broker(redis_broker)
    task = await kicker.kiq("Depot", "echo_str", [], {"value": "plain taskiq"})
    result = await task.wait_result(timeout=10)
    assert not result.is_err and result.return_value == "plain taskiq"

    failing = await kicker.kiq("Depot", "boom", [], {"message": "via taskiq"})
    failed = await failing.wait_result(timeout=10)
    assert failed.is_err and isinstance(failed.error, RemoteOperationError)
    assert failed.error.remote_type == "ValueError" and failed.error.message == "via taskiq"


async def test_results_are_json_with_a_ttl_and_never_pickle(
    redis_broker: AsyncBroker, redis_names: Any, redis_client: Any
) -> None:
    result_backend = backend(redis_broker)
    kicker = execute_dam_operation.kicker().with_broker(redis_broker)
    task = await kicker.kiq("Depot", "echo_decimal", [], {"value": "1.250"})
    await task.wait_result(timeout=10)

    raw = await redis_client.get(result_backend.result_key(task.task_id))
    assert raw is not None and not raw.startswith(b"\x80")  # pickle protocol 2+ magic
    document = json.loads(raw)
    assert document["return_value"] == "1.250" and document["is_err"] is False
    ttl = await redis_client.ttl(result_backend.result_key(task.task_id))
    assert 0 < ttl <= result_backend.ttl_seconds == 3600

    keys = [key async for key in redis_client.scan_iter(match=f"{redis_names.key_prefix}:result:*")]
    assert keys, "expected stored results to inspect"
    for key in keys:
        assert await redis_client.ttl(key) > 0, key
        value = await redis_client.get(key)
        if value is not None:
            json.loads(value)


async def test_typed_path_consumes_its_result(redis_broker: AsyncBroker, redis_client: Any) -> None:
    result_backend = backend(redis_broker)
    task_id = await kick_operation("Depot", "ping", [], {}, None, broker=redis_broker)
    stored = await result_backend.wait(task_id, 10, check_first=True)
    assert stored.return_value == "pong"
    assert await redis_client.exists(result_backend.result_key(task_id)) == 0


async def test_completion_is_pushed_to_the_waiting_caller(
    redis_broker: AsyncBroker, redis_names: Any
) -> None:
    waiting = backend(redis_broker)
    task_id = uuid.uuid4().hex
    future = await waiting.expect(task_id, 5)
    assert not future.done()
    # another process (here: another backend instance, as in the worker) stores the result
    worker_side = RedisJSONResultBackend(redis_names.url, key_prefix=redis_names.key_prefix)
    try:
        await worker_side._store(task_id, b'{"v":1}', waiting.reply_channel)
        await asyncio.wait_for(future, 5)  # resolved by the PUBLISH, not by polling
    finally:
        waiting.forget(task_id)
        await worker_side.shutdown()


async def test_planted_pickle_is_refused_not_loaded(
    redis_broker: AsyncBroker, redis_client: Any
) -> None:
    result_backend = backend(redis_broker)
    task_id = uuid.uuid4().hex
    await redis_client.set(result_backend.result_key(task_id), pickle.dumps(Planted()), ex=60)
    with pytest.raises(ResultDecodingError, match="not a core_sdk JSON result document"):
        await result_backend.wait(task_id, 5, check_first=True)
    assert PLANTED == []


async def test_stream_entries_do_not_accumulate(
    redis_broker: AsyncBroker, redis_names: Any, redis_client: Any
) -> None:
    for _ in range(5):
        assert (
            await call_operation("Depot", "ping", [], {}, None, 10, broker=redis_broker) == "pong"
        )
    for _ in range(200):  # the ack (XACK+XDEL) follows the result; give it a moment
        length = await redis_client.xlen(redis_names.queue_name)
        pending = await redis_client.xpending(redis_names.queue_name, redis_names.consumer_group)
        if length == 0 and pending["pending"] == 0:
            break
        await asyncio.sleep(0.05)
    assert length == 0 and pending["pending"] == 0


async def test_bad_input_never_kills_the_worker(
    redis_broker: AsyncBroker,
    redis_names: Any,
    redis_client: Any,
    worker_process: Any,
) -> None:
    unknown_task = json.dumps(
        {
            "task_id": "t-unknown",
            "task_name": "no.such:task",
            "labels": {},
            "args": [],
            "kwargs": {},
        }
    ).encode()
    for fields in (
        {b"data": b"\x00\xffgarbage"},
        {b"data": b'{"task_id": "x", "task_name": '},
        {b"other": b"no data field"},
        {b"data": unknown_task},
        {b"data": pickle.dumps(Planted())},
        {b"data": b"[" + b"1," * 600_000 + b"1]"},  # over MAX_MESSAGE_BYTES
    ):
        await redis_client.xadd(redis_names.queue_name, fields)

    # wrong argument types that slipped past the type checker: reported to the caller
    with pytest.raises(RemoteOperationError) as caught:
        await call_operation(
            "Depot",
            "rename",
            [],
            {"depot_id": "not-a-uuid", "name": 1},
            None,
            10,
            broker=redis_broker,
        )
    assert caught.value.remote_type == "ArgumentEncodingError"
    assert "Depot.rename: argument 'depot_id'" in caught.value.message
    with pytest.raises(RemoteOperationError, match="unexpected keyword argument 'bogus'"):
        await call_operation("Depot", "ping", [], {"bogus": 1}, None, 10, broker=redis_broker)

    assert await call_operation("Depot", "ping", [], {}, None, 10, broker=redis_broker) == "pong"
    assert worker_process.poll() is None
    for _ in range(200):
        if await redis_client.xlen(redis_names.queue_name) == 0:
            break
        await asyncio.sleep(0.05)
    assert await redis_client.xlen(redis_names.queue_name) == 0  # all set aside, none retried


async def test_malformed_entries_are_set_aside_and_logged_briefly(
    redis_broker: AsyncBroker,
    redis_names: Any,
    redis_client: Any,
    worker_process: Any,
) -> None:
    log = Path(worker_process.log_path)
    logged_before = log.stat().st_size

    def call_with_labels(labels: dict[str, Any]) -> bytes:
        return json.dumps(
            {
                "task_id": uuid.uuid4().hex,
                "task_name": TASK_NAME,
                "labels": labels,
                "labels_types": None,
                "args": ["Depot", "ping", [], {}, None],
                "kwargs": {},
            }
        ).encode()

    for fields in (
        {b"data": call_with_labels({"ack_type": "bogus"})},  # taskiq raised before acking
        {b"data": call_with_labels({"ack_type": "manual"})},  # no core_sdk task acks by hand
        {b"data": b"{" + b"x" * 2_000_000},  # over MAX_MESSAGE_BYTES
        {b"data": b"[" + b"y" * 500_000},  # under it, not JSON
    ):
        await redis_client.xadd(redis_names.queue_name, fields)
    for _ in range(200):
        length = await redis_client.xlen(redis_names.queue_name)
        pending = await redis_client.xpending(redis_names.queue_name, redis_names.consumer_group)
        if length == 0 and pending["pending"] == 0:
            break
        await asyncio.sleep(0.05)
    assert (length, pending["pending"]) == (0, 0)  # acknowledged and deleted, none pending

    assert await call_operation("Depot", "ping", [], {}, None, 10, broker=redis_broker) == "pong"
    logged = log.read_bytes()[logged_before:]
    assert b"ack_type" in logged and b"bogus" in logged and b"manual" in logged
    assert b"2000001 bytes" in logged and b"500001 bytes" in logged  # sizes, not payloads
    assert len(logged) < 40_000, logged[:5000]
