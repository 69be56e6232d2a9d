"""Encode/decode cost per call of the per-method TypeAdapter path (in process, no I/O).

For each payload, the four conversions one call makes, through the same functions the runtime
uses, next to the same conversion written by hand with pydantic model methods:

* caller encodes the arguments: ``Operation.encode_arguments`` vs ``model_dump(mode="json")``
* worker decodes the arguments: ``operations.bind_arguments`` vs ``Model.model_validate``
* worker encodes the result: ``codec.encode(returns, value)`` vs ``model_dump(mode="json")``
* caller decodes the result: ``Operation.decode_result`` vs ``Model.model_validate``
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

    from core_sdk.broker.codec import encode
    from core_sdk.broker.operations import bind_arguments, runtime_operation
    from core_sdk.registry import ModelRegistry

    info = ModelRegistry.get_model_info("BenchItem")
    assert info.manager_cls is BenchManager
    ping = generated._BENCH_ITEM_PING
    wide = generated._BENCH_ITEM_ECHO_WIDE
    ping_live = runtime_operation(info, "ping")
    wide_live = runtime_operation(info, "echo_wide")

    batch = sample_batch(100)
    item, items = batch.item, batch.items
    encoded_args, encoded_kwargs = wide.encode_arguments((), {"item": item, "items": items})
    result_json = encode(wide_live.returns, batch)

    def hand_encode_args() -> Any:
        return item.model_dump(mode="json"), [each.model_dump(mode="json") for each in items]

    def hand_decode_args() -> Any:
        return (
            Wide.model_validate(encoded_kwargs["item"]),
            [Wide.model_validate(each) for each in encoded_kwargs["items"]],
        )

    rows = [
        CodecCost(
            "trivial",
            "caller encode",
            per_call_us(lambda: ping.encode_arguments((), {}), budget),
            None,
        ),
        CodecCost(
            "trivial",
            "worker decode",
            per_call_us(lambda: bind_arguments(ping_live, [], {}), budget),
            None,
        ),
        CodecCost(
            "trivial",
            "worker encode",
            per_call_us(lambda: encode(ping_live.returns, "pong"), budget),
            None,
        ),
        CodecCost(
            "trivial",
            "caller decode",
            per_call_us(lambda: ping.decode_result("pong"), budget),
            None,
        ),
        CodecCost(
            "wide",
            "caller encode",
            per_call_us(lambda: wide.encode_arguments((), {"item": item, "items": items}), budget),
            per_call_us(hand_encode_args, budget),
        ),
        CodecCost(
            "wide",
            "worker decode",
            per_call_us(lambda: bind_arguments(wide_live, encoded_args, encoded_kwargs), budget),
            per_call_us(hand_decode_args, budget),
        ),
        CodecCost(
            "wide",
            "worker encode",
            per_call_us(lambda: encode(wide_live.returns, batch), budget),
            per_call_us(lambda: batch.model_dump(mode="json"), budget),
        ),
        CodecCost(
            "wide",
            "caller decode",
            per_call_us(lambda: wide.decode_result(result_json), budget),
            per_call_us(lambda: WideBatch.model_validate(result_json), budget),
        ),
    ]
    return rows
