"""The JSON wire codec: values are encoded and decoded by their declared types.

* ``encode(tp, value)`` -> JSON-compatible data (pydantic ``TypeAdapter.dump_python(mode="json")``).
* ``encode_json(tp, value)`` -> the same as JSON text, in one pass where that is exact.
* ``decode(tp, data)`` -> a value of ``tp`` (pydantic validation), with SQLModel ``table=True``
  classes validated through ``model_validate`` (their ``__init__`` does not validate).
* ``arguments_adapter(name, fields)`` -> one adapter that validates the JSON object of a whole
  call's arguments (parameter name -> value) in one pass.
* :class:`RawJSON` -> JSON text that documents embed as it is (not as a string).

Adapters are cached per type. Nothing here ever uses pickle.
"""

from __future__ import annotations

import functools
import json
import types
import typing
from collections.abc import Mapping
from typing import Annotated, Any, Literal, Union

from pydantic import ConfigDict, PlainValidator, PydanticUserError, TypeAdapter, ValidationError
from pydantic_core import PydanticSerializationError, from_json, to_json
from typing_extensions import TypedDict

from core_sdk.exceptions import ArgumentEncodingError, CoreSDKError

__all__ = [
    "RawJSON",
    "arguments_adapter",
    "decode",
    "decoding_adapter",
    "dumps",
    "dumps_any",
    "encode",
    "encode_json",
    "encoding_adapter",
    "loads",
]


