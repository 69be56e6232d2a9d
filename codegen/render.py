"""IR -> the generated module's text, through ``templates/module.py.jinja``.

The template holds the shape of the module; :class:`ModuleWriter` holds the logic the template
calls: spelling expressions (via the import plan) and wrapping long lines (via the layout).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from importlib import resources

import jinja2

from codegen import ir
from codegen.errors import CodegenError
from codegen.imports import (
    ImportPlan,
    SideEffectImport,
    import_block,
    plan_imports,
    quoted,
    symbols_in,
)
from codegen.layout import INDENT, Bracketed, Doc, Layout, Text
from codegen.style import CodeStyle

TEMPLATE = "module.py.jinja"
_RUNTIME = "core_sdk.data_access"


def _symbol(module: str, name: str) -> ir.Symbol:
    return ir.Symbol(module, name)


# names the template writes literally (always imported, never aliased)
TYPED_BROKER_PROXY = _symbol(_RUNTIME, "TypedBrokerProxy")
TASK_HANDLE = _symbol(_RUNTIME, "TaskHandle")
OPERATION = _symbol(_RUNTIME, "Operation")
REGISTER = _symbol(_RUNTIME, "register_generated_module")
FINAL = _symbol("typing", "Final")
LITERAL = _symbol("typing", "Literal")
OVERLOAD = _symbol("typing", "overload")
ANY = _symbol("typing", "Any")
TYPE_CHECKING = _symbol("typing", "TYPE_CHECKING")
MAPPING = _symbol("collections.abc", "Mapping")
CORE_FACTORY = _symbol(_RUNTIME, "DataAccessManagerFactory")
FUTURE_ANNOTATIONS = _symbol("__future__", "annotations")


@dataclass(frozen=True)
class ModuleWriter:
    """Text fragments for the template: signatures, calls, constants, docstrings."""

    plan: ImportPlan
    layout: Layout

    # --- pieces ---------------------------------------------------------------------------

    def spell(self, expr: ir.Expr) -> str:
        return self.plan.spell(expr)

    def _params(self, op: ir.Operation, *, with_timeout: bool) -> list[Doc]:
        docs: list[Doc] = [Text("self")]
        kinds = [param.kind for param in op.params]
        for index, param in enumerate(op.params):
            if param.kind is ir.ParamKind.KEYWORD_ONLY and (
                index == 0 or kinds[index - 1] is not ir.ParamKind.KEYWORD_ONLY
            ):
                docs.append(Text("*"))
            default = "" if param.default is None else f" = {self.spell(param.default)}"
            docs.append(self.plan.doc(param.annotation, f"{param.name}: ", default))
            if param.kind is ir.ParamKind.POSITIONAL_ONLY and (
                index + 1 == len(kinds) or kinds[index + 1] is not ir.ParamKind.POSITIONAL_ONLY
            ):
                docs.append(Text("/"))
        if with_timeout:
            if ir.ParamKind.KEYWORD_ONLY not in kinds:
                docs.append(Text("*"))
            docs.append(Text("_broker_timeout: float = 30.0"))
        return docs

    def _arguments(self, op: ir.Operation) -> list[Doc]:
        positional = tuple(
            Text(p.name) for p in op.params if p.kind is ir.ParamKind.POSITIONAL_ONLY
        )
        named = tuple(
            Text(f"{quoted(p.name)}: {p.name}")
            for p in op.params
            if p.kind is not ir.ParamKind.POSITIONAL_ONLY
        )
        return [
            Text(op.constant),
            Bracketed("", "(", positional, ")", collection=True, single_comma=True),
            Bracketed("", "{", named, "}", collection=True),
        ]

    # --- what the template calls ----------------------------------------------------------

    def broker_signature(self, op: ir.Operation) -> str:
        lines = self.layout.signature(
            INDENT,
            f"async def {op.name}",
            self._params(op, with_timeout=True),
            self.plan.doc(op.returns),
        )
        return "\n".join(lines)

    def kicker_signature(self, op: ir.Operation) -> str:
        returns = ir.Subscript(ir.Name(TASK_HANDLE), (op.returns,))
        lines = self.layout.signature(
            INDENT,
            f"async def {op.name}",
            self._params(op, with_timeout=False),
            self.plan.doc(returns),
        )
        return "\n".join(lines)

    def broker_call(self, op: ir.Operation) -> str:
        arguments = (*self._arguments(op), Text("_broker_timeout"))
        call = Bracketed("return await self._call", "(", arguments, ")")
        return "\n".join(self.layout.lines(call, INDENT * 2))

    def kicker_call(self, op: ir.Operation) -> str:
        call = Bracketed("return await self._kick", "(", tuple(self._arguments(op)), ")")
        return "\n".join(self.layout.lines(call, INDENT * 2))

    def operation_constant(self, model: ir.Model, op: ir.Operation) -> str:
        returns = self.plan.doc(op.returns)
        params = tuple(self.plan.doc(p.annotation, f"{quoted(p.name)}: ") for p in op.params)
        arguments: list[Doc] = [
            Text(quoted(model.name)),
            Text(quoted(op.name)),
            Text(quoted(op.fingerprint)),
            Bracketed("", "{", params, "}", collection=True),
            returns,
        ]
        positional = [p.name for p in op.params if p.kind is ir.ParamKind.POSITIONAL_ONLY]
        if positional:
            names = tuple(Text(quoted(name)) for name in positional)
            arguments.append(
                Bracketed("positional_only=", "(", names, ")", collection=True, single_comma=True)
            )
        head = Bracketed(f"{op.constant} = Operation", "[", (returns,), "]")
        return "\n".join(self.layout.lines(Bracketed(head, "(", tuple(arguments), ")")))

    def class_header(self, name: str, base: ir.Expr | str) -> str:
        base_doc = Text(base) if isinstance(base, str) else self.plan.doc(base)
        return "\n".join(self.layout.lines(Bracketed(f"class {name}", "(", (base_doc,), ")", ":")))

    def overload(self, model: ir.Model) -> str:
        params: list[Doc] = [Text("self"), Text(f"model_name: Literal[{quoted(model.name)}]")]
        lines = self.layout.signature(
            INDENT, "def get_manager", params, self.plan.doc(model.manager), ": ..."
        )
        return "\n".join(lines)

    def single_get_manager(self, model: ir.Model) -> str:
        """``get_manager`` of a one-model service: a plain method (one overload is invalid)."""
        params: list[Doc] = [Text("self"), Text(f"model_name: Literal[{quoted(model.name)}]")]
        lines = self.layout.signature(
            INDENT, "def get_manager", params, self.plan.doc(model.manager)
        )
        lines[0] += "  # type: ignore[override]"
        manager = self.spell(model.manager)
        call = Bracketed(
            f"manager: {manager} = super().get_manager", "(", (Text("model_name"),), ")"
        )
        lines += self.layout.lines(call, INDENT * 2)
        lines.append(f"{INDENT * 2}return manager")
        return "\n".join(lines)

    def manifest(self, service: ir.Service) -> str:
        entries = tuple(
            Bracketed(
                "",
                "(",
                (Text(quoted(model.name)), Text(quoted(op.name))),
                ")",
                f": {quoted(op.fingerprint)}",
                collection=True,
            )
            for model in service.models
            for op in model.operations
        )
        head = "MANIFEST: Final[Mapping[tuple[str, str], str]] = "
        return "\n".join(self.layout.lines(Bracketed(head, "{", entries, "}", collection=True)))

    def registration(self, service: ir.Service) -> str:
        proxies = tuple(
            Text(f"{quoted(model.name)}: {model.broker_class}") for model in service.models
        )
        arguments = (Text("MANIFEST"), Bracketed("", "{", proxies, "}", collection=True))
        call = Bracketed("register_generated_module", "(", arguments, ")")
        return "\n".join(self.layout.lines(call))

    def dunder_all(self, names: list[str]) -> str:
        items = tuple(Text(quoted(name)) for name in sorted(names, key=_all_key))
        return "\n".join(
            self.layout.lines(Bracketed("__all__ = ", "[", items, "]", collection=True))
        )

    def comment(self, text: str) -> str:
        """A ``#`` comment wrapped to the line length."""
        lines = textwrap.wrap(
            text, width=self.layout.width - 2, break_long_words=False, break_on_hyphens=False
        )
        return "\n".join(f"# {line}" for line in lines)

    def docstring(self, text: str, indent: int) -> str:
        """A docstring at ``indent`` spaces, wrapped to the line length (E501-clean).

        Paragraphs are separated by blank lines in ``text``.
        """
        pad = " " * indent
        one_line = f'{pad}"""{text}"""'
        if "\n" not in text and self.layout.fits(one_line):
            return one_line
        width = max(self.layout.width - indent, 20)
        lines: list[str] = []
        for paragraph in text.split("\n\n"):
            opening = "" if lines else '"""'
            wrapped = _wrap(paragraph, width, opening)
            if not lines and len(wrapped) == 1 and "\n\n" not in text:
                # ruff joins one line of text with its closing quotes: keep two lines
                wrapped = _wrap(paragraph, len(wrapped[0]) - 1, opening)
            lines += [*([""] if lines else []), *wrapped]
        body = [f"{pad}{line}" if line else "" for line in lines]
        return "\n".join([*body, f'{pad}"""'])


