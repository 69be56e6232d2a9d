"""What the generator reads from user source files (with libcst): guarded imports and positions.

Two things cannot be learnt from live objects:

* names a module imports only under ``if TYPE_CHECKING:`` (they do not exist at run time, yet
  the DAM's annotations use them);
* the line of each parameter, for error messages that point at the offending annotation.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst
from libcst.helpers import get_absolute_module_from_package_for_import, get_full_name_for_node
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider


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


def is_type_checking_test(test: cst.BaseExpression) -> bool:
    """``TYPE_CHECKING`` or ``typing.TYPE_CHECKING`` (or ``typing_extensions.``)."""
    name = get_full_name_for_node(test)
    return name is not None and name.split(".")[-1] == "TYPE_CHECKING"


class _Collector(cst.CSTVisitor):
    METADATA_DEPENDENCIES = (PositionProvider,)

    def __init__(self, package: str | None) -> None:
        self.package = package
        self.guarded: dict[str, GuardedImport] = {}
        self.functions: dict[str, FunctionSource] = {}
        self.classes: dict[str, int] = {}
        self._scope: list[str] = []
        self._guard_depth = 0

    def _line(self, node: cst.CSTNode) -> int:
        position = self.get_metadata(PositionProvider, node)
        assert isinstance(position, CodeRange)
        return position.start.line

    def visit_If(self, node: cst.If) -> bool:
        if not self._scope and is_type_checking_test(node.test):
            self._guard_depth += 1
        return True

    def leave_If(self, original_node: cst.If) -> None:
        if not self._scope and is_type_checking_test(original_node.test):
            self._guard_depth -= 1

    def visit_Else(self, node: cst.Else) -> bool:
        return self._guard_depth == 0  # ``else:`` of a TYPE_CHECKING block runs at run time

    def visit_Import(self, node: cst.Import) -> None:
        if not self._guard_depth:
            return
        for alias in node.names:
            module = get_full_name_for_node(alias.name) or ""
            if alias.asname is not None:
                bound = get_full_name_for_node(alias.asname.name) or module
                self._add(GuardedImport(bound, module, None, self._line(node)))
            else:
                top = module.split(".")[0]
                self._add(GuardedImport(top, top, None, self._line(node)))

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if not self._guard_depth or isinstance(node.names, cst.ImportStar):
            return
        module = get_absolute_module_from_package_for_import(self.package, node)
        if module is None:
            return
        for alias in node.names:
            attribute = get_full_name_for_node(alias.name) or ""
            bound = attribute
            if alias.asname is not None:
                bound = get_full_name_for_node(alias.asname.name) or attribute
            self._add(GuardedImport(bound, module, attribute, self._line(node)))

    def _add(self, guarded: GuardedImport) -> None:
        self.guarded.setdefault(guarded.name, guarded)

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self._scope.append(node.name.value)
        self.classes[".".join(self._scope)] = self._line(node)
        return True

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._scope.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        qualname = ".".join([*self._scope, node.name.value])
        params = node.params
        every = [
            *params.posonly_params,
            *params.params,
            *params.kwonly_params,
            *[p for p in (params.star_arg, params.star_kwarg) if isinstance(p, cst.Param)],
        ]
        self.functions.setdefault(
            qualname,
            FunctionSource(
                line=self._line(node.name),
                param_lines={param.name.value: self._line(param) for param in every},
                returns_line=self._line(node.returns) if node.returns is not None else None,
            ),
        )
        return False  # nested functions are not methods


@functools.lru_cache(maxsize=256)
def read_module_source(path: Path, package: str | None) -> ModuleSource:
    """Parse ``path`` (a module of ``package``) once."""
    # the tree is parsed here and never shared, so libcst's defensive deep copy is waste
    wrapper = MetadataWrapper(cst.parse_module(path.read_bytes()), unsafe_skip_copy=True)
    collector = _Collector(package)
    wrapper.visit(collector)
    return ModuleSource(
        path=path,
        guarded_imports=dict(collector.guarded),
        functions=dict(collector.functions),
        classes=dict(collector.classes),
    )
