"""BrokerTaskProxy: the untyped ``manager.broker`` used when no generated module is imported.

Kept for compatibility. Arguments are still encoded by the live method's parameter types and
results decoded by its return type (never guessed), but nothing is checked statically: run
``dam-codegen`` to get typed stubs.
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from core_sdk.data_access.signature import iter_operations
from core_sdk.data_access.typed_proxy import Operation, TaskHandle, TypedBrokerProxy

__all__ = ["BrokerTaskProxy"]

logger = logging.getLogger("core_sdk.data_access")

_warned: set[type] = set()


@functools.lru_cache(maxsize=1024)
def _dynamic_operation(model_name: str, manager_cls: type, method_name: str) -> Operation[Any]:
    from core_sdk.broker.operations import runtime_operation
    from core_sdk.registry import ModelRegistry

    info = ModelRegistry.find(model_name)
    if info is None or info.manager_cls is not manager_cls:
        from dataclasses import replace

        from core_sdk.registry import ModelInfo

        model_cls = info.model_cls if info is not None else object
        base = info if info is not None else ModelInfo(model_name, model_cls, manager_cls)
        info = replace(base, manager_cls=manager_cls)
    live = runtime_operation(info, method_name)
    positional_only = [
        p.name for p in live.signature.parameters.values() if p.kind is p.POSITIONAL_ONLY
    ]
    return Operation(
        model_name,
        method_name,
        None,
        live.params,
        live.returns,
        positional_only=positional_only,
        lax=True,
    )


class BrokerTaskProxy:
    """``await manager.broker.method(*args, _broker_timeout=30, **kwargs)`` without stubs."""

    def __init__(self, model_name: str, manager_cls: type) -> None:
        self._model_name = model_name
        self._manager_cls = manager_cls
        self._operations = {op.name: op for op in iter_operations(manager_cls)}
        self._typed = TypedBrokerProxy()

    def __repr__(self) -> str:
        return f"<BrokerTaskProxy {self._model_name} (untyped; run dam-codegen for typed stubs)>"

    def __dir__(self) -> list[str]:
        return sorted(self._operations)

    def _operation(self, name: str) -> tuple[Operation[Any], inspect.Signature]:
        if name.startswith("_") or name not in self._operations:
            available = ", ".join(sorted(self._operations)) or "none"
            raise AttributeError(
                f"{self._manager_cls.__name__} has no operation {name!r} callable through "
                f"manager.broker (operations are public async methods: {available})"
            )
        if self._manager_cls not in _warned:
            _warned.add(self._manager_cls)
            logger.info(
                "%s.broker is the untyped dynamic proxy; generate typed stubs with dam-codegen "
                "to have calls checked by mypy/pyright.",
                self._manager_cls.__name__,
            )
        op = _dynamic_operation(self._model_name, self._manager_cls, name)
        signature = inspect.signature(getattr(self._manager_cls, name))
        parameters = list(signature.parameters.values())[1:]
        return op, signature.replace(parameters=parameters)

    def _split(
        self,
        op: Operation[Any],
        signature: inspect.Signature,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> tuple[list[Any], dict[str, Any]]:
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"{op.qualname}(): {exc}") from None
        positional: list[Any] = []
        named: dict[str, Any] = {}
        for name, value in bound.arguments.items():
            kind = signature.parameters[name].kind
            if kind is inspect.Parameter.POSITIONAL_ONLY:
                positional.append(value)
            elif kind is inspect.Parameter.VAR_POSITIONAL or kind is inspect.Parameter.VAR_KEYWORD:
                raise TypeError(f"{op.qualname}: *args/**kwargs operations are not supported")
            else:
                named[name] = value
        return positional, named

    def __getattr__(self, name: str) -> Callable[..., Awaitable[Any]]:
        if name.startswith("__"):
            raise AttributeError(name)
        op, signature = self._operation(name)
        typed = self._typed

        async def call(*args: Any, _broker_timeout: float | None = None, **kwargs: Any) -> Any:
            from core_sdk.config import get_settings

            positional, named = self._split(op, signature, args, kwargs)
            timeout = (
                _broker_timeout
                if _broker_timeout is not None
                else get_settings().BROKER_TIMEOUT_SECONDS
            )
            return await typed._call(op, positional, named, timeout)

        async def kick(*args: Any, **kwargs: Any) -> TaskHandle[Any]:
            positional, named = self._split(op, signature, args, kwargs)
            return await typed._kick(op, positional, named)

        call.__name__ = name
        call.__qualname__ = f"{self._manager_cls.__name__}.broker.{name}"
        call.kick = kick  # type: ignore[attr-defined]
        return call
