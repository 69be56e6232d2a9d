"""Encode/decode cost per call of the per-method TypeAdapter path (in process, no I/O).

For each payload, the four conversions one call makes, through the same functions the runtime
uses (objects <-> JSON text), next to the same conversion written by hand with pydantic model
methods and pydantic-core's JSON:

* caller encodes the arguments: ``Operation.encode_arguments_json`` vs
  ``to_json(model_dump(mode="json"))``
* worker decodes the arguments: ``operations.bind_arguments`` (the JSON object text) vs
  ``from_json`` + ``Model.model_validate``
* worker encodes the result: ``codec.encode_json(returns, value)`` vs
  ``to_json(model_dump(mode="json"))``
* caller decodes the result: ``Operation.decode_stored`` vs ``from_json`` + ``Model.model_validate``
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

STEPS = ("caller encode", "worker decode", "worker encode", "caller decode")


@dataclass
class CodecCost:
    payload: str
    step: str
    typed_us: float
    hand_us: float | None  # None: nothing to convert by hand (plain str)


def per_call_us(function: Callable[[], Any], budget: float) -> float:
    """Best average over 5 rounds of ``function()`` (microseconds per call)."""
    function()
    number = 1
    while True:  # calibrate: one round takes about budget / 5
        started = time.perf_counter()
        for _ in range(number):
            function()
        elapsed = time.perf_counter() - started
        if elapsed >= budget / 10 or number >= 1_000_000:
            break
        number *= 2
    best = elapsed / number
    for _ in range(4):
        started = time.perf_counter()
        for _ in range(number):
            function()
        best = min(best, (time.perf_counter() - started) / number)
    return best * 1e6


def measure(budget: float = 0.2) -> list[CodecCost]:
    """Cost of each step, for the trivial and the wide operation of the bench service."""
    from benchsvc import _tasks as generated
    from benchsvc.managers import BenchManager
    from benchsvc.models import Wide, WideBatch, sample_batch
    from pydantic_core import from_json, to_json
    from taskiq import TaskiqResult

    from core_sdk.broker.codec import RawJSON, encode_json
    from core_sdk.broker.operations import bind_arguments, runtime_operation
    from core_sdk.broker.result_backend import decode_result, encode_result
    from core_sdk.registry import ModelRegistry

    info = ModelRegistry.get_model_info("BenchItem")
    assert info.manager_cls is BenchManager
    ping = generated._BENCH_ITEM_PING
    wide = generated._BENCH_ITEM_ECHO_WIDE
    ping_live = runtime_operation(info, "ping")
    wide_live = runtime_operation(info, "echo_wide")

    def stored(value: bytes) -> Any:
        document = encode_result(
            TaskiqResult(is_err=False, return_value=RawJSON(value), execution_time=0.0)
        )
        return decode_result(document, "bench")

    batch = sample_batch(100)
    item, items = batch.item, batch.items
    ping_args = ping.encode_arguments_json((), {})
    wide_args = wide.encode_arguments_json((), {"item": item, "items": items})
    ping_result = stored(encode_json(ping_live.returns, "pong"))
    wide_result_json = encode_json(wide_live.returns, batch)
    wide_result = stored(wide_result_json)

    def hand_encode_args() -> Any:
        return to_json(
            {
                "item": item.model_dump(mode="json"),
                "items": [each.model_dump(mode="json") for each in items],
            }
        )

    def hand_decode_args() -> Any:
        data = from_json(wide_args)
        return (
            Wide.model_validate(data["item"]),
            [Wide.model_validate(each) for each in data["items"]],
        )

    rows = [
        CodecCost(
            "trivial",
            "caller encode",
            per_call_us(lambda: ping.encode_arguments_json((), {}), budget),
            None,
        ),
        CodecCost(
            "trivial",
            "worker decode",
            per_call_us(lambda: bind_arguments(ping_live, ping_args, {}), budget),
            None,
        ),
        CodecCost(
            "trivial",
            "worker encode",
            per_call_us(lambda: encode_json(ping_live.returns, "pong"), budget),
            None,
        ),
        CodecCost(
            "trivial",
            "caller decode",
            per_call_us(lambda: ping.decode_stored(ping_result), budget),
            None,
        ),
        CodecCost(
            "wide",
            "caller encode",
            per_call_us(
                lambda: wide.encode_arguments_json((), {"item": item, "items": items}), budget
            ),
            per_call_us(hand_encode_args, budget),
        ),
        CodecCost(
            "wide",
            "worker decode",
            per_call_us(lambda: bind_arguments(wide_live, wide_args, {}), budget),
            per_call_us(hand_decode_args, budget),
        ),
        CodecCost(
            "wide",
            "worker encode",
            per_call_us(lambda: encode_json(wide_live.returns, batch), budget),
            per_call_us(lambda: to_json(batch.model_dump(mode="json")), budget),
        ),
        CodecCost(
            "wide",
            "caller decode",
            per_call_us(lambda: wide.decode_stored(wide_result), budget),
            per_call_us(lambda: WideBatch.model_validate(from_json(wide_result_json)), budget),
        ),
    ]
    return rows
