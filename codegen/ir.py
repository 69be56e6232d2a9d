"""The intermediate representation: plain data between inspection and rendering.

Inspection turns live classes into these dataclasses; the renderer sees nothing else. Type and
value expressions are small trees whose leaves are :class:`Symbol` references (module + name),
so the renderer alone decides how each symbol is imported and spelled.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, order=True)
class SourceLocation:
    """A place in user code, for error messages (``path:line``)."""

    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


# --- expressions --------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Symbol:
    """A name defined at the top level of ``module`` (``builtins`` for builtins)."""

    module: str
    name: str


@dataclass(frozen=True)
class Name:
    """``symbol`` followed by attribute access: ``Outer.Inner``, ``Status.ACTIVE``."""

    symbol: Symbol
    attrs: tuple[str, ...] = ()


@dataclass(frozen=True)
class Subscript:
    """``base[args]``; an empty ``args`` is rendered as ``base[()]``."""

    base: Name
    args: tuple[Expr, ...]


@dataclass(frozen=True)
class Union:
    """``a | b | ...`` in declaration order."""

    members: tuple[Expr, ...]


@dataclass(frozen=True)
class Constant:
    """A literal, already in source form: ``None``, ``True``, ``3``, ``"text"``, ``b"raw"``."""

    source: str


@dataclass(frozen=True)
class Call:
    """``func(args, key=value)``: metadata objects inside ``Annotated[...]``."""

    func: Name
    args: tuple[Expr, ...] = ()
    kwargs: tuple[tuple[str, Expr], ...] = ()


@dataclass(frozen=True)
class Tuple:
    """A tuple display ``(a, b)`` (a default value)."""

    items: tuple[Expr, ...]


Expr = Name | Subscript | Union | Constant | Call | Tuple

# the default of a parameter whose real default is left to the DAM (the call omits it)
DAM_DEFAULT = Name(Symbol("core_sdk.data_access", "DAM_DEFAULT"))


# --- the service --------------------------------------------------------------------------


class ParamKind(enum.Enum):
    POSITIONAL_ONLY = "positional-only"
    POSITIONAL_OR_KEYWORD = "positional-or-keyword"
    KEYWORD_ONLY = "keyword-only"


@dataclass(frozen=True)
class Param:
    """One parameter of an operation (never ``self``).

    ``default`` is None for a required parameter. A default that cannot be written as source is
    ``DAM_DEFAULT`` (a :class:`Name`): the call then leaves the argument out and the DAM applies
    its own default.
    """

    name: str
    kind: ParamKind
    annotation: Expr
    default: Expr | None = None


@dataclass(frozen=True)
class Operation:
    """One public ``async def`` of a manager, as the proxy exposes it."""

    name: str
    constant: str  # module-level ``Operation[...]`` object, e.g. ``_PRODUCT_REPRICE``
    params: tuple[Param, ...]
    returns: Expr
    fingerprint: str
    summary: str | None  # first line of the DAM method's docstring
    location: SourceLocation


@dataclass(frozen=True)
class ManagerView:
    """``class <Model>Manager(<manager class>[...])`` whose ``broker`` is typed.

    Generated for managers the codemod does not edit (the default ``LocalDataAccessManager``,
    generic or shared managers); ``get_manager("<Model>")`` is typed as returning it.
    """

    class_name: str
    base: Expr
    default: bool  # the base is LocalDataAccessManager


@dataclass(frozen=True)
class AnnotationTarget:
    """A custom DAM class whose ``broker`` the annotation codemod narrows."""

    path: Path
    package: str | None  # the defining module's package (for relative imports)
    qualname: str
    broker_class: str


@dataclass(frozen=True)
class Model:
    """One registered model and the names generated for it."""

    name: str
    broker_class: str
    kicker_class: str
    manager: Name  # what ``get_manager("<name>")`` returns
    manager_label: str  # the DAM class, for docstrings
    manager_view: ManagerView | None
    operations: tuple[Operation, ...]
    skipped: tuple[str, ...]  # public non-async methods, reported once
    annotation_target: AnnotationTarget | None


@dataclass(frozen=True)
class Service:
    """Everything the generated module is rendered from."""

    registry: str  # relative to the service root, e.g. ``app/registry_config.py``
    registry_module: str  # e.g. ``app.registry_config``
    output: str  # relative to the service root, e.g. ``app/_tasks.py``
    output_module: str | None  # dotted name of the generated module, for the codemod's import
    models: tuple[Model, ...]
    notes: tuple[str, ...] = field(default=())  # warnings to print (dropped metadata, ...)
