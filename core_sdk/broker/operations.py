"""Worker side of ``execute_dam_operation``: resolve, check, decode, run, encode."""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, cast

from pydantic import TypeAdapter, ValidationError
from taskiq import AsyncBroker
from taskiq.decor import AsyncTaskiqDecoratedTask

from core_sdk.broker.codec import RawJSON, arguments_adapter, decoding_adapter, encode_json
from core_sdk.data_access.signature import (
    iter_operations,
    operation_fingerprint,
    resolve_operation_types_lenient,
    skipped_methods,
    substitute,
)
from core_sdk.exceptions import (
    ArgumentEncodingError,
    ExecutionTimeoutError,
    NotFoundError,
    OperationRefusedError,
    ResultEncodingError,
    VersionSkewError,
)
from core_sdk.registry import ModelInfo, ModelRegistry

__all__ = [
    "TASK_NAME",
    "RuntimeOperation",
    "operation_timeout",
    "register_dam_task",
    "run_dam_operation",
    "runtime_operation",
    "set_operation_timeout",
]

logger = logging.getLogger("core_sdk.worker")

TASK_NAME = "core_sdk.broker.tasks:execute_dam_operation"

_operation_timeout: float | None = None


def set_operation_timeout(seconds: float | None) -> None:
    """Limit the run time of every operation in this process (``None``: the settings' value).

    ``initialize_worker_context`` sets it from ``OPERATION_TIMEOUT_SECONDS``.
    """
    global _operation_timeout
    _operation_timeout = seconds


def operation_timeout() -> float:
    """Seconds an operation may run before it is cancelled (``OPERATION_TIMEOUT_SECONDS``)."""
    if _operation_timeout is None:
        from core_sdk.config import get_settings

        return get_settings().OPERATION_TIMEOUT_SECONDS
    return _operation_timeout


#: the typed path sends all arguments as one JSON object text; raw callers send a list and a dict
SerializedArgs = list[Any] | str

DamTask = AsyncTaskiqDecoratedTask[
    [str, str, SerializedArgs, dict[str, Any], str | None], Coroutine[Any, Any, Any]
]


@dataclass(frozen=True)
class RuntimeOperation:
    """Live view of one DAM operation: signature and runtime types (generics substituted)."""

    model_name: str
    method_name: str
    manager_cls: type
    signature: inspect.Signature  # without ``self``
    params: dict[str, Any]
    returns: Any
    unresolved: tuple[str, ...]

    @functools.cached_property
    def fingerprint(self) -> str:
        return operation_fingerprint(self.manager_cls, self.method_name)

    def param_type(self, name: str) -> Any:
        return self.params.get(name, Any)

    def adapter(self, name: str) -> TypeAdapter[Any]:
        return decoding_adapter(self.param_type(name))

    @functools.cached_property
    def arguments(self) -> TypeAdapter[dict[str, Any]]:
        """Validates the JSON object of a call's arguments, by name, in one pass."""
        fields = {name: self.param_type(name) for name in self.signature.parameters}
        return arguments_adapter(f"{self.model_name}.{self.method_name} arguments", fields)


def _fill_from_generated(
    info: ModelInfo,
    method_name: str,
    params: dict[str, Any],
    returns: Any,
    unresolved: list[str],
) -> tuple[dict[str, Any], Any, list[str]]:
    """Types the live hints could not resolve, taken from the imported generated module.

    Only when its fingerprint matches the live method, so the types describe this signature.
    """
    from core_sdk.data_access.typed_proxy import generated_operation

    generated = generated_operation(info.model_name, method_name)
    if generated is None or generated.fingerprint != operation_fingerprint(
        info.manager_cls, method_name
    ):
        return params, returns, unresolved
    params = {**params, **{n: generated.params[n] for n in unresolved if n in generated.params}}
    if "return" in unresolved:
        returns = generated.returns
    left = [n for n in unresolved if n != "return" and n not in generated.params]
    return params, returns, left


@functools.lru_cache(maxsize=1024)
def runtime_operation(info: ModelInfo, method_name: str) -> RuntimeOperation:
    """Resolve ``info.manager_cls.method_name`` (must be a known operation). Cached."""
    manager_cls = info.manager_cls
    params, returns, unresolved = resolve_operation_types_lenient(manager_cls, method_name)
    extra = info.manager_substitutions()
    params = {name: substitute(tp, extra) for name, tp in params.items()}
    returns = substitute(returns, extra)
    if unresolved:
        params, returns, unresolved = _fill_from_generated(
            info, method_name, params, returns, unresolved
        )
    if unresolved:
        logger.warning(
            "%s.%s: type hints %s cannot be resolved at run time (imported only under "
            "TYPE_CHECKING?); those values travel as plain JSON without type conversion.",
            info.model_name,
            method_name,
            ", ".join(unresolved),
        )
    signature = inspect.signature(getattr(manager_cls, method_name))
    parameters = list(signature.parameters.values())[1:]
    return RuntimeOperation(
        model_name=info.model_name,
        method_name=method_name,
        manager_cls=manager_cls,
        signature=signature.replace(parameters=parameters),
        params=params,
        returns=returns,
        unresolved=tuple(unresolved),
    )


