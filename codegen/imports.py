"""How symbols are spelled in the generated module, and its import block.

The renderer knows every symbol the module uses and every name it defines. This module gives
each symbol a spelling that cannot collide (a plain name when it is free, ``builtins.list``
when a method named ``list`` would shadow the builtin in a class body, an alias when two
modules export the same name) and writes the imports sorted and wrapped as ruff's isort does.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from codegen import ir
from codegen.layout import Bracketed, Doc, Layout, Text
from codegen.layout import Union as LayoutUnion
from codegen.style import CodeStyle, Section
from codegen.typeforms import string_literal

BUILTINS = "builtins"


@dataclass(frozen=True)
class ImportStatement:
    module: str
    name: str | None = None  # None: ``import module``
    alias: str | None = None
    comment: str | None = None  # trailing ``# comment``, written when the line fits


@dataclass(frozen=True)
class ImportPlan:
    spellings: Mapping[ir.Symbol, str]
    statements: tuple[ImportStatement, ...]

    def spell(self, expr: ir.Expr) -> str:
        """Source text of an expression."""
        match expr:
            case ir.Name(symbol=symbol, attrs=attrs):
                spelled = symbol.name if not symbol.module else self.spellings[symbol]
                return ".".join((spelled, *attrs))
            case ir.Subscript(base=base, args=()):
                return f"{self.spell(base)}[()]"
            case ir.Subscript(base=base, args=args):
                return f"{self.spell(base)}[{', '.join(self.spell(arg) for arg in args)}]"
            case ir.Union(members=members):
                return " | ".join(self.spell(member) for member in members)
            case ir.Constant(source=source):
                return source
            case ir.Call(func=func, args=args, kwargs=kwargs):
                parts = [self.spell(arg) for arg in args]
                parts += [f"{key}={self.spell(value)}" for key, value in kwargs]
                return f"{self.spell(func)}({', '.join(parts)})"
            case ir.Tuple(items=(item,)):
                return f"({self.spell(item)},)"
            case ir.Tuple(items=items):
                return f"({', '.join(self.spell(item) for item in items)})"
        raise TypeError(f"not an expression: {expr!r}")  # pragma: no cover

    def doc(self, expr: ir.Expr, head: str = "", tail: str = "") -> Doc:
        """The expression as a layout document (subscripts and unions may be split)."""
        if isinstance(expr, ir.Subscript) and expr.args:
            items = tuple(self.doc(arg) for arg in expr.args)
            return Bracketed(head + self.spell(expr.base), "[", items, "]", tail)
        if isinstance(expr, ir.Union):
            return LayoutUnion(tuple(self.doc(member) for member in expr.members), head, tail)
        return Text(head + self.spell(expr) + tail)


def symbols_in(expr: ir.Expr) -> Iterable[ir.Symbol]:
    match expr:
        case ir.Name(symbol=symbol):
            yield symbol
        case ir.Subscript(base=base, args=args):
            yield from symbols_in(base)
            for arg in args:
                yield from symbols_in(arg)
        case ir.Union(members=items) | ir.Tuple(items=items):
            for item in items:
                yield from symbols_in(item)
        case ir.Call(func=func, args=args, kwargs=kwargs):
            yield from symbols_in(func)
            for arg in (*args, *(value for _, value in kwargs)):
                yield from symbols_in(arg)


@dataclass(frozen=True)
class SideEffectImport:
    """A module imported only to run it: ``from package import module as module``.

    The redundant alias marks the name as used on purpose (ruff, mypy and pyright accept it).
    """

    module: str  # dotted name
    comment: str | None = None

    @property
    def name(self) -> str:
        return self.module.rpartition(".")[2]

    def statement(self) -> ImportStatement:
        package, _, name = self.module.rpartition(".")
        if not package:
            return ImportStatement(name, None, name, self.comment)
        return ImportStatement(package, name, name, self.comment)


def plan_imports(
    fixed: Iterable[ir.Symbol],
    module_style: Iterable[ir.Symbol],
    symbols: Iterable[ir.Symbol],
    defined: Iterable[str],
    class_scope: Iterable[str],
    side_effects: Iterable[SideEffectImport] = (),
) -> ImportPlan:
    """Spell every symbol.

    ``fixed`` symbols (the runtime names the templates write literally) keep their names;
    ``module_style`` symbols are spelled ``package.module.Name`` after ``import package.module``;
    ``symbols`` (from user signatures) are imported by name, aliased on a collision with a name
    the module ``defined`` or another import, and builtins are spelled ``builtins.x`` when a
    method of a generated class (``class_scope``) shadows them. ``side_effects`` are modules
    imported under their own name (never referenced, so a class-scope shadow is harmless); a
    clash with a defined or fixed name is a ValueError.
    """
    taken: dict[str, ir.Symbol | None] = dict.fromkeys(defined)
    shadowed = set(class_scope)
    spellings: dict[ir.Symbol, str] = {}
    statements: set[ImportStatement] = set()
    builtins_module: list[str] = []  # how the module is bound, once it is needed

    def bind(symbol: ir.Symbol, name: str) -> bool:
        if taken.get(name, symbol) != symbol or name in shadowed:
            return False
        taken[name] = symbol
        return True

    def builtins_name() -> str:
        """``builtins``, or ``builtins_`` when a method named ``builtins`` shadows it."""
        if not builtins_module:
            name = BUILTINS
            while name in taken or name in shadowed:
                name += "_"
            taken[name] = None
            alias = None if name == BUILTINS else name
            statements.add(ImportStatement(BUILTINS, None, alias))
            builtins_module.append(name)
        return builtins_module[0]

    for symbol in fixed:
        if not bind(symbol, symbol.name):
            raise ValueError(f"{symbol.name} is reserved by the generated module")
        spellings[symbol] = symbol.name
        statements.add(ImportStatement(symbol.module, symbol.name))
    for module in side_effects:
        if module.name in taken:
            raise ValueError(
                f"{module.module} is imported as {module.name!r}, a name the generated module "
                "also defines"
            )
        taken[module.name] = None
        statements.add(module.statement())
    for symbol in module_style:
        taken.setdefault(symbol.module.split(".")[0], None)
        spellings[symbol] = f"{symbol.module}.{symbol.name}"
        statements.add(ImportStatement(symbol.module))
    for symbol in sorted(set(symbols) - set(spellings)):
        if symbol.module == BUILTINS:
            if bind(symbol, symbol.name):
                spellings[symbol] = symbol.name
            else:
                spellings[symbol] = f"{builtins_name()}.{symbol.name}"
            continue
        if bind(symbol, symbol.name):
            spellings[symbol] = symbol.name
            statements.add(ImportStatement(symbol.module, symbol.name))
            continue
        alias = f"{symbol.module.replace('.', '_')}_{symbol.name}"
        while not bind(symbol, alias):
            alias += "_"
        spellings[symbol] = alias
        statements.add(ImportStatement(symbol.module, symbol.name, alias))
    return ImportPlan(spellings, tuple(sorted(statements, key=_statement_sort_key)))


def _statement_sort_key(statement: ImportStatement) -> tuple[str, str, str]:
    return (statement.module, statement.name or "", statement.alias or "")


# --- the import block, as ruff's isort writes it --------------------------------------------

_DIGITS = re.compile(r"(\d+)")


def _natural(text: str) -> tuple[tuple[int, int, str], ...]:
    return tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part)
        for part in _DIGITS.split(text)
        if part
    )


def _member_type(name: str) -> int:
    if len(name) > 1 and name.upper() == name and name.lower() != name:
        return 0  # CONSTANT
    if name[:1].isupper():
        return 1  # Class
    return 2  # variable


def _member_key(name: str, alias: str | None) -> tuple[object, ...]:
    return (_member_type(name), _natural(name.lower()), _natural(name), alias or "")


def _module_key(module: str) -> tuple[object, ...]:
    return (_natural(module.lower()), _natural(module))


@dataclass(frozen=True)
class _FromImport:
    module: str
    members: tuple[tuple[str, str | None], ...]
    comment: str | None = None

    def key(self) -> tuple[object, ...]:
        return (*_module_key(self.module), _member_key(*self.members[0]))


def import_block(
    statements: Iterable[ImportStatement], style: CodeStyle, layout: Layout
) -> list[str]:
    """The import lines (sections separated by one blank line)."""
    straight: dict[Section, set[tuple[str, str | None, str | None]]] = {}
    plain: dict[tuple[Section, str], list[tuple[str, str | None]]] = {}
    aliased: dict[Section, list[_FromImport]] = {}
    for statement in statements:
        section = style.section(statement.module)
        if statement.name is None:
            entry = (statement.module, statement.alias, statement.comment)
            straight.setdefault(section, set()).add(entry)
        elif statement.alias is None:
            plain.setdefault((section, statement.module), []).append((statement.name, None))
        else:
            member = (statement.name, statement.alias)
            from_import = _FromImport(statement.module, (member,), statement.comment)
            aliased.setdefault(section, []).append(from_import)
    from_imports: dict[Section, list[_FromImport]] = {
        section: list(items) for section, items in aliased.items()
    }
    for (section, module), members in plain.items():
        ordered = tuple(sorted(set(members), key=lambda member: _member_key(*member)))
        from_imports.setdefault(section, []).append(_FromImport(module, ordered))
    lines: list[str] = []
    for section in Section:
        modules = sorted(straight.get(section, ()), key=lambda entry: _module_key(entry[0]))
        froms = sorted(from_imports.get(section, ()), key=_FromImport.key)
        if not modules and not froms:
            continue
        if lines:
            lines.append("")
        for module, alias, comment in modules:
            line = f"import {module}" if alias is None else f"import {module} as {alias}"
            lines.append(_with_comment(line, comment, layout))
        for item in froms:
            names = tuple(
                Text(name if alias is None else f"{name} as {alias}")
                for name, alias in item.members
            )
            flat = f"from {item.module} import {', '.join(n.text for n in names)}"
            if layout.fits(flat):
                lines.append(_with_comment(flat, item.comment, layout))
            else:
                doc = Bracketed(f"from {item.module} import ", "(", names, ")", collection=True)
                lines += layout.lines(doc)
    return lines


def _with_comment(line: str, comment: str | None, layout: Layout) -> str:
    """``line  # comment`` when that fits the line length, else ``line``."""
    if comment is None:
        return line
    commented = f"{line}  # {comment}"
    return commented if layout.fits(commented) else line


def quoted(text: str) -> str:
    """A string constant in the generated module."""
    return string_literal(text)
