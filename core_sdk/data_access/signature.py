"""Which DAM methods are operations, and the fingerprint of each operation's signature.

The generator and the worker both call these functions, so "what is an operation" and
"has this signature changed" are decided in one place.
"""

from __future__ import annotations

import enum
import hashlib
import inspect
import sys
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

_CONSTANT_TYPES = (type(None), bool, int, float, str, bytes, enum.Enum)


@dataclass(frozen=True)
class OperationInfo:
    """One public ``async def`` of a manager class."""

    name: str
    function: Callable[..., Any]
    defined_in: type


def _class_members(manager_cls: type) -> dict[str, tuple[Any, type]]:
    """Every attribute in the MRO, the first definition winning, with the class defining it."""
    members: dict[str, tuple[Any, type]] = {}
    for klass in inspect.getmro(manager_cls):
        if klass is object:
            continue
        for name, value in vars(klass).items():
            members.setdefault(name, (value, klass))
    return members


def _is_public(name: str) -> bool:
    return not name.startswith("_")


def iter_operations(manager_cls: type) -> list[OperationInfo]:
    """Public ``async def`` methods of ``manager_cls`` (own or inherited), sorted by name."""
    operations = []
    for name, (value, owner) in _class_members(manager_cls).items():
        if not _is_public(name) or isinstance(value, (property, classmethod, staticmethod)):
            continue
        if inspect.iscoroutinefunction(value):
            operations.append(OperationInfo(name=name, function=value, defined_in=owner))
    return sorted(operations, key=lambda op: op.name)


def skipped_methods(manager_cls: type) -> list[str]:
    """Public plain functions: callable on the DAM but not operations (they are not async)."""
    return sorted(
        name
        for name, (value, _) in _class_members(manager_cls).items()
        if _is_public(name) and inspect.isfunction(value) and not inspect.iscoroutinefunction(value)
    )


def generic_substitutions(manager_cls: type) -> dict[TypeVar, Any]:
    """TypeVar -> concrete type for every parameterised generic base in the MRO."""
    substitutions: dict[TypeVar, Any] = {}
    for klass in inspect.getmro(manager_cls):
        for base in getattr(klass, "__orig_bases__", ()):
            origin = typing.get_origin(base)
            params = getattr(origin, "__parameters__", ())
            for param, arg in zip(params, typing.get_args(base), strict=False):
                value = substitutions.get(arg, arg) if isinstance(arg, TypeVar) else arg
                substitutions.setdefault(param, value)
    return substitutions


def _annotation_text(annotation: Any) -> str:
    if annotation is inspect.Parameter.empty:
        return ""
    if isinstance(annotation, str):
        return annotation
    return inspect.formatannotation(annotation)


def _qualified(value: Any) -> str:
    if isinstance(value, type):
        return f"{value.__module__}.{value.__qualname__}"
    return _annotation_text(value)


def _default_text(value: Any) -> str:
    """A default as the fingerprint sees it: the same in every process.

    Constants (and tuples of them) by value; anything else only by type, because its ``repr``
    may change from run to run (``datetime.now()``, a set's order under hash randomisation).
    """
    if isinstance(value, _CONSTANT_TYPES):
        return repr(value)
    if type(value) is tuple:
        return "(" + ",".join(_default_text(item) for item in value) + ")"
    return f"<{type(value).__module__}.{type(value).__qualname__}>"


