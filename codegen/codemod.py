"""The libcst rewrite behind :func:`codegen.annotate.annotate_source` (see there).

A pure function of the file's text: formatting and comments are kept, and running it on its
own output changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst
from libcst.helpers import get_absolute_module_from_package_for_import, get_full_name_for_node

from codegen.annotate import PROPERTY, ModuleContext
from codegen.errors import CodegenError
from codegen.imports import _member_key, _module_key
from codegen.ir import SourceLocation
from codegen.sources import is_type_checking_name
from codegen.style import Section


def is_type_checking_test(test: cst.BaseExpression) -> bool:
    """Whether an ``if`` test is ``TYPE_CHECKING`` (see ``sources.is_type_checking_name``)."""
    return is_type_checking_name(get_full_name_for_node(test))


def rewrite(source: str, wanted: dict[str, str], context: ModuleContext) -> str:
    """``source`` (no BOM) with the ``broker`` property of each class in ``wanted``
    (qualname -> proxy class) and the module-level imports it needs."""
    module = cst.parse_module(source)
    classes = _ClassAnnotator(wanted, module, context)
    module = module.visit(classes)
    missing = sorted(set(wanted) - classes.seen)
    if missing:
        raise CodegenError(
            f"class {', '.join(missing)} not found in the source (defined dynamically?); "
            "use --no-annotate or annotate it by hand",
            SourceLocation(context.path, 1),
        )
    module = _ensure_type_checking_import(module, context)
    module = _ensure_guarded_import(module, sorted(set(wanted.values())), context)
    return module.code


def _dotted(node: cst.CSTNode | None) -> str:
    """``a.b.c`` for a Name/Attribute node ("" for None)."""
    return (get_full_name_for_node(node) or "") if node is not None else ""


def _leading(statement: cst.BaseStatement) -> Sequence[cst.EmptyLine]:
    lines: Sequence[cst.EmptyLine] = getattr(statement, "leading_lines", ())
    return lines


# --- class bodies ----------------------------------------------------------------------------


def _broker_property(module: cst.Module, broker_class: str) -> cst.FunctionDef:
    nl, indent = module.default_newline, module.default_indent
    text = (
        f"if TYPE_CHECKING:{nl}{nl}"
        f"{indent}@property{nl}"
        f"{indent}def {PROPERTY}(self) -> {broker_class}: ...{nl}"
    )
    statement = cst.parse_statement(text, config=module.config_for_parsing)
    assert isinstance(statement, cst.If) and isinstance(statement.body, cst.IndentedBlock)
    function = statement.body.body[0]
    assert isinstance(function, cst.FunctionDef)
    return function


def _starts_with_blank(lines: Sequence[cst.EmptyLine]) -> bool:
    return bool(lines) and lines[0].comment is None


def _is_docstring(statement: cst.BaseStatement) -> bool:
    return (
        isinstance(statement, cst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], cst.Expr)
        and isinstance(statement.body[0].value, cst.SimpleString | cst.ConcatenatedString)
    )


def _is_broker_property(statement: cst.BaseStatement) -> bool:
    return (
        isinstance(statement, cst.FunctionDef)
        and statement.name.value == PROPERTY
        and any(get_full_name_for_node(d.decorator) == "property" for d in statement.decorators)
    )


def _defines_broker(statement: cst.BaseStatement) -> bool:
    if isinstance(statement, cst.FunctionDef):
        return statement.name.value == PROPERTY
    if isinstance(statement, cst.SimpleStatementLine):
        for small in statement.body:
            targets: list[cst.BaseExpression] = []
            if isinstance(small, cst.Assign):
                targets = [t.target for t in small.targets]
            elif isinstance(small, cst.AnnAssign):
                targets = [small.target]
            if any(get_full_name_for_node(t) == PROPERTY for t in targets):
                return True
    return False


def _is_placeholder(statement: cst.BaseSmallStatement) -> bool:
    """``pass`` or ``...``: a body that holds nothing."""
    return isinstance(statement, cst.Pass) or (
        isinstance(statement, cst.Expr) and isinstance(statement.value, cst.Ellipsis)
    )


def _expanded(suite: cst.SimpleStatementSuite) -> cst.IndentedBlock:
    """A one-line class body (``class X(Base): pass``) as an indented block, without the
    placeholder; a trailing comment stays on the ``class`` line."""
    kept = [statement for statement in suite.body if not _is_placeholder(statement)]
    lines: list[cst.BaseStatement] = []
    if kept:
        kept[-1] = kept[-1].with_changes(semicolon=cst.MaybeSentinel.DEFAULT)
        lines.append(cst.SimpleStatementLine(body=kept))
    return cst.IndentedBlock(body=lines, header=suite.trailing_whitespace)


def _type_checking_blocks(body: Sequence[cst.BaseStatement]) -> list[int]:
    return [
        index
        for index, statement in enumerate(body)
        if isinstance(statement, cst.If) and is_type_checking_test(statement.test)
    ]


class _ClassAnnotator(cst.CSTTransformer):
    def __init__(self, wanted: dict[str, str], module: cst.Module, context: ModuleContext) -> None:
        self.wanted = wanted
        self.module = module
        self.context = context
        self.seen: set[str] = set()
        self._scope: list[str] = []

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self._scope.append(node.name.value)
        return True

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False  # classes nested in functions are not importable targets

    def leave_ClassDef(
        self, original_node: cst.ClassDef, updated_node: cst.ClassDef
    ) -> cst.ClassDef:
        qualname = ".".join(self._scope)
        self._scope.pop()
        broker_class = self.wanted.get(qualname)
        if broker_class is None:
            return updated_node
        self.seen.add(qualname)
        block = updated_node.body
        if isinstance(block, cst.SimpleStatementSuite):
            block = _expanded(block)  # ``class X(Base): pass``: the property needs a block
        assert isinstance(block, cst.IndentedBlock)
        new_body = self._annotated_body(list(block.body), broker_class, qualname)
        if new_body is None:
            return updated_node
        return updated_node.with_changes(body=block.with_changes(body=new_body))

    def _annotated_body(
        self, body: list[cst.BaseStatement], broker_class: str, qualname: str
    ) -> list[cst.BaseStatement] | None:
        """The class body with the property present and current; None when already so."""
        blocks = _type_checking_blocks(body)
        for index in blocks:
            guarded = body[index]
            assert isinstance(guarded, cst.If) and isinstance(guarded.body, cst.IndentedBlock)
            inner = list(guarded.body.body)
            for position, statement in enumerate(inner):
                if not _is_broker_property(statement):
                    continue
                assert isinstance(statement, cst.FunctionDef)
                returns = statement.returns
                if (
                    returns is not None
                    and get_full_name_for_node(returns.annotation) == broker_class
                ):
                    return None
                inner[position] = statement.with_changes(
                    returns=cst.Annotation(cst.Name(broker_class))
                )
                body[index] = guarded.with_changes(body=guarded.body.with_changes(body=inner))
                return body
        if any(_defines_broker(statement) for statement in body):
            raise CodegenError(
                f"{qualname} defines its own {PROPERTY!r}; the codemod does not replace it "
                "(remove it, or run with --no-annotate)",
                SourceLocation(self.context.path, 1),
            )
        prop = _broker_property(self.module, broker_class)
        if blocks:
            index = blocks[0]
            guarded = body[index]
            assert isinstance(guarded, cst.If) and isinstance(guarded.body, cst.IndentedBlock)
            inner = [*guarded.body.body, prop]
            body[index] = guarded.with_changes(body=guarded.body.with_changes(body=inner))
            return body
        at = 1 if body and _is_docstring(body[0]) else 0
        guard = cst.If(
            test=cst.Name("TYPE_CHECKING"),
            body=cst.IndentedBlock(body=[prop]),
            leading_lines=[cst.EmptyLine(indent=False)] if at else [],
        )
        if at < len(body) and not _starts_with_blank(_leading(body[at])):
            blank = cst.EmptyLine(indent=False)
            body[at] = body[at].with_changes(leading_lines=[blank, *_leading(body[at])])
        body.insert(at, guard)
        return body


# --- module-level imports --------------------------------------------------------------------


@dataclass(frozen=True)
class _ImportInfo:
    section: Section
    key: tuple[object, ...]


def _import_info(statement: cst.BaseStatement, context: ModuleContext) -> _ImportInfo | None:
    """isort position of a one-import statement line (None when it is not an import)."""
    if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
        return None
    small = statement.body[0]
    if isinstance(small, cst.Import):
        module = get_full_name_for_node(small.names[0].name) or ""
        return _ImportInfo(context.style.section(module), (0, *_module_key(module)))
    if isinstance(small, cst.ImportFrom):
        if small.relative:
            module = "." * len(small.relative) + (_dotted(small.module) or "")
            section = Section.LOCAL_FOLDER
        else:
            module = _dotted(small.module) or ""
            section = context.style.section(module)
        return _ImportInfo(section, (1, *_module_key(module)))
    return None


def _insert_import(
    statements: Sequence[cst.BaseStatement], new: cst.SimpleStatementLine, context: ModuleContext
) -> list[cst.BaseStatement]:
    """``statements`` with ``new`` where isort would put it among the leading imports."""
    body = list(statements)
    info = _import_info(new, context)
    assert info is not None
    start = 1 if body and _is_docstring(body[0]) else 0
    end = start
    while end < len(body) and _import_info(body[end], context) is not None:
        end += 1
    position = end
    for index in range(start, end):
        other = _import_info(body[index], context)
        assert other is not None
        if (other.section, other.key) > (info.section, info.key):
            position = index
            break
    previous = _import_info(body[position - 1], context) if position > start else None
    following = _import_info(body[position], context) if position < end else None
    if following is not None and following.section == info.section:
        new = new.with_changes(leading_lines=_leading(body[position]))
        body[position] = body[position].with_changes(leading_lines=[])
    elif previous is None and position < len(body):
        new = new.with_changes(leading_lines=_leading(body[position]))
        body[position] = body[position].with_changes(leading_lines=[cst.EmptyLine(indent=False)])
    elif previous is not None and previous.section != info.section:
        new = new.with_changes(leading_lines=[cst.EmptyLine(indent=False)])
    body.insert(position, new)
    return body


def _has_type_checking_name(module: cst.Module) -> bool:
    for statement in module.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if (
                isinstance(small, cst.ImportFrom)
                and _dotted(small.module) in ("typing", "typing_extensions")
                and not isinstance(small.names, cst.ImportStar)
                and any(
                    alias.asname is None and get_full_name_for_node(alias.name) == "TYPE_CHECKING"
                    for alias in small.names
                )
            ):
                return True
    return False


def _ensure_type_checking_import(module: cst.Module, context: ModuleContext) -> cst.Module:
    if _has_type_checking_name(module):
        return module
    body = list(module.body)
    for index, statement in enumerate(body):
        if not isinstance(statement, cst.SimpleStatementLine) or len(statement.body) != 1:
            continue
        small = statement.body[0]
        if (
            isinstance(small, cst.ImportFrom)
            and not small.relative
            and _dotted(small.module) == "typing"
            and not isinstance(small.names, cst.ImportStar)
        ):
            names = _with_name(list(small.names), "TYPE_CHECKING")
            body[index] = statement.with_changes(body=[small.with_changes(names=names)])
            return module.with_changes(body=body)
    new = cst.parse_statement("from typing import TYPE_CHECKING", config=module.config_for_parsing)
    assert isinstance(new, cst.SimpleStatementLine)
    return module.with_changes(body=_insert_import(body, new, context))


def _with_name(aliases: list[cst.ImportAlias], name: str) -> list[cst.ImportAlias]:
    """``aliases`` plus ``name`` at its isort position, reusing the existing comma style."""
    keys = [_member_key(get_full_name_for_node(a.name) or "", None) for a in aliases]
    position = sum(1 for key in keys if key < _member_key(name, None))
    separator = next(
        (a.comma for a in aliases[:-1] if isinstance(a.comma, cst.Comma)),
        cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")),
    )
    new = cst.ImportAlias(name=cst.Name(name))
    if position < len(aliases):
        new = new.with_changes(comma=separator)
    else:
        last = aliases[-1]
        new = new.with_changes(comma=last.comma)
        aliases[-1] = last.with_changes(comma=separator)
    aliases.insert(position, new)
    return aliases


def _import_target(context: ModuleContext) -> tuple[int, str]:
    """(number of leading dots, module) for importing the generated module from this file."""
    generated = context.generated_module.split(".")
    if context.package:
        package = context.package.split(".")
        common = 0
        while (
            common < min(len(package), len(generated) - 1) and package[common] == generated[common]
        ):
            common += 1
        if common:
            return len(package) - common + 1, ".".join(generated[common:])
    return 0, context.generated_module


def _uses_relative_imports(module: cst.Module) -> bool:
    return any(
        isinstance(small, cst.ImportFrom) and bool(small.relative)
        for statement in module.body
        if isinstance(statement, cst.SimpleStatementLine)
        for small in statement.body
    )


def _import_statement(
    module: cst.Module, dots: int, target: str, names: Sequence[str], context: ModuleContext
) -> cst.SimpleStatementLine:
    head = f"from {'.' * dots}{target} import "
    flat = head + ", ".join(names)
    indent = len(module.default_indent)
    if len(flat) + indent <= context.style.line_length:
        text = flat
    else:
        nl = module.default_newline
        inner = "".join(f"{module.default_indent}{name},{nl}" for name in names)
        text = f"{head}({nl}{inner})"
    statement = cst.parse_statement(text, config=module.config_for_parsing)
    assert isinstance(statement, cst.SimpleStatementLine)
    return statement


class _NameCounter(cst.CSTVisitor):
    def __init__(self) -> None:
        self.names: dict[str, int] = {}

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        return False

    def visit_Name(self, node: cst.Name) -> None:
        self.names[node.value] = self.names.get(node.value, 0) + 1


def _ensure_guarded_import(
    module: cst.Module, required: list[str], context: ModuleContext
) -> cst.Module:
    relative = _uses_relative_imports(module)
    dots, target = _import_target(context) if relative else (0, context.generated_module)
    counter: _NameCounter | None = None

    def used(name: str) -> bool:
        nonlocal counter
        if counter is None:  # visiting the whole module is costly: only for a stale import
            counter = _NameCounter()
            module.visit(counter)
        return bool(counter.names.get(name))

    body = list(module.body)
    for block_index in _type_checking_blocks(body):
        guarded = body[block_index]
        assert isinstance(guarded, cst.If) and isinstance(guarded.body, cst.IndentedBlock)
        inner = list(guarded.body.body)
        for index, statement in enumerate(inner):
            small = statement.body[0] if isinstance(statement, cst.SimpleStatementLine) else None
            if not isinstance(small, cst.ImportFrom) or isinstance(small.names, cst.ImportStar):
                continue
            imported = get_absolute_module_from_package_for_import(context.package, small)
            if imported != context.generated_module:
                continue
            present = [get_full_name_for_node(alias.name) or "" for alias in small.names]
            kept = [
                name
                for name in present
                if name in required or not name.endswith("Broker") or used(name)
            ]
            names = sorted(set(kept) | set(required), key=lambda n: _member_key(n, None))
            if names == present:
                return module
            replacement = _import_statement(
                module,
                len(small.relative),
                _dotted(small.module) or "",
                names,
                context,
            )
            inner[index] = replacement.with_changes(leading_lines=_leading(statement))
            body[block_index] = guarded.with_changes(body=guarded.body.with_changes(body=inner))
            return module.with_changes(body=body)
    new = _import_statement(module, dots, target, required, context)
    blocks = _type_checking_blocks(body)
    if blocks:
        guarded = body[blocks[0]]
        assert isinstance(guarded, cst.If) and isinstance(guarded.body, cst.IndentedBlock)
        inner = _insert_import(list(guarded.body.body), new, context)
        body[blocks[0]] = guarded.with_changes(body=guarded.body.with_changes(body=inner))
        return module.with_changes(body=body)
    start = 1 if body and _is_docstring(body[0]) else 0
    end = start
    while end < len(body) and _import_info(body[end], context) is not None:
        end += 1
    guard = cst.If(
        test=cst.Name("TYPE_CHECKING"),
        body=cst.IndentedBlock(body=[new]),
        leading_lines=[cst.EmptyLine(indent=False)] if end > start else [],
    )
    body.insert(end, guard)
    return module.with_changes(body=body)
