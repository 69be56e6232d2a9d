"""Runtime base of the generated typed proxies (``<Model>Broker``) and their operations.

The generated module (``dam-codegen``) defines one :class:`Operation` per DAM method and one
:class:`TypedBrokerProxy` subclass per model, then calls :func:`register_generated_module`.
"""

from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import Mapping, Sequence
from types import ModuleType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import ValidationError

from core_sdk.broker.codec import decoding_adapter, dumps, encode, encode_json, encoding_adapter
from core_sdk.exceptions import ArgumentEncodingError, ResultDecodingError

if TYPE_CHECKING:
    from core_sdk.broker.result_backend import StoredResult

__all__ = [
    "DAM_DEFAULT",
    "Operation",
    "TaskHandle",
    "TypedBrokerProxy",
    "generated_operation",
    "generated_proxy_for",
    "register_generated_module",
    "registered_manifest",
]

logger = logging.getLogger("core_sdk.data_access")

R = TypeVar("R")


class _DamDefault:
    """Sentinel: "let the DAM method use its own default" (the argument is not sent)."""

    _instance: _DamDefault | None = None

    def __new__(cls) -> _DamDefault:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "DAM_DEFAULT"

    def __reduce__(self) -> str:
        return "DAM_DEFAULT"


DAM_DEFAULT: Any = _DamDefault()