def operation_fingerprint(
    manager_cls: type,
    method_name: str,
    *,
    signature: inspect.Signature | None = None,
    substitutions: dict[TypeVar, Any] | None = None,
) -> str:
    """16 hex characters identifying the live signature of ``manager_cls.method_name``.

    ``signature`` (with ``self``) and ``substitutions`` (``generic_substitutions``) may be
    passed when the caller has them already (the generator, for thousands of methods).
    """
    if signature is None:
        signature = inspect.signature(getattr(manager_cls, method_name))
    parts = [method_name]
    for param in list(signature.parameters.values())[1:]:
        default = "" if param.default is param.empty else _default_text(param.default)
        parts.append(
            f"{param.name}|{param.kind.name}|{_annotation_text(param.annotation)}|{default}"
        )
    parts.append(f"->{_annotation_text(signature.return_annotation)}")
    if substitutions is None:
        substitutions = generic_substitutions(manager_cls)
    parts.extend(f"{var.__name__}={_qualified(value)}" for var, value in substitutions.items())
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def resolve_operation_types(manager_cls: type, method_name: str) -> tuple[dict[str, Any], Any]:
    """Runtime parameter types and return type, generic TypeVars substituted.

    Raises ``NameError`` when a hint names something only imported under ``TYPE_CHECKING``;
    callers decide how to degrade.
    """
    function = getattr(manager_cls, method_name)
    module = sys.modules.get(function.__module__)
    hints = typing.get_type_hints(
        function, globalns=vars(module) if module else None, include_extras=True
    )
    substitutions = generic_substitutions(manager_cls)
    resolved = {name: substitute(hint, substitutions) for name, hint in hints.items()}
    returns = resolved.pop("return", Any)
    return resolved, returns


def substitute(hint: Any, substitutions: dict[TypeVar, Any]) -> Any:
    """Replace TypeVars inside ``hint`` by their substitutions (recursively).

    Handles unions, builtin and ``typing`` generics, ``Annotated`` and pydantic generic models
    (``Page[ModelT]`` -> ``Page[Company]``).
    """
    if not substitutions:
        return hint
    if isinstance(hint, TypeVar):
        return substitutions.get(hint, hint)
    generic = getattr(hint, "__pydantic_generic_metadata__", None)
    is_generic_model = (
        isinstance(generic, dict) and generic.get("origin") is not None and generic.get("args")
    )
    if isinstance(hint, type) and not is_generic_model:
        return hint  # a plain class (str, a model): nothing inside to substitute
    if is_generic_model:
        assert isinstance(generic, dict)
        old_args: tuple[Any, ...] = tuple(generic["args"])
        new_args: tuple[Any, ...] = tuple(substitute(arg, substitutions) for arg in old_args)
        if new_args == old_args:
            return hint
        return generic["origin"][new_args[0] if len(new_args) == 1 else new_args]
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is None or not args or origin is typing.Literal:
        return hint
    if origin is typing.Annotated:
        inner = substitute(args[0], substitutions)
        if inner is args[0]:
            return hint
        return typing.Annotated[(inner, *hint.__metadata__)]
    new_args = tuple(
        [substitute(a, substitutions) for a in arg]
        if isinstance(arg, list)
        else substitute(arg, substitutions)
        for arg in args
    )
    if all(new is old or new == old for new, old in zip(new_args, args, strict=True)):
        return hint
    if origin in (typing.Union, types.UnionType):
        return typing.Union[new_args]  # noqa: UP007
    if isinstance(hint, types.GenericAlias):
        return types.GenericAlias(origin, new_args)
    copy_with = getattr(hint, "copy_with", None)
    if copy_with is not None:
        return copy_with(new_args)
    return hint


def resolve_operation_types_lenient(
    manager_cls: type, method_name: str
) -> tuple[dict[str, Any], Any, list[str]]:
    """Like :func:`resolve_operation_types`, but a hint that cannot be resolved at run time
    (a name imported only under ``TYPE_CHECKING``) becomes ``Any`` for that parameter alone.

    Returns ``(params, returns, unresolved)`` where ``unresolved`` names the degraded
    parameters (``"return"`` for the return type).
    """
    try:
        params, returns = resolve_operation_types(manager_cls, method_name)
        return params, returns, []
    except (NameError, AttributeError, TypeError, SyntaxError):
        pass
    function = getattr(manager_cls, method_name)
    module = sys.modules.get(function.__module__)
    globalns = vars(module) if module else {}
    substitutions = generic_substitutions(manager_cls)
    resolved: dict[str, Any] = {}
    unresolved: list[str] = []
    for name, annotation in getattr(function, "__annotations__", {}).items():

        def probe() -> None: ...

        probe.__annotations__ = {name: annotation}
        try:
            hint = typing.get_type_hints(probe, globalns=globalns, include_extras=True)[name]
        except Exception:
            unresolved.append(name)
            hint = Any
        resolved[name] = substitute(hint, substitutions)
    returns = resolved.pop("return", Any)
    return resolved, returns, unresolved