def _wrap(text: str, width: int, opening: str) -> list[str]:
    return textwrap.wrap(
        text, width=width, initial_indent=opening, break_long_words=False, break_on_hyphens=False
    )


def _all_key(name: str) -> tuple[int, str]:
    if name.isupper():
        return (0, name)
    if name[:1].isupper():
        return (1, name)
    return (2, name)


def safe_docstring(text: str | None) -> str | None:
    """``text`` if it can be a docstring as written (ruff would not rewrite it)."""
    if not text or "\\" in text or '"' in text:
        return None
    return text


def _environment() -> jinja2.Environment:
    def load(name: str) -> str:
        return resources.files("templates").joinpath(name).read_text(encoding="utf-8")

    return jinja2.Environment(
        loader=jinja2.FunctionLoader(load),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )


def _used_symbols(service: ir.Service) -> set[ir.Symbol]:
    used: set[ir.Symbol] = set()
    for model in service.models:
        used.update(symbols_in(model.manager))
        if model.manager_view is not None:
            used.update(symbols_in(model.manager_view.base))
        for op in model.operations:
            used.update(symbols_in(op.returns))
            for param in op.params:
                used.update(symbols_in(param.annotation))
                if param.default is not None:
                    used.update(symbols_in(param.default))
    return {symbol for symbol in used if symbol.module}