class Operation(Generic[R]):
    """One (model, method) operation: how to encode its arguments and decode its result.

    Immutable; its pydantic adapters are built on first use and cached.
    """

    __slots__ = (
        "fingerprint",
        "lax",
        "method_name",
        "model_name",
        "params",
        "positional_only",
        "returns",
    )

    model_name: str
    method_name: str
    fingerprint: str | None
    params: Mapping[str, Any]
    returns: Any
    positional_only: tuple[str, ...]
    lax: bool

    def __init__(
        self,
        model_name: str,
        method_name: str,
        fingerprint: str | None,
        params: Mapping[str, Any],
        returns: Any,
        positional_only: Sequence[str] = (),
        *,
        lax: bool = False,
    ) -> None:
        """``lax``: convert arguments that are not of the declared type but validate into it
        (``"1.5"`` for a ``Decimal``), as untyped callers of the dynamic proxy expect. Typed
        stubs are strict: an argument must already be of its declared type.
        """
        object.__setattr__(self, "model_name", model_name)
        object.__setattr__(self, "method_name", method_name)
        object.__setattr__(self, "fingerprint", fingerprint)
        object.__setattr__(self, "params", dict(params))
        object.__setattr__(self, "returns", returns)
        object.__setattr__(self, "positional_only", tuple(positional_only))
        object.__setattr__(self, "lax", lax)
        unknown = [name for name in self.positional_only if name not in self.params]
        if unknown:
            raise ValueError(f"{self.qualname}: positional-only names {unknown} are not params")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"Operation is immutable (tried to set {name!r})")

    def __repr__(self) -> str:
        return f"Operation({self.model_name!r}, {self.method_name!r}, {self.fingerprint!r})"

    @property
    def qualname(self) -> str:
        """``Model.method``."""
        return f"{self.model_name}.{self.method_name}"

    def warm_up(self) -> None:
        """Build (and cache) every adapter now instead of on the first call."""
        for tp in self.params.values():
            encoding_adapter(tp)
        decoding_adapter(self.returns)

    def _arguments(
        self, args: Sequence[Any], kwargs: Mapping[str, Any]
    ) -> tuple[list[str], list[tuple[str, Any]]]:
        """Check the call's shape; (positional-only names sent, [(name, value) sent]).

        Arguments that are ``DAM_DEFAULT`` are left out so the DAM applies its own default.
        """
        if len(args) > len(self.positional_only):
            raise ArgumentEncodingError(
                f"{self.qualname}: takes {len(self.positional_only)} positional-only "
                f"argument(s), got {len(args)}"
            )
        positional: list[str] = []
        sent: list[tuple[str, Any]] = []
        skipping = False
        for name, value in zip(self.positional_only, args, strict=False):
            if value is DAM_DEFAULT:
                skipping = True
                continue
            if skipping:
                raise ArgumentEncodingError(
                    f"{self.qualname}: positional-only argument {name!r} follows one left to "
                    "its default"
                )
            positional.append(name)
            sent.append((name, value))
        for name, value in kwargs.items():
            if value is DAM_DEFAULT:
                continue
            if name not in self.params or name in self.positional_only:
                raise ArgumentEncodingError(
                    f"{self.qualname}: unexpected keyword argument {name!r}"
                )
            sent.append((name, value))
        return positional, sent

    def encode_arguments(
        self, args: Sequence[Any], kwargs: Mapping[str, Any]
    ) -> tuple[list[Any], dict[str, Any]]:
        """JSON-encode ``args`` (positional-only, in order) and ``kwargs`` by declared type."""
        positional, sent = self._arguments(args, kwargs)
        encoded = {
            name: encode(self.params[name], value, what=f"{self.qualname}({name})", lax=self.lax)
            for name, value in sent
        }
        return [encoded.pop(name) for name in positional], encoded

    def encode_arguments_json(self, args: Sequence[Any], kwargs: Mapping[str, Any]) -> str:
        """The call's arguments as the JSON text of one object ``{parameter: value}`` (the
        positional-only ones by name too), each encoded by its declared type: what the worker
        validates in one pass."""
        _, sent = self._arguments(args, kwargs)
        parts = [
            dumps(name)
            + b":"
            + encode_json(self.params[name], value, what=f"{self.qualname}({name})", lax=self.lax)
            for name, value in sent
        ]
        return (b"{" + b",".join(parts) + b"}").decode()

    def decode_result(self, data: Any) -> R:
        """Validate the JSON result (parsed data) into the declared return type."""
        try:
            value: R = decoding_adapter(self.returns).validate_python(data)
        except ValidationError as exc:
            raise self._mismatch(exc) from exc
        return value

    def decode_stored(self, stored: StoredResult) -> R:
        """The declared return value of a successful stored result (from its JSON text in one
        pass when the document kept it apart)."""
        if stored.return_json is not None:
            try:
                value: R = decoding_adapter(self.returns).validate_json(stored.return_json)
                return value
            except ValidationError as exc:
                if not any(error["type"] == "json_invalid" for error in exc.errors()):
                    raise self._mismatch(exc) from exc
            # the text after "return_value" is not one JSON value (a key after it, or a broken
            # document): read the document as a whole, which names the problem
        return self.decode_result(stored.return_value)

    def _mismatch(self, exc: ValidationError) -> ResultDecodingError:
        return ResultDecodingError(
            f"{self.qualname}: the worker's result does not match the declared return type "
            f"{self.returns!r} ({exc.errors()[0]['msg'] if exc.errors() else exc}). Are the "
            "caller's stubs and the worker's code from the same version?"
        )


_client_module: ModuleType | None = None


def _client() -> ModuleType:
    """``core_sdk.broker.client``, imported on first use and kept (importing it when this module
    loads would be circular): no import statement runs per call."""
    global _client_module
    if _client_module is None:
        _client_module = importlib.import_module("core_sdk.broker.client")
    return _client_module


