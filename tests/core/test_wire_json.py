"""The one-pass wire: a typed call's arguments as one JSON object, results kept as JSON text.

Units here; the same paths run end to end in test_flows (InMemoryBroker and a real worker).
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

import pytest
from coresvc.managers import DepotManager
from pydantic import BaseModel
from taskiq import TaskiqResult

from core_sdk.broker.codec import RawJSON, arguments_adapter, encode_json, loads
from core_sdk.broker.operations import RuntimeOperation, bind_arguments, runtime_operation
from core_sdk.broker.result_backend import decode_result, encode_result
from core_sdk.data_access import Operation
from core_sdk.exceptions import ArgumentEncodingError, ResultDecodingError
from core_sdk.registry import ModelInfo


class Point(BaseModel):
    x: float
    label: str | None = None


def test_encode_json_is_one_pass_json_of_the_declared_type() -> None:
    assert encode_json(list[Decimal], [Decimal("1.50")]) == b'["1.50"]'
    assert encode_json(Point, Point(x=1.5, label="a")) == b'{"x":1.5,"label":"a"}'
    assert encode_json(Point, {"x": "2"}) == b'{"x":2.0,"label":null}'  # lax: validated first
    with pytest.raises(ArgumentEncodingError, match=r"M.m\(p\): str value does not match"):
        encode_json(Point, "nope", what="M.m(p)")


def test_encode_json_keeps_non_finite_floats_inside_models() -> None:
    # pydantic's dump_json writes a NaN field of a model as null; the codec must not
    data = encode_json(list[Point], [Point(x=math.nan), Point(x=math.inf, label="up")])
    assert data == b'[{"x":NaN,"label":null},{"x":Infinity,"label":"up"}]'
    back = arguments_adapter("A", {"points": list[Point]}).validate_json(
        b'{"points":' + data + b"}"
    )["points"]
    assert math.isnan(back[0].x) and back[1].x == math.inf and back[1].label == "up"


def test_encode_json_names_an_unencodable_value() -> None:
    with pytest.raises(ArgumentEncodingError, match=r"M.m\(s\): str value cannot be encoded"):
        encode_json(str, "lone \udcff surrogate", what="M.m(s)")


def test_operation_sends_every_argument_by_name_in_one_object() -> None:
    op = Operation[int](
        "Depot", "positional", None, {"a": int, "b": int}, int, positional_only=("a",)
    )
    assert json.loads(op.encode_arguments_json((4,), {"b": 7})) == {"a": 4, "b": 7}
    assert json.loads(op.encode_arguments_json((4,), {})) == {"a": 4}
    with pytest.raises(ArgumentEncodingError, match="unexpected keyword argument 'c'"):
        op.encode_arguments_json((4,), {"c": 1})


def _live(method: str) -> RuntimeOperation:
    return runtime_operation(ModelInfo("Depot", object, DepotManager), method)


def test_worker_binds_the_json_object_by_parameter_kind() -> None:
    assert bind_arguments(_live("positional"), '{"a":4,"b":7}', {}) == ([4], {"b": 7})
    assert bind_arguments(_live("positional"), '{"a":4}', {}) == ([4], {})
    args, kwargs = bind_arguments(_live("echo_decimal"), '{"value":"1.50"}', {})
    assert args == [] and kwargs == {"value": Decimal("1.50")}
    assert str(kwargs["value"]) == "1.50"


@pytest.mark.parametrize(
    ("text", "kwargs", "message"),
    [
        ('{"value":"x"}', {}, r"Depot.echo_decimal: argument 'value' does not match"),
        ('{"value":"1","other":2}', {}, r"Depot.echo_decimal: unexpected keyword argument 'other'"),
        ("{}", {}, r"Depot.echo_decimal: missing a required argument: 'value'"),
        ('{"value":', {}, r"Depot.echo_decimal: malformed call arguments: Invalid JSON"),
        ("[1]", {}, r"Depot.echo_decimal: malformed call arguments"),
        ('{"value":"1"}', {"value": "1"}, r"Depot.echo_decimal: malformed call \(args must be"),
    ],
)
def test_worker_refuses_a_bad_json_object_naming_the_call(
    text: str, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ArgumentEncodingError, match=message):
        bind_arguments(_live("echo_decimal"), text, kwargs)


def test_nested_argument_error_names_the_parameter_and_the_place() -> None:
    with pytest.raises(ArgumentEncodingError) as caught:
        bind_arguments(_live("echo_list"), '{"items":[{"a":"1"},{"b":"x"}]}', {})
    assert "argument 'items' does not match" in str(caught.value)
    assert str(caught.value).endswith("at 1.b")


def test_result_document_keeps_the_value_last_and_apart() -> None:
    document = encode_result(
        TaskiqResult(is_err=False, return_value=RawJSON(b'{"x":NaN}'), execution_time=0.25)
    )
    assert document == (
        b'{"v":1,"is_err":false,"error":null,"execution_time":0.25,"return_value":{"x":NaN}}'
    )
    stored = decode_result(document, "t1")
    assert stored.return_json == b'{"x":NaN}' and stored.execution_time == 0.25
    assert math.isnan(stored.return_value["x"])  # parsed only when asked (raw/dynamic callers)
    op = Operation[Point]("M", "m", None, {}, Point)
    assert math.isnan(op.decode_stored(stored).x)


def test_documents_with_other_key_orders_are_still_read() -> None:
    older = b'{"v":1,"is_err":false,"return_value":{"x":1.0},"error":null,"execution_time":0.1}'
    stored = decode_result(older, "t1")
    assert stored.return_json is None and stored.return_value == {"x": 1.0}
    assert Operation[Point]("M", "m", None, {}, Point).decode_stored(stored) == Point(x=1.0)


def test_error_documents_and_message_text_cannot_fake_the_value() -> None:
    raised = ValueError(',"return_value":{"x":1}}')
    document = encode_result(
        TaskiqResult(is_err=True, return_value=None, execution_time=0.0, error=raised)
    )
    assert loads(document)["error"]["message"] == ',"return_value":{"x":1}}'
    stored = decode_result(document, "t1")
    assert stored.is_err and stored.return_json is None and stored.return_value is None
    assert stored.to_exception().message == ',"return_value":{"x":1}}'


def test_a_value_that_does_not_validate_is_a_result_decoding_error() -> None:
    stored = decode_result(
        b'{"v":1,"is_err":false,"error":null,"execution_time":0.0,"return_value":{"x":"a"}}',
        "t1",
    )
    with pytest.raises(ResultDecodingError, match=r"M\.m: the worker's result does not match"):
        Operation[Point]("M", "m", None, {}, Point).decode_stored(stored)


def test_other_tasks_results_are_stored_as_plain_json() -> None:
    document = encode_result(
        TaskiqResult(is_err=False, return_value={"a": [1, 2]}, execution_time=0.0)
    )
    assert loads(document)["return_value"] == {"a": [1, 2]}
    assert decode_result(document, "t1").return_value == {"a": [1, 2]}


def test_non_finite_floats_inside_any_are_kept() -> None:
    assert encode_json(Any, {"a": math.nan}) == b'{"a":NaN}'
    assert encode_json(dict[str, Any], {"capacity": math.inf}) == b'{"capacity":Infinity}'
    assert encode_json(list[Any], [math.nan, None]) == b"[NaN,null]"


def test_a_very_long_unknown_key_is_clipped_in_the_error() -> None:
    key = "k" * 100_000
    with pytest.raises(ArgumentEncodingError) as caught:
        bind_arguments(_live("echo_str"), json.dumps({"value": "x", key: 1}), {})
    assert "unexpected keyword argument" in str(caught.value)
    assert len(str(caught.value)) < 300 and "(100000 characters)" in str(caught.value)


@pytest.mark.parametrize(
    ("document", "reason"),
    [
        (b'{"v":true,"is_err":false,"error":null,"execution_time":0,"return_value":1}', "version"),
        (b'{"v":1.0,"is_err":false,"error":null,"execution_time":0,"return_value":1}', "version"),
        (b'{"v":1,"is_err":"false","error":null,"execution_time":0,"return_value":1}', "is_err"),
        (b'{"v":1,"is_err":null,"error":null,"execution_time":0,"return_value":1}', "is_err"),
        (b'{"v":1,"is_err":false,"error":null,"execution_time":"x","return_value":1}', "executi"),
        (
            b'{"v":1,"is_err":false,"error":{"type":"E"},"execution_time":0,"return_value":1}',
            "with",
        ),
        (
            b'{"v":1,"is_err":true,"error":{"type":5,"module":[],"message":{}},"execution_time":0}',
            "an",
        ),
        (b'{"v":1,"is_err":false,"error":null,"execution_time":0}', "without return_value"),
        (b"[1]", "not a JSON object"),
    ],
)
def test_forged_result_documents_are_refused(document: bytes, reason: str) -> None:
    with pytest.raises(ResultDecodingError, match=f"task t1 is not a core_sdk .*{reason}"):
        decode_result(document, "t1")


def test_a_key_after_the_value_is_still_read_and_garbage_is_named() -> None:
    op = Operation[str]("M", "m", None, {}, str)
    valid = b'{"v":1,"is_err":false,"error":null,"execution_time":0,"return_value":"hi","x":1}'
    assert op.decode_stored(decode_result(valid, "t1")) == "hi"
    broken = b'{"v":1,"is_err":false,"error":null,"execution_time":0,"return_value":"hi"}}'
    with pytest.raises(ResultDecodingError, match="task t2 is not a core_sdk JSON result"):
        op.decode_stored(decode_result(broken, "t2"))


async def test_call_operation_refuses_a_dict_of_positional_arguments() -> None:
    from core_sdk.broker.client import kick_operation

    with pytest.raises(TypeError, match=r"Depot\.echo_str: args must be a list or tuple"):
        await kick_operation("Depot", "echo_str", {"value": "x"}, {}, None)  # type: ignore[arg-type]
