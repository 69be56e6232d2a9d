"""What the generator reads from user source files (stdlib ``ast``): guarded imports, positions.

Two things cannot be learnt from live objects:

* names a module imports only under ``if TYPE_CHECKING:`` (they do not exist at run time, yet
  the DAM's annotations use them);
* the line of each parameter, for error messages that point at the offending annotation.
"""

from __future__ import annotations

import ast
import functools
import importlib
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class GuardedImport:
    """A name bound by an import inside a module-level ``if TYPE_CHECKING:`` block."""

    name: str
    module: str  # absolute
    attribute: str | None  # ``from module import attribute``; None for ``import module``
    line: int

    def resolve(self) -> object:
        """Import it now (everything is importable at generation time)."""
        module = importlib.import_module(self.module)
        if self.attribute is None:
            return module
        try:
            return getattr(module, self.attribute)
        except AttributeError:
            return importlib.import_module(f"{self.module}.{self.attribute}")


@dataclass(frozen=True)
class FunctionSource:
    """Where a function and its parameters are written."""

    line: int
    param_lines: Mapping[str, int] = field(default_factory=dict)
    returns_line: int | None = None


@dataclass(frozen=True)
class ModuleSource:
    path: Path
    guarded_imports: Mapping[str, GuardedImport]
    functions: Mapping[str, FunctionSource]  # by qualname, e.g. ``ProductManager.reprice``
    classes: Mapping[str, int]  # qualname -> line of ``class``


def is_type_checking_name(name: str | None) -> bool:
    """``TYPE_CHECKING`` or ``typing.TYPE_CHECKING`` (or ``typing_extensions.``): the test of a
    guard, as a dotted name (the one rule, for ``ast`` here and libcst in the codemod)."""
    return name is not None and name.split(".")[-1] == "TYPE_CHECKING"


