"""Runtime type hints and default values -> IR expressions (the only place that does it).

Every type form a DAM signature may use is handled here, or refused with the reason: the
generator never falls back to ``Any``. Symbols are referenced by the module that defines them
(or the shortest package that re-exports them in ``__all__``), so the generated module imports
them at run time even when the DAM only imports them under ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
import collections
import collections.abc
import dataclasses
import enum
import inspect
import keyword
import math
import sys
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pydantic

from codegen import ir
from codegen.errors import safe_repr

T = TypeVar("T")


class UnsupportedType(Exception):
    """A hint that cannot be rendered faithfully; the message says why."""


_TYPING = "typing"
ANY = ir.Name(ir.Symbol(_TYPING, "Any"))
LITERAL = ir.Symbol(_TYPING, "Literal")
ANNOTATED = ir.Symbol(_TYPING, "Annotated")
NONE = ir.Constant("None")

_SPECIAL_FORMS: dict[object, ir.Name] = {
    Any: ANY,
    typing.Never: ir.Name(ir.Symbol(_TYPING, "Never")),
    typing.NoReturn: ir.Name(ir.Symbol(_TYPING, "NoReturn")),
    typing.LiteralString: ir.Name(ir.Symbol(_TYPING, "LiteralString")),
}

_REFUSED_FORMS: dict[object, str] = {
    typing.Self: "Self cannot be expressed on the proxy (it is not the manager); "
    "annotate the concrete type",
    typing.ClassVar: "ClassVar is not a parameter or return type",
    typing.Final: "Final is not a parameter or return type",
    collections.abc.Callable: "callables cannot be sent to a worker as JSON",
    type: "classes (type[...]) cannot be sent to a worker as JSON; send a name (e.g. a "
    "Literal of class names) and look the class up in the DAM",
}

# bytes travel as JSON text: pydantic writes them as UTF-8, so only UTF-8 bytes would survive
_BYTES_TYPES: tuple[type, ...] = (bytes, bytearray)
_BYTES_REFUSED = (
    "{name} cannot be sent faithfully: the JSON wire format carries bytes as UTF-8 text, so "
    "bytes that are not UTF-8 fail; use pydantic's Base64Bytes (bytes sent as base64, the "
    "value is still bytes) or a str"
)

# pydantic's named Annotated aliases, spelled by their names
_PYDANTIC_ALIASES: dict[object, ir.Name] = {
    getattr(pydantic, name): ir.Name(ir.Symbol("pydantic", name))
    for name in ("Base64Bytes", "Base64Str", "Base64UrlBytes", "Base64UrlStr")
}
# Annotated metadata that changes how a value is serialised: dropping it would make the
# caller encode differently from what the worker decodes
_SERIALISING_METADATA: tuple[type, ...] = (
    pydantic.EncodedBytes,
    pydantic.EncodedStr,
    pydantic.PlainSerializer,
    pydantic.WrapSerializer,
)

_BUILTIN_GENERICS: frozenset[object] = frozenset(
    {
        list,
        dict,
        set,
        frozenset,
        tuple,
        type,
        collections.deque,
        collections.defaultdict,
        collections.OrderedDict,
        collections.Counter,
        collections.ChainMap,
    }
)


def _is_bare_generic(cls: type) -> bool:
    if cls in _BUILTIN_GENERICS or bool(getattr(cls, "__parameters__", ())):
        return True
    return cls.__module__ == "collections.abc" and hasattr(cls, "__class_getitem__")


@dataclass
class TypeConverter:
    """Converts hints whose type variables are substituted; collects notes (dropped metadata)."""

    notes: list[str] = field(default_factory=list)
    _substitutions: Mapping[TypeVar, Any] = field(default_factory=dict)
    _symbols: dict[object, ir.Name] = field(default_factory=dict)  # obj -> its import

    # --- types --------------------------------------------------------------------------

    def type_expr(
        self, hint: object, substitutions: Mapping[TypeVar, Any] | None = None
    ) -> ir.Expr:
        """The IR of ``hint``, with each type variable of ``substitutions`` replaced by its value
        (substituted here, in the IR: no parametrised runtime class is built for it)."""
        previous = self._substitutions
        if substitutions is not None:
            self._substitutions = substitutions
        try:
            return self._type_expr(hint)
        finally:
            self._substitutions = previous

    def _type_expr(self, hint: object) -> ir.Expr:
        if hint is None or hint is type(None):
            return NONE
        special = _lookup(_SPECIAL_FORMS, hint) or _lookup(_PYDANTIC_ALIASES, hint)
        if special is not None:
            return special
        if hint in _BYTES_TYPES:
            raise UnsupportedType(_BYTES_REFUSED.format(name=getattr(hint, "__name__", hint)))
        refused = _lookup(_REFUSED_FORMS, hint)
        if refused is not None:
            raise UnsupportedType(refused)
        if isinstance(hint, TypeVar) and self._substitutions.get(hint, hint) is not hint:
            return self._type_expr(self._substitutions[hint])
        if isinstance(hint, TypeVar):
            raise UnsupportedType(
                f"type variable {hint.__name__} is not bound by the manager's generic bases "
                "(method-level generics cannot be expressed on the proxy)"
            )
        if isinstance(hint, str | typing.ForwardRef):
            raise UnsupportedType(f"unresolved forward reference {safe_repr(hint)}")
        generic = getattr(hint, "__pydantic_generic_metadata__", None)
        if isinstance(generic, dict) and generic.get("origin") is not None and generic["args"]:
            args = tuple(self._type_expr(arg) for arg in generic["args"])
            return ir.Subscript(self.symbol_name(generic["origin"]), args)
        origin = typing.get_origin(hint)
        if origin is not None:
            return self._generic(hint, origin, typing.get_args(hint))
        if isinstance(hint, type):
            if _is_bare_generic(hint):
                raise UnsupportedType(
                    f"generic type {hint.__qualname__} has no type arguments (that is an implicit "
                    f"Any); write e.g. {hint.__qualname__}[...] with the element types"
                )
            return self.symbol_name(hint)
        if isinstance(hint, typing.NewType):
            return self.symbol_name(hint)
        raise UnsupportedType(f"unsupported annotation {safe_repr(hint)}")

    def _generic(self, hint: object, origin: object, args: tuple[Any, ...]) -> ir.Expr:
        if origin is typing.Annotated:
            return self._annotated(hint, args[0])
        if origin is typing.Literal:
            return ir.Subscript(ir.Name(LITERAL), tuple(self._literal_arg(arg) for arg in args))
        if origin is typing.Union or origin is types.UnionType:
            return self._union(args)
        refused = _lookup(_REFUSED_FORMS, origin)
        if refused is not None:
            raise UnsupportedType(refused)
        if not isinstance(origin, type):
            raise UnsupportedType(f"unsupported annotation {safe_repr(hint)}")
        if origin is tuple and not args:
            return ir.Subscript(self.symbol_name(tuple), ())
        if not args:
            raise UnsupportedType(
                f"generic type {origin.__qualname__} has no type arguments (an implicit Any)"
            )
        rendered = tuple(
            ir.Constant("...") if arg is Ellipsis else self._type_expr(arg) for arg in args
        )
        return ir.Subscript(self.symbol_name(origin), rendered)

    def _union(self, args: tuple[Any, ...]) -> ir.Expr:
        """Members flattened and deduplicated, as ``typing.Union`` does for runtime types: a
        substituted type variable can repeat a member (``CreateT | dict[str, Any]``)."""
        members: list[ir.Expr] = []
        for arg in args:
            expr = self._type_expr(arg)
            for member in expr.members if isinstance(expr, ir.Union) else (expr,):
                if member not in members:
                    members.append(member)
        return members[0] if len(members) == 1 else ir.Union(tuple(members))

    def _literal_arg(self, value: object) -> ir.Expr:
        expr = self.value_expr(value)
        if expr is None and isinstance(value, enum.Enum) and not _is_attribute_name(value.name):
            raise UnsupportedType(
                f"Literal member {value!r}: the enum member name {value.name!r} is not a Python "
                "identifier, so it cannot be written as source"
            )
        if expr is None or isinstance(expr, ir.Tuple):
            raise UnsupportedType(f"Literal value {safe_repr(value)} cannot be written as source")
        return expr

    def _annotated(self, hint: object, inner_hint: object) -> ir.Expr:
        metadata: tuple[object, ...] = getattr(hint, "__metadata__", ())
        encoded = any(isinstance(item, pydantic.EncodedBytes) for item in metadata)
        if encoded and inner_hint in _BYTES_TYPES:
            inner: ir.Expr = self.symbol_name(inner_hint)  # encoded: not UTF-8 on the wire
        else:
            inner = self._type_expr(inner_hint)
        rendered: list[ir.Expr] = []
        for item in metadata:
            exprs = self.metadata_exprs(item)
            if exprs is None and isinstance(item, _SERIALISING_METADATA):
                raise UnsupportedType(
                    f"Annotated metadata {type(item).__name__}(...) changes how the value is "
                    "serialised and is "
                    "not expressible as source (the caller would encode the value differently "
                    "from what the worker decodes); give it arguments that are constants or "
                    "public module-level names"
                )
            if exprs is None:
                self.notes.append(
                    f"Annotated metadata {safe_repr(item)} is not expressible as source; the "
                    "proxy keeps the plain type (static checks are unaffected, and the worker "
                    "still validates with the DAM's own annotation)"
                )
                return inner
            rendered.extend(exprs)
        if not rendered:
            return inner
        return ir.Subscript(ir.Name(ANNOTATED), (inner, *rendered))

    # --- values -------------------------------------------------------------------------

    def value_expr(self, value: object) -> ir.Expr | None:
        """Source for a constant value (a default, a Literal member), or None when impossible."""
        if value is None or isinstance(value, bool):
            return ir.Constant(repr(value))
        if type(value) is int:
            return ir.Constant(repr(value))
        if type(value) is float:
            return ir.Constant(repr(value)) if math.isfinite(value) else None
        if type(value) is str:
            return ir.Constant(string_literal(value))
        if type(value) is bytes:
            return ir.Constant(bytes_literal(value))
        if isinstance(value, enum.Enum):
            if not _is_attribute_name(value.name):
                return None  # ``Enum("E", {"a b": 1})``: ``E.a b`` is not source
            try:
                owner = self.symbol_name(type(value))
            except UnsupportedType:
                return None
            if type(value).__members__.get(value.name) is not value:
                return None  # a composite flag (``A | B``), an alias or a pseudo-member
            return ir.Name(owner.symbol, (*owner.attrs, value.name))
        if type(value) is tuple:
            items = [self.value_expr(item) for item in value]
            if any(item is None for item in items):
                return None
            return ir.Tuple(tuple(item for item in items if item is not None))
        return None

    def metadata_exprs(self, item: object) -> list[ir.Expr] | None:
        """An ``Annotated`` metadata object as source: constants and ``Cls(constants)`` calls.

        A pydantic ``Field(...)`` becomes ``Field(<arguments it was given>)`` followed by the
        constraints pydantic folded into it (``Field(gt=0)`` -> ``Gt(gt=0)``), which pydantic
        reads the same way. None when any part cannot be written as source.
        """
        constant = self.value_expr(item)
        if constant is not None:
            return [constant]
        field_info = _field_info_parts(item)
        if field_info is not None:
            field_func, arguments, folded = field_info
            exprs: list[ir.Expr | None] = (
                [self._call(field_func, (), arguments)] if arguments else []
            )
            for part in folded:
                rendered = self.metadata_exprs(part)
                exprs.extend(rendered if rendered is not None else [None])
            if any(expr is None for expr in exprs):
                return None
            return [expr for expr in exprs if expr is not None]
        call = self._repr_call(item)
        if call is None and isinstance(item, _SERIALISING_METADATA):
            call = self._dataclass_call(item)
        return None if call is None else [call]

    def _dataclass_call(self, item: object) -> ir.Expr | None:
        """A dataclass instance as ``Cls(field=value)`` (fields that differ from their
        defaults), when the values are constants or public importable names and the call
        rebuilds an equal object: ``EncodedBytes(encoder=Base64Encoder)``."""
        if not dataclasses.is_dataclass(item) or isinstance(item, type):
            return None
        cls = type(item)
        kwargs: dict[str, object] = {}
        for each in dataclasses.fields(item):
            if not each.init:
                continue
            value = getattr(item, each.name, _MISSING)
            if value is _MISSING or (
                each.default is not dataclasses.MISSING and value is each.default
            ):
                continue
            kwargs[each.name] = value
        try:
            if cls(**kwargs) != item:
                return None
            name = self.symbol_name(cls)
        except (TypeError, ValueError, UnsupportedType):
            return None
        rendered: list[tuple[str, ir.Expr]] = []
        for key, value in kwargs.items():
            expr = self.value_expr(value)
            if expr is None and (isinstance(value, type) or inspect.isfunction(value)):
                try:
                    expr = self.symbol_name(value)
                except UnsupportedType:
                    return None
                if expr.symbol.name.startswith("_"):
                    return None  # importing a private name fails strict type checking
            if expr is None:
                return None
            rendered.append((key, expr))
        return ir.Call(name, (), tuple(rendered))

    def _repr_call(self, item: object) -> ir.Expr | None:
        cls = type(item)
        try:
            node = ast.parse(safe_repr(item), mode="eval").body
        except SyntaxError:
            return None
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            return None
        if node.func.id != cls.__name__:
            return None
        try:
            args = tuple(ast.literal_eval(arg) for arg in node.args)
            kwargs = {kw.arg: ast.literal_eval(kw.value) for kw in node.keywords if kw.arg}
            if len(kwargs) != len(node.keywords) or cls(*args, **kwargs) != item:
                return None
        except (ValueError, TypeError, SyntaxError):
            return None
        return self._call(cls, args, kwargs)

    def _call(
        self, func: Callable[..., object], args: tuple[object, ...], kwargs: dict[str, Any]
    ) -> ir.Expr | None:
        rendered_args = [self.value_expr(arg) for arg in args]
        rendered_kwargs = [(key, self.value_expr(value)) for key, value in kwargs.items()]
        if any(a is None for a in rendered_args) or any(v is None for _, v in rendered_kwargs):
            return None
        try:
            name = self.symbol_name(func)
        except UnsupportedType:
            return None
        return ir.Call(
            name,
            tuple(a for a in rendered_args if a is not None),
            tuple((key, value) for key, value in rendered_kwargs if value is not None),
        )

    # --- symbols ------------------------------------------------------------------------

    def symbol_name(self, obj: object) -> ir.Name:
        """How to import ``obj``: its defining module, or a shorter package re-exporting it."""
        try:
            known = self._symbols.get(obj)
        except TypeError:  # unhashable
            return self._symbol_name(obj)
        if known is None:
            known = self._symbols[obj] = self._symbol_name(obj)
        return known

    @staticmethod
    def _symbol_name(obj: object) -> ir.Name:
        module_name = getattr(obj, "__module__", None)
        qualname = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
        if not isinstance(module_name, str) or not isinstance(qualname, str):
            raise UnsupportedType(f"{safe_repr(obj)} has no importable name")
        if "<locals>" in qualname:
            raise UnsupportedType(
                f"{qualname} is defined inside a function; the generated module cannot import it"
            )
        if module_name == "__main__":
            raise UnsupportedType(f"{qualname} is defined in __main__ and cannot be imported")
        parts = qualname.split(".")
        modules = module_name.split(".")
        for end in range(1, len(modules) + 1):
            candidate = ".".join(modules[:end])
            module = sys.modules.get(candidate)
            if module is None or _attribute_path(module, parts) is not obj:
                continue
            if candidate == module_name or parts[0] in getattr(module, "__all__", ()):
                return ir.Name(ir.Symbol(candidate, parts[0]), tuple(parts[1:]))
        raise UnsupportedType(
            f"{module_name}.{qualname} is not importable by that name (is it re-bound or created "
            "dynamically?)"
        )


def _is_attribute_name(name: object) -> bool:
    """``name`` can be written after a dot (an identifier that is not a keyword)."""
    return isinstance(name, str) and name.isidentifier() and not keyword.iskeyword(name)


def _lookup(table: Mapping[object, T], key: object) -> T | None:
    try:
        return table.get(key)
    except TypeError:  # unhashable hint
        return None


def _attribute_path(module: object, parts: list[str]) -> object:
    current: object = module
    for part in parts:
        current = getattr(current, part, _MISSING)
        if current is _MISSING:
            return _MISSING
    return current


_MISSING = object()


def _field_info_parts(
    item: object,
) -> tuple[Callable[..., object], dict[str, Any], list[object]] | None:
    """A pydantic ``FieldInfo`` as ``Field(**attributes)``, plus the metadata it folded in."""
    try:
        from pydantic import Field
        from pydantic.fields import FieldInfo
    except ImportError:  # pragma: no cover - pydantic is a dependency
        return None
    if not isinstance(item, FieldInfo):
        return None
    attributes = dict(getattr(item, "_attributes_set", {}))
    return Field, attributes, list(item.metadata)


def string_literal(text: str) -> str:
    """``text`` as a string literal in ruff's preferred quotes (double, unless fewer escapes)."""
    if text.isprintable() and '"' not in text and "\\" not in text:
        return f'"{text}"'  # the common case, without the loop
    quote = "'" if text.count('"') > text.count("'") else '"'
    body = []
    for char in text:
        if char in (quote, "\\"):
            body.append("\\" + char)
        elif char.isprintable():
            body.append(char)
        else:
            body.append(repr(char)[1:-1])
    return quote + "".join(body) + quote


def bytes_literal(value: bytes) -> str:
    """``value`` as a bytes literal in ruff's preferred quotes (as :func:`string_literal`)."""
    quote = "'" if value.count(b'"') > value.count(b"'") else '"'
    body = []
    for byte in value:
        char = chr(byte)
        if char in (quote, "\\"):
            body.append("\\" + char)
        elif char in _BYTE_ESCAPES:
            body.append(_BYTE_ESCAPES[char])
        elif 0x20 <= byte < 0x7F:
            body.append(char)
        else:
            body.append(f"\\x{byte:02x}")
    return "b" + quote + "".join(body) + quote


_BYTE_ESCAPES = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}