@functools.lru_cache(maxsize=1024)
def _operation_names(manager_cls: Any) -> tuple[str, ...]:
    return tuple(op.name for op in iter_operations(manager_cls))


def check_operation(info: ModelInfo, method_name: str) -> None:
    """Refuse anything that is not a public async operation of the manager (or the manifest)."""
    where = f"{info.model_name}.{method_name}"
    operations = _operation_names(cast(Any, info.manager_cls))
    if not isinstance(method_name, str) or not method_name.isidentifier():
        raise OperationRefusedError(
            f"Refused {info.model_name}.{method_name!r}: not a method name."
        )
    if method_name.startswith("_"):
        raise OperationRefusedError(
            f"Refused {where}: private and dunder methods are never run remotely. "
            f"Operations of {info.model_name}: {', '.join(operations) or 'none'}."
        )
    if method_name not in operations:
        if method_name in skipped_methods(info.manager_cls):
            reason = "it is not an async method"
        elif hasattr(info.manager_cls, method_name):
            reason = "it is not a public async method (property, classmethod or attribute)"
        else:
            reason = f"{info.manager_cls.__name__} has no such method"
        raise OperationRefusedError(
            f"Refused {where}: {reason}. "
            f"Operations of {info.model_name}: {', '.join(operations) or 'none'}."
        )
    from core_sdk.data_access.typed_proxy import registered_manifest

    manifest = registered_manifest()
    if manifest:
        allowed = {(model.lower(), method) for model, method in manifest}
        if (info.model_name.lower(), method_name) not in allowed:
            listed = sorted(
                method for model, method in manifest if model.lower() == info.model_name.lower()
            )
            raise OperationRefusedError(
                f"Refused {where}: not in the generated operation manifest loaded by this worker "
                f"(allowed for {info.model_name}: {', '.join(listed) or 'none'}). "
                "If the method is new, regenerate the stubs with dam-codegen and redeploy."
            )


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


def _argument_error(op: RuntimeOperation, exc: ValidationError) -> ArgumentEncodingError:
    where = f"{op.model_name}.{op.method_name}"
    first = exc.errors()[0] if exc.errors() else {"msg": str(exc), "loc": (), "type": ""}
    # a key is the caller's text: a 900 KB one must not become a 900 KB message and log line
    loc = tuple(_clip(str(part)) for part in first["loc"])
    if first["type"] == "json_invalid" or not loc:
        return ArgumentEncodingError(f"{where}: malformed call arguments: {first['msg']}.")
    if first["type"] == "extra_forbidden":
        return ArgumentEncodingError(f"{where}: unexpected keyword argument {loc[0]!r}")
    return ArgumentEncodingError(
        f"{where}: argument {loc[0]!r} does not match {op.param_type(loc[0])!r}: "
        f"{first['msg']}" + (f" at {'.'.join(loc[1:])}" if len(loc) > 1 else "")
    )


def bind_json_arguments(op: RuntimeOperation, text: str) -> tuple[list[Any], dict[str, Any]]:
    """Decode the JSON object ``{parameter: value}`` of a typed call in one pass."""
    try:
        values = op.arguments.validate_json(text)
    except ValidationError as exc:
        raise _argument_error(op, exc) from None
    args: list[Any] = []
    for parameter in op.signature.parameters.values():
        if parameter.kind is not inspect.Parameter.POSITIONAL_ONLY:
            break
        if parameter.name not in values:
            break
        args.append(values.pop(parameter.name))
    try:
        op.signature.bind(*args, **values)
    except TypeError as exc:
        raise ArgumentEncodingError(f"{op.model_name}.{op.method_name}: {exc}") from None
    return args, values