def generated_names(service: ir.Service) -> list[str]:
    names = ["DataAccessManagerFactory", "MANIFEST", "get_dam_factory"]
    for model in service.models:
        names += [model.broker_class, model.kicker_class]
        if model.manager_view is not None:
            names.append(model.manager_view.class_name)
    return names


def render_module(service: ir.Service, style: CodeStyle) -> str:
    """The generated module's source text."""
    layout = Layout(style.line_length)
    has_operations = any(model.operations for model in service.models)
    fixed = [
        FUTURE_ANNOTATIONS,
        TYPED_BROKER_PROXY,
        REGISTER,
        FINAL,
        LITERAL,
        MAPPING,
    ]
    if len(service.models) > 1:  # one model: a plain get_manager (see single_get_manager)
        fixed += [OVERLOAD, ANY]
    if has_operations:
        fixed += [TASK_HANDLE, OPERATION]
    if any(model.manager_view for model in service.models):
        fixed.append(TYPE_CHECKING)
    public = generated_names(service)
    defined = [*public, "__all__"]
    defined += [op.constant for model in service.models for op in model.operations]
    class_scope = {"kick", "broker"}
    class_scope.update(op.name for model in service.models for op in model.operations)
    # importing the generated module imports the registry config too: the models are
    # registered with the proxies, whatever the caller imported first
    registry = SideEffectImport(service.registry_module, "registers the models")
    try:
        plan = plan_imports(
            fixed, [CORE_FACTORY], _used_symbols(service), defined, class_scope, [registry]
        )
    except ValueError as exc:
        raise CodegenError(f"{exc}; rename the registry module") from None
    writer = ModuleWriter(plan, layout)
    template = _environment().get_template(TEMPLATE)
    text = template.render(
        service=service,
        w=writer,
        imports="\n".join(import_block(plan.statements, style, layout)),
        public_names=public,
        core_factory=plan.spellings[CORE_FACTORY],
        safe_docstring=safe_docstring,
    )
    return text