def full_name(node: ast.expr | None) -> str | None:
    """The dotted name of ``node`` as libcst's ``get_full_name_for_node`` reads it."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        value = full_name(node.value)
        return None if value is None else f"{value}.{node.attr}"
    if isinstance(node, ast.Call):
        return full_name(node.func)
    if isinstance(node, ast.Subscript):
        return full_name(node.value)
    return None


def is_type_checking_guard(test: ast.expr) -> bool:
    """Whether an ``if`` test is ``TYPE_CHECKING`` (see :func:`is_type_checking_name`)."""
    return is_type_checking_name(full_name(test))


def _absolute_module(package: str | None, module: str | None, level: int) -> str | None:
    """As ``libcst.helpers.get_absolute_module_from_package`` (importlib's ``_resolve_name``)."""
    if level == 0:
        return module
    if not package:
        return None
    bits = package.rsplit(".", level - 1)
    if len(bits) < level:
        return None
    return f"{bits[0]}.{module}" if module else bits[0]


class _Collector:
    """Walks the ``ast`` tree in source order, as the libcst visitor it replaced did."""

    def __init__(self, package: str | None, lines: list[bytes]) -> None:
        self.package = package
        self.lines = lines
        self.guarded: dict[str, GuardedImport] = {}
        self.functions: dict[str, FunctionSource] = {}
        self.classes: dict[str, int] = {}
        self._scope: list[str] = []
        self._guard_depth = 0

    def _is_elif(self, node: ast.stmt) -> bool:
        line = self.lines[node.lineno - 1] if node.lineno <= len(self.lines) else b""
        return line[node.col_offset : node.col_offset + 4] == b"elif"

    def visit(self, node: ast.AST) -> None:
        if isinstance(node, ast.If):
            self._visit_if(node)
        elif isinstance(node, ast.Import):
            self._visit_import(node)
        elif isinstance(node, ast.ImportFrom):
            self._visit_import_from(node)
        elif isinstance(node, ast.ClassDef):
            self._scope.append(node.name)
            self.classes[".".join(self._scope)] = node.lineno
            self._generic_visit(node)
            self._scope.pop()
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            self._visit_function(node)
        elif isinstance(node, ast.For | ast.AsyncFor | ast.While | ast.Try | ast.TryStar):
            for name, value in ast.iter_fields(node):
                if name == "orelse" and self._guard_depth:
                    continue  # ``else:`` inside a TYPE_CHECKING block (libcst's ``visit_Else``)
                self._visit_field(value)
        else:
            self._generic_visit(node)

    def _visit_field(self, value: object) -> None:
        if isinstance(value, list):
            for item in value:
                if isinstance(item, ast.AST):
                    self.visit(item)
        elif isinstance(value, ast.AST):
            self.visit(value)

    def _generic_visit(self, node: ast.AST) -> None:
        for _, value in ast.iter_fields(node):
            self._visit_field(value)

    def _visit_if(self, node: ast.If) -> None:
        guard = not self._scope and is_type_checking_guard(node.test)
        if guard:
            self._guard_depth += 1
        self.visit(node.test)
        for statement in node.body:
            self.visit(statement)
        orelse = node.orelse
        if len(orelse) == 1 and isinstance(orelse[0], ast.If) and self._is_elif(orelse[0]):
            self.visit(orelse[0])  # ``elif`` is a nested ``If``, not an ``else:``
        elif orelse and not self._guard_depth:  # ``else:`` of a TYPE_CHECKING block runs
            for statement in orelse:
                self.visit(statement)
        if guard:
            self._guard_depth -= 1

    def _visit_import(self, node: ast.Import) -> None:
        if not self._guard_depth:
            return
        for alias in node.names:
            module = alias.name
            if alias.asname is not None:
                self._add(GuardedImport(alias.asname, module, None, node.lineno))
            else:
                top = module.split(".")[0]
                self._add(GuardedImport(top, top, None, node.lineno))

    def _visit_import_from(self, node: ast.ImportFrom) -> None:
        if not self._guard_depth or any(alias.name == "*" for alias in node.names):
            return
        module = _absolute_module(self.package, node.module, node.level)
        if module is None:
            return
        for alias in node.names:
            bound = alias.asname if alias.asname is not None else alias.name
            self._add(GuardedImport(bound, module, alias.name, node.lineno))

    def _add(self, guarded: GuardedImport) -> None:
        self.guarded.setdefault(guarded.name, guarded)

    def _visit_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        qualname = ".".join([*self._scope, node.name])
        args = node.args
        every = [
            *args.posonlyargs,
            *args.args,
            *args.kwonlyargs,
            *[a for a in (args.vararg, args.kwarg) if a is not None],
        ]
        self.functions.setdefault(
            qualname,
            FunctionSource(
                line=node.lineno,
                param_lines={arg.arg: arg.lineno for arg in every},
                returns_line=node.returns.lineno if node.returns is not None else None,
            ),
        )
        # nested functions are not methods, and their bodies are not read


@functools.lru_cache(maxsize=512)
def parse_source(text: str | bytes) -> ast.Module:
    """``text`` (str without BOM, or bytes whose coding cookie the parser reads) parsed by the
    stdlib, once per text: the inspection and the codemod's check read the same DAM files (a
    parse is ~0.1 s for 1,200 lines). Read-only: do not modify the tree. Raises
    SyntaxError/ValueError as ``ast.parse``."""
    with warnings.catch_warnings():  # the module was compiled on import: it warned then
        warnings.simplefilter("ignore")
        return ast.parse(text)


@functools.lru_cache(maxsize=256)
def read_module_source(path: Path, package: str | None) -> ModuleSource:
    """Parse ``path`` (a module of ``package``) once."""
    # stdlib ``ast`` for this read-only pass (speed: libcst + PositionProvider cost ~10 s on a
    # 300-model service); libcst stays for rewriting (codemod.py)
    data = path.read_bytes()
    collector = _Collector(package, data.splitlines())
    try:
        text: str | bytes = data.decode("utf-8").removeprefix("\ufeff")  # as the codemod reads
    except UnicodeDecodeError:  # another declared encoding: the parser reads the cookie
        text = data
    tree = parse_source(text)
    for statement in tree.body:
        collector.visit(statement)
    return ModuleSource(
        path=path,
        guarded_imports=dict(collector.guarded),
        functions=dict(collector.functions),
        classes=dict(collector.classes),
    )