def dumps(value: Any) -> bytes:
    """Strict JSON (no NaN, no fallback ``default``): a non-JSON value is a bug, not data."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def dumps_any(value: Any) -> bytes:
    """JSON of any value pydantic can serialise, in one pass (pydantic-core, not ``json``).

    About three times faster than ``json.dumps`` on large documents. Non-finite floats are
    written as ``NaN``/``Infinity`` (as Python's ``json`` does; :func:`loads` reads them back),
    so a ``float`` argument or result round-trips instead of turning into ``null``. Raises
    ``PydanticSerializationError`` for a value of an unknown type.
    """
    return to_json(value, inf_nan_mode="constants")


class RawJSON:
    """JSON text that a document embeds as a value, not as a string (see ``encode_result``)."""

    __slots__ = ("data",)

    def __init__(self, data: bytes) -> None:
        self.data = data

    def __repr__(self) -> str:
        return f"RawJSON({len(self.data)} bytes)"


def loads(data: bytes | str) -> Any:
    """Parse JSON (pydantic-core's parser; raises ValueError on invalid JSON)."""
    return from_json(data)


def _is_table_model(tp: Any) -> bool:
    if not isinstance(tp, type):
        return False
    config = getattr(tp, "model_config", None)
    return (
        isinstance(config, dict)
        and bool(config.get("table"))
        and callable(getattr(tp, "model_validate", None))
    )


def _validate_table(model_cls: Any, value: Any) -> Any:
    if isinstance(value, model_cls):
        return value
    return model_cls.model_validate(value)


def _validating_type(tp: Any) -> Any:
    """``tp`` with every SQLModel table class wrapped in a validator that really validates."""
    if _is_table_model(tp):
        return Annotated[tp, PlainValidator(functools.partial(_validate_table, tp))]
    generic = getattr(tp, "__pydantic_generic_metadata__", None)
    if generic and generic.get("origin") is not None and generic.get("args"):
        args: tuple[Any, ...] = tuple(_validating_type(arg) for arg in generic["args"])
        if args == tuple(generic["args"]):
            return tp
        return generic["origin"][args[0] if len(args) == 1 else args]
    origin = typing.get_origin(tp)
    if origin is None or origin is Literal:
        return tp
    args = typing.get_args(tp)
    if origin is Annotated:
        inner = _validating_type(args[0])
        if inner is args[0]:
            return tp
        return Annotated[(inner, *tp.__metadata__)]
    new_args = tuple(_validating_type(arg) if arg is not Ellipsis else arg for arg in args)
    if all(new is old for new, old in zip(new_args, args, strict=True)):
        return tp
    if origin in (Union, types.UnionType):
        return Union[new_args]  # noqa: UP007
    try:
        return origin[new_args]
    except TypeError:
        return tp


def _adapter(tp: Any) -> TypeAdapter[Any]:
    return TypeAdapter(tp)


_NON_FINITE_CONSTANTS = ConfigDict(ser_json_inf_nan="constants")


def _encoder(tp: Any) -> TypeAdapter[Any]:
    """An adapter whose JSON keeps NaN/Infinity (also inside ``Any``); pydantic refuses a
    config for a model, dataclass or TypedDict type, whose own config then applies."""
    try:
        return TypeAdapter(tp, config=_NON_FINITE_CONSTANTS)
    except PydanticUserError:
        return _adapter(tp)


@functools.lru_cache(maxsize=4096)
def _cached_encoding_adapter(tp: Any) -> TypeAdapter[Any]:
    return _encoder(tp)


@functools.lru_cache(maxsize=4096)
def _cached_decoding_adapter(tp: Any) -> TypeAdapter[Any]:
    return _adapter(_validating_type(tp))


def encoding_adapter(tp: Any) -> TypeAdapter[Any]:
    """Cached adapter that serialises values of ``tp``."""
    try:
        return _cached_encoding_adapter(tp)
    except TypeError:  # unhashable type expression
        return _encoder(tp)


def decoding_adapter(tp: Any) -> TypeAdapter[Any]:
    """Cached adapter that validates JSON data into ``tp``."""
    try:
        return _cached_decoding_adapter(tp)
    except TypeError:
        return _adapter(_validating_type(tp))


def encode(
    tp: Any,
    value: Any,
    *,
    what: str = "value",
    lax: bool = True,
    error: type[CoreSDKError] = ArgumentEncodingError,
) -> Any:
    """JSON-compatible form of ``value`` as declared type ``tp``.

    A value that does not match ``tp`` is first validated into it: with ``lax`` any value
    pydantic converts (``"1.5"`` for a ``Decimal``), otherwise only in pydantic's strict mode
    (an ``int`` for a ``float``, never a ``str`` for a ``UUID``). A value that cannot be, or
    that cannot be encoded at all (nested deeper than pydantic serialises), raises ``error``
    (ArgumentEncodingError by default) naming ``what``.
    """
    adapter = encoding_adapter(tp)
    try:
        return adapter.dump_python(value, mode="json", warnings="error")
    except PydanticSerializationError:
        pass
    except (ValueError, RecursionError) as exc:
        raise _unencodable(error, what, value, exc) from exc
    try:
        coerced = decoding_adapter(tp).validate_python(value, strict=not lax)
        return adapter.dump_python(coerced, mode="json", warnings="error")
    except (ValidationError, PydanticSerializationError) as exc:
        raise error(
            f"{what}: {type(value).__name__} value does not match the declared type "
            f"{_type_text(tp)}: {_first_error(exc)}"
        ) from exc
    except (ValueError, RecursionError) as exc:
        raise _unencodable(error, what, value, exc) from exc


def encode_json(
    tp: Any,
    value: Any,
    *,
    what: str = "value",
    lax: bool = True,
    error: type[CoreSDKError] = ArgumentEncodingError,
) -> bytes:
    """``encode(tp, value)`` as JSON text (what :func:`loads` reads back to the same data).

    One pass (``dump_json``) when the value is already of ``tp`` and nothing came out as
    ``null``: pydantic writes a non-finite float inside a model as ``null`` whatever the
    caller asks, so output with a ``null`` anywhere is redone the two-pass way, which keeps
    ``NaN``/``Infinity``. Same errors as :func:`encode`.
    """
    try:
        data = encoding_adapter(tp).dump_json(value, warnings="error")
    except (PydanticSerializationError, ValueError, RecursionError):
        data = b"null"  # mismatch or unencodable: encode() converts it or names the problem
    if b"null" not in data:
        return data
    encoded = encode(tp, value, what=what, lax=lax, error=error)
    try:
        return dumps_any(encoded)
    except (ValueError, RecursionError) as exc:  # lone surrogates, too deep nesting, ...
        raise _unencodable(error, what, value, exc) from exc


def _unencodable(
    error: type[CoreSDKError], what: str, value: Any, exc: BaseException
) -> CoreSDKError:
    reason = str(exc).splitlines()[-1].strip() if str(exc) else type(exc).__name__
    return error(f"{what}: {type(value).__name__} value cannot be encoded as JSON: {reason}")


def decode(tp: Any, data: Any) -> Any:
    """Validate JSON ``data`` into declared type ``tp`` (raises pydantic ValidationError)."""
    return decoding_adapter(tp).validate_python(data)


def arguments_adapter(name: str, fields: Mapping[str, Any]) -> TypeAdapter[dict[str, Any]]:
    """Adapter validating one JSON object of arguments ``{parameter: value}`` (any subset of
    ``fields``, each decoded as :func:`decode` would; an unknown name is an error). Not cached:
    the caller keeps it (one per operation)."""
    make_typed_dict: Any = TypedDict  # a TypedDict built at run time, which mypy cannot follow
    arguments = make_typed_dict(
        name, {field: _validating_type(tp) for field, tp in fields.items()}, total=False
    )
    arguments.__pydantic_config__ = ConfigDict(extra="forbid")
    adapter: TypeAdapter[dict[str, Any]] = TypeAdapter(arguments)
    return adapter


def _type_text(tp: Any) -> str:
    if isinstance(tp, type):
        return tp.__qualname__
    return str(tp).replace("typing.", "")


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        errors = exc.errors()
        if errors:
            loc = ".".join(str(part) for part in errors[0]["loc"])
            return f"{errors[0]['msg']}" + (f" at {loc}" if loc else "")
    return str(exc).splitlines()[-1].strip()
