"""The annotation codemod: narrow ``broker`` on each custom DAM class to its generated proxy.

For every custom manager class it ensures, in the class body::

    if TYPE_CHECKING:

        @property
        def broker(self) -> ProductBroker: ...

and, at module level, ``from typing import TYPE_CHECKING`` plus the guarded import
``if TYPE_CHECKING: from app._tasks import ProductBroker``. Nothing changes at run time.

:func:`annotate_source` is a pure function of the file's text: running it on its own output
returns the same text (idempotent), everything else in the file (formatting, comments) is
kept, and an existing annotation with a stale proxy name is updated in place.
"""

from __future__ import annotations

import ast
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from codegen.imports import _member_key
from codegen.sources import (
    _absolute_module,
    full_name,
    is_type_checking_guard,
    parse_source,
)
from codegen.style import CodeStyle

PROPERTY = "broker"
_BOM = "\ufeff"


@dataclass(frozen=True)
class BrokerAnnotation:
    """``class_qualname``'s ``broker`` is typed as ``broker_class``."""

    class_qualname: str
    broker_class: str


@dataclass(frozen=True)
class ModuleContext:
    """What the codemod needs to know about the file it edits."""

    path: str  # for messages
    package: str | None  # the file's package, to resolve and write relative imports
    generated_module: str  # dotted name of the generated module
    style: CodeStyle


def annotate_source(
    source: str, annotations: Sequence[BrokerAnnotation], context: ModuleContext
) -> str:
    """``source`` with every annotation present and current (unchanged when already so)."""
    bom = _BOM if source.startswith(_BOM) else ""  # libcst drops it: put it back
    wanted = {a.class_qualname: a.broker_class for a in annotations}
    if _already_annotated(source[len(bom) :], wanted, context):
        return source
    from codegen.codemod import rewrite  # libcst, imported only when a file needs a change

    return bom + rewrite(source[len(bom) :], wanted, context)


# --- fast path: nothing to do ----------------------------------------------------------------
# ``--check`` and re-runs mostly meet files the codemod already annotated; building and visiting
# the libcst tree only to return the text unchanged dominated their time. ``_already_annotated``
# decides "unchanged" from the stdlib ``ast`` (much cheaper), mirroring the libcst path's
# conditions exactly; whenever a case is unusual it answers False and the libcst path decides.


def _ast_guards(body: Sequence[ast.stmt]) -> list[ast.If] | None:
    """The ``if TYPE_CHECKING:`` statements of ``body``; None when one is written on one line or
    shares a line with another statement (the libcst path handles those)."""
    guards = []
    for statement in body:
        if not isinstance(statement, ast.If):
            continue
        if not is_type_checking_guard(statement.test):
            continue
        if statement.body[0].lineno <= (statement.test.end_lineno or statement.lineno):
            return None
        inner = statement.body
        if any(
            a.end_lineno is None or a.end_lineno >= b.lineno for a, b in itertools.pairwise(inner)
        ):
            return None
        guards.append(statement)
    return guards


def _class_is_current(node: ast.ClassDef, broker_class: str) -> bool:
    guards = _ast_guards(node.body)
    if guards is None:
        return False
    for guard in guards:
        for statement in guard.body:
            if (
                isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef)
                and statement.name == PROPERTY
                and any(full_name(d) == "property" for d in statement.decorator_list)
            ):
                return full_name(statement.returns) == broker_class
    return False


def _classes_are_current(tree: ast.Module, wanted: dict[str, str]) -> bool:
    seen: set[str] = set()
    scope: list[str] = []

    def walk(node: ast.AST) -> bool:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            return True  # classes nested in functions are not targets (as ``_ClassAnnotator``)
        if isinstance(node, ast.ClassDef):
            scope.append(node.name)
            qualname = ".".join(scope)
            broker_class = wanted.get(qualname)
            if broker_class is not None:
                seen.add(qualname)
                if not _class_is_current(node, broker_class):
                    return False
        ok = all(walk(child) for child in ast.iter_child_nodes(node))
        if isinstance(node, ast.ClassDef):
            scope.pop()
        return ok

    return walk(tree) and seen == set(wanted)


def _guarded_import_is_current(
    tree: ast.Module, required: list[str], context: ModuleContext
) -> bool:
    has_type_checking = any(
        isinstance(statement, ast.ImportFrom)
        and statement.module in ("typing", "typing_extensions")
        and any(a.asname is None and a.name == "TYPE_CHECKING" for a in statement.names)
        for statement in tree.body
    )
    guards = _ast_guards(tree.body)
    if not has_type_checking or guards is None:
        return False
    for guard in guards:
        for statement in guard.body:
            if not isinstance(statement, ast.ImportFrom) or statement.names[0].name == "*":
                continue
            imported = _absolute_module(context.package, statement.module, statement.level)
            if imported != context.generated_module:
                continue
            present = [alias.name for alias in statement.names]
            if any(name not in required and name.endswith("Broker") for name in present):
                return False  # whether it stays depends on its uses: the libcst path counts
            names = sorted(set(present) | set(required), key=lambda n: _member_key(n, None))
            return names == present
    return False


def _already_annotated(source: str, wanted: dict[str, str], context: ModuleContext) -> bool:
    """True when :func:`annotate_source` would return ``source`` unchanged (False: unsure)."""
    try:
        tree = parse_source(source)
    except (SyntaxError, ValueError):
        return False
    return _classes_are_current(tree, wanted) and _guarded_import_is_current(
        tree, sorted(set(wanted.values())), context
    )
