"""The hot-path changes made for issue 5 (see bench/): results pushed in the notification, and
one-pass JSON on the wire that produces the same bytes as before."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
import redis.asyncio as aioredis
from taskiq.message import TaskiqMessage
from taskiq.result import TaskiqResult

from core_sdk.broker.formatter import JSONOnlyFormatter
from core_sdk.broker.result_backend import (
    PUSH_LABEL,
    REPLY_LABEL,
    RedisJSONResultBackend,
    encode_result,
)


@pytest.fixture
async def redis_client(redis_names: Any) -> AsyncIterator[Any]:
    client = aioredis.Redis.from_url(redis_names.url)
    yield client
    await client.aclose()


@pytest.fixture
async def caller(redis_names: Any) -> AsyncIterator[RedisJSONResultBackend]:
    backend = RedisJSONResultBackend(redis_names.url, key_prefix=redis_names.key_prefix)
    yield backend
    await backend.shutdown()


@pytest.fixture
async def worker(redis_names: Any) -> AsyncIterator[RedisJSONResultBackend]:
    backend = RedisJSONResultBackend(
        redis_names.url, key_prefix=redis_names.key_prefix, push_max_bytes=4096
    )
    yield backend
    await backend.shutdown()


def result(value: Any, labels: dict[str, str]) -> TaskiqResult[Any]:
    return TaskiqResult(is_err=False, return_value=value, execution_time=0.01, labels=labels)


async def test_awaited_call_gets_its_result_pushed_and_nothing_is_stored(
    caller: RedisJSONResultBackend, worker: RedisJSONResultBackend, redis_client: Any
) -> None:
    task_id = uuid.uuid4().hex
    labels = caller.reply_labels(push=True)
    assert labels == {REPLY_LABEL: caller.reply_channel, PUSH_LABEL: "1"}
    await caller.expect(task_id, 5)
    await worker.set_result(task_id, result({"answer": 42}, labels))
    stored = await caller.wait(task_id, 5)
    assert stored.return_value == {"answer": 42} and not stored.is_err
    assert await redis_client.exists(caller.result_key(task_id)) == 0


async def test_push_without_a_listener_falls_back_to_storing(
    caller: RedisJSONResultBackend, worker: RedisJSONResultBackend, redis_client: Any
) -> None:
    task_id = uuid.uuid4().hex
    nobody = {REPLY_LABEL: f"{caller.reply_channel}-nobody", PUSH_LABEL: "1"}
    await worker.set_result(task_id, result("kept", nobody))
    assert await redis_client.exists(caller.result_key(task_id)) == 1
    stored = await caller.wait(task_id, 5, check_first=True)
    assert stored.return_value == "kept"
    assert await redis_client.exists(caller.result_key(task_id)) == 0  # read once (GETDEL)


async def test_a_large_result_is_stored_and_read_back(
    caller: RedisJSONResultBackend, worker: RedisJSONResultBackend, redis_client: Any
) -> None:
    task_id = uuid.uuid4().hex
    big = "x" * 10_000  # over the worker's push_max_bytes (4096)
    await caller.expect(task_id, 5)
    await worker.set_result(task_id, result(big, caller.reply_labels(push=True)))
    assert (await caller.wait(task_id, 5)).return_value == big
    assert await redis_client.exists(caller.result_key(task_id)) == 0


async def test_a_pushed_result_nobody_waits_for_any_more_stays_readable(
    caller: RedisJSONResultBackend, worker: RedisJSONResultBackend, redis_client: Any
) -> None:
    waiting = uuid.uuid4().hex
    await caller.expect(waiting, 5)  # the listener is subscribed
    late = uuid.uuid4().hex  # e.g. its caller timed out
    await worker.set_result(late, result("late", caller.reply_labels(push=True)))
    for _ in range(100):
        if await redis_client.exists(caller.result_key(late)):
            break
        await asyncio.sleep(0.02)
    stored = await caller.wait(late, 5, check_first=True)
    assert stored.return_value == "late"
    caller.forget(waiting)


async def test_handles_and_raw_kiq_are_not_pushed(caller: RedisJSONResultBackend) -> None:
    assert PUSH_LABEL not in caller.reply_labels()


def test_result_document_is_the_same_json_as_before() -> None:
    value = {
        "id": uuid.UUID(int=7),
        "when": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        "amount": Decimal("1.50"),
        "items": [1, 2.5, None, "é"],
    }
    document = json.loads(encode_result(result(value, {})))
    assert document == {
        "v": 1,
        "is_err": False,
        "return_value": {
            "id": "00000000-0000-0000-0000-000000000007",
            "when": "2026-01-02T03:04:05Z",
            "amount": "1.50",
            "items": [1, 2.5, None, "é"],
        },
        "error": None,
        "execution_time": 0.01,
    }
    unencodable = json.loads(encode_result(result(object(), {})))
    assert unencodable["is_err"] and unencodable["error"]["type"] == "ResultEncodingError"


def test_formatter_writes_the_same_bytes_as_model_dump_then_json() -> None:
    message = TaskiqMessage(
        task_id="t1",
        task_name="core_sdk.broker.tasks:execute_dam_operation",
        labels={REPLY_LABEL: "dam:reply:x", "n": 3},
        labels_types={},
        args=["Model", "method", [{"a": "é", "b": [1, 2.5]}], {"k": None}, "0123456789abcdef"],
        kwargs={},
    )
    formatter = JSONOnlyFormatter(1_000_000)
    data = formatter.dumps(message).message
    expected = json.dumps(
        message.model_dump(mode="json"), separators=(",", ":"), ensure_ascii=False
    ).encode()
    assert data == expected
    assert formatter.loads(data) == message