def bind_arguments(
    op: RuntimeOperation, serialized_args: SerializedArgs, serialized_kwargs: dict[str, Any]
) -> tuple[list[Any], dict[str, Any]]:
    """Decode JSON arguments with the method's own parameter types."""
    where = f"{op.model_name}.{op.method_name}"
    if isinstance(serialized_args, str) and serialized_kwargs == {}:
        return bind_json_arguments(op, serialized_args)
    if not isinstance(serialized_args, list) or not isinstance(serialized_kwargs, dict):
        raise ArgumentEncodingError(
            f"{where}: malformed call (args must be a list and kwargs a dict, or args the "
            "JSON text of an object of all arguments and kwargs empty)."
        )
    try:
        bound = op.signature.bind(*serialized_args, **serialized_kwargs)
    except TypeError as exc:
        raise ArgumentEncodingError(f"{where}: {exc}") from None
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for name, value in bound.arguments.items():
        parameter = op.signature.parameters[name]
        adapter = op.adapter(name)
        try:
            if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
                decoded: Any = [adapter.validate_python(item) for item in value]
            elif parameter.kind is inspect.Parameter.VAR_KEYWORD:
                decoded = {key: adapter.validate_python(item) for key, item in value.items()}
            else:
                decoded = adapter.validate_python(value)
        except ValidationError as exc:
            first = exc.errors()[0] if exc.errors() else {"msg": str(exc), "loc": ()}
            loc = ".".join(str(part) for part in first["loc"])
            raise ArgumentEncodingError(
                f"{where}: argument {name!r} does not match {op.param_type(name)!r}: "
                f"{first['msg']}" + (f" at {loc}" if loc else "")
            ) from None
        if parameter.kind is inspect.Parameter.POSITIONAL_ONLY:
            args.append(decoded)
        elif parameter.kind is inspect.Parameter.VAR_POSITIONAL:
            args.extend(decoded)
        elif parameter.kind is inspect.Parameter.VAR_KEYWORD:
            kwargs.update(decoded)
        else:
            kwargs[name] = decoded
    return args, kwargs


async def run_dam_operation(
    model_name: str,
    method_name: str,
    serialized_args: SerializedArgs,
    serialized_kwargs: dict[str, Any],
    fingerprint: str | None = None,
) -> RawJSON:
    """Run ``model_name``.``method_name`` in one transaction; return the result's JSON text.

    A method still running after :func:`operation_timeout` seconds is cancelled (cancellation
    is cooperative: it takes effect at the method's next ``await``), its transaction rolled
    back, and ExecutionTimeoutError raised (stored as the call's result, so the message is
    acknowledged and not run again).
    """
    from core_sdk.data_access.factory import DataAccessManagerFactory
    from core_sdk.db.session import managed_session

    try:
        info = ModelRegistry.get_model_info(model_name)
    except NotFoundError as exc:
        raise OperationRefusedError(f"Refused {model_name}.{method_name}: {exc}") from None
    check_operation(info, method_name)
    op = runtime_operation(info, method_name)
    if fingerprint is not None and fingerprint != op.fingerprint:
        raise VersionSkewError(
            f"Refused {info.model_name}.{method_name}: the caller's generated stub has "
            f"signature fingerprint {fingerprint}, but the worker's live method has fingerprint "
            f"{op.fingerprint}: the stub is stale (the DAM changed after dam-codegen ran) or the "
            "caller and the worker run different code. Regenerate the stubs with dam-codegen and "
            "deploy the caller and the worker from the same code."
        )
    args, kwargs = bind_arguments(op, serialized_args, serialized_kwargs)
    limit = operation_timeout()
    async with managed_session():
        manager = DataAccessManagerFactory().get_manager(info.model_name)
        try:
            async with asyncio.timeout(limit) as scope:
                result = await getattr(manager, method_name)(*args, **kwargs)
        except TimeoutError:
            if not scope.expired():
                raise  # the method's own TimeoutError
            raise ExecutionTimeoutError(
                f"{info.model_name}.{method_name} was cancelled after {limit:g} s, the worker's "
                "limit (OPERATION_TIMEOUT_SECONDS); its transaction was rolled back.",
                timeout=limit,
            ) from None
        return RawJSON(
            encode_json(
                op.returns,
                result,
                what=f"{info.model_name}.{method_name} return value",
                error=ResultEncodingError,
            )
        )


def register_dam_task(broker: AsyncBroker) -> DamTask:
    """Register ``execute_dam_operation`` on ``broker`` (idempotent) and return it."""
    existing = broker.local_task_registry.get(TASK_NAME)
    if existing is not None:
        return existing

    async def execute_dam_operation(
        model_name: str,
        method_name: str,
        serialized_args: SerializedArgs,
        serialized_kwargs: dict[str, Any],
        fingerprint: str | None = None,
    ) -> Any:  # not RawJSON: taskiq's wait_result() parses the stored value by this annotation
        """Run one DAM operation in this worker (see core_sdk.broker.operations)."""
        return await run_dam_operation(
            model_name, method_name, serialized_args, serialized_kwargs, fingerprint
        )

    return broker.register_task(execute_dam_operation, task_name=TASK_NAME)