class TaskHandle(Generic[R]):
    """A started operation. ``await handle.result()`` returns the declared type."""

    __slots__ = ("_consumed", "operation", "task_id")

    def __init__(self, operation: Operation[R], task_id: str) -> None:
        self.operation = operation
        self.task_id = task_id
        self._consumed = False

    def __repr__(self) -> str:
        return f"TaskHandle({self.operation.qualname}, task_id={self.task_id!r})"

    async def result(self, timeout: float = 30.0) -> R:
        """Wait (pushed, at most ``timeout`` s) for the result and decode it.

        The stored result is consumed: call this once per handle.
        """
        if self._consumed:
            raise RuntimeError(f"{self!r}: result() was already awaited; results are read once.")
        stored = await _client().wait_operation(self.task_id, timeout, check_first=True)
        self._consumed = True
        if stored.is_err:
            raise stored.to_exception(
                model_name=self.operation.model_name,
                method_name=self.operation.method_name,
                task_id=self.task_id,
            )
        return self.operation.decode_stored(stored)

    async def is_ready(self) -> bool:
        """True once the worker has stored the result."""
        client = _client()
        ready: bool = await client.result_backend_of(client.default_broker()).is_result_ready(
            self.task_id
        )
        return ready


class TypedBrokerProxy:
    """Base of every generated ``<Model>Broker``. Deliberately has no ``__getattr__``."""

    def __init__(self) -> None:
        pass

    async def _call(
        self,
        op: Operation[R],
        args: Sequence[Any],
        kwargs: Mapping[str, Any],
        timeout: float,
    ) -> R:
        stored = await _client().request_operation(
            op.model_name,
            op.method_name,
            op.encode_arguments_json(args, kwargs),
            {},
            op.fingerprint,
            timeout,
        )
        return op.decode_stored(stored)

    async def _kick(
        self, op: Operation[R], args: Sequence[Any], kwargs: Mapping[str, Any]
    ) -> TaskHandle[R]:
        task_id: str = await _client().kick_operation(
            op.model_name,
            op.method_name,
            op.encode_arguments_json(args, kwargs),
            {},
            op.fingerprint,
        )
        return TaskHandle(op, task_id)


_proxies: dict[str, type[TypedBrokerProxy]] = {}
_manifest: dict[tuple[str, str], str] = {}
_operations: dict[tuple[str, str], Operation[Any]] = {}


def register_generated_module(
    manifest: Mapping[tuple[str, str], str],
    proxies: Mapping[str, type[TypedBrokerProxy]],
) -> None:
    """Called by the generated module on import: its proxies and its operation manifest.

    After this, ``manager.broker`` for each model returns the generated proxy, and a worker
    only runs the (model, method) pairs of the manifest.
    """
    modules: set[str] = set()
    for model_name, proxy_cls in proxies.items():
        if not (isinstance(proxy_cls, type) and issubclass(proxy_cls, TypedBrokerProxy)):
            raise TypeError(f"proxy for {model_name!r} must subclass TypedBrokerProxy")
        _proxies[model_name.lower()] = proxy_cls
        modules.add(proxy_cls.__module__)
    for module_name in modules:  # each module once (not once per proxy: 300 models took 1 s)
        for value in vars(sys.modules[module_name]).values():
            if isinstance(value, Operation) and value.fingerprint is not None:
                _operations[(value.model_name.lower(), value.method_name)] = value
    for (model_name, method_name), fingerprint in manifest.items():
        _manifest[(model_name, method_name)] = fingerprint


def generated_operation(model_name: str, method_name: str) -> Operation[Any] | None:
    """The generated module's :class:`Operation` for ``model_name.method_name``, if imported.

    Its types are resolved in the generated module, so the worker can decode with them where
    the DAM's own hints name things imported only under ``TYPE_CHECKING``.
    """
    return _operations.get((model_name.lower(), method_name))


def generated_proxy_for(model_name: str) -> type[TypedBrokerProxy] | None:
    """The registered generated proxy class for ``model_name`` (any case), if any."""
    return _proxies.get(model_name.lower())


def registered_manifest() -> Mapping[tuple[str, str], str]:
    """Every (model, method) -> fingerprint registered by generated modules in this process."""
    return dict(_manifest)


def clear_generated_registrations() -> None:
    """Forget generated proxies and manifests (tests)."""
    _proxies.clear()
    _manifest.clear()
    _operations.clear()
