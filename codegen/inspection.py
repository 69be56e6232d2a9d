"""Registered models -> IR: operations, parameters, types, defaults, generated names.

What counts as an operation, the fingerprint and the generic substitutions come from
``core_sdk.data_access.signature`` (shared with the worker). This module adds what only the
generator needs: annotations resolved even when their names are imported only under
``TYPE_CHECKING``, rendered faithfully, with every problem reported as ``path:line: reason``.
"""

from __future__ import annotations

import inspect
import os
import re
import sys
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from codegen import ir
from codegen.errors import CodegenError, CodegenErrors, describe
from codegen.loading import LoadedRegistry, display_path, resolved
from codegen.sources import GuardedImport, ModuleSource, read_module_source
from codegen.typeforms import TypeConverter, UnsupportedType
from core_sdk.data_access import LocalDataAccessManager, TypedBrokerProxy
from core_sdk.data_access.base import BaseDataAccessManager, CreateT, ModelT, ReadT, UpdateT
from core_sdk.data_access.signature import (
    generic_substitutions,
    iter_operations,
    operation_fingerprint,
    skipped_methods,
    substitute,
)
from core_sdk.registry import ModelInfo

TIMEOUT_PARAM = "_broker_timeout"
KICK_PROPERTY = "kick"
DAM_DEFAULT = ir.DAM_DEFAULT
MODULE_NAMES = ("DataAccessManagerFactory", "MANIFEST", "get_dam_factory")
# names the templates write literally; an operation with one of these names would shadow it
TEMPLATE_NAMES = frozenset(
    {
        "TYPE_CHECKING",
        "Any",
        "DAM_DEFAULT",
        "Final",
        "Literal",
        "Mapping",
        "Operation",
        "TaskHandle",
        "TypedBrokerProxy",
        "overload",
        "property",
        "self",
        "super",
    }
)
_PROXY_ATTRIBUTES = frozenset(name for name in dir(TypedBrokerProxy) if not name.startswith("_"))


@dataclass(frozen=True)
class OutputTarget:
    path: Path  # where the module is written
    module: str | None  # its dotted name, when it is inside the service's package


def view_type_arguments(info: ModelInfo) -> tuple[Any, ...]:
    """Type arguments of a generic manager class for this registration.

    ``LocalDataAccessManager`` (or a generic custom manager) gets the registered model and
    schemas; a schema that is not registered becomes the type variable's bound (a type
    argument must satisfy it). A type variable left without a value stays one, and rendering
    it is then an error.
    """
    registered = {
        ModelT: info.model_cls,
        CreateT: info.create_schema_cls,
        UpdateT: info.update_schema_cls,
        ReadT: info.read_schema_cls,
    }
    substitutions = generic_substitutions(info.manager_cls)
    own: dict[TypeVar, Any] = {}
    for base_var, value in registered.items():
        target = substitutions.get(base_var, base_var)
        if isinstance(target, TypeVar) and value is not None:
            own.setdefault(target, value)
    parameters: tuple[TypeVar, ...] = getattr(info.manager_cls, "__parameters__", ())
    return tuple(
        own.get(var, var if var.__bound__ is None else var.__bound__) for var in parameters
    )


class _GuardedNames(dict[str, Any]):
    """Names a module imports under ``TYPE_CHECKING``, each imported when an annotation first
    looks it up (most are never needed: the generated module itself is one of them)."""

    def __init__(
        self, imports: dict[str, GuardedImport], failures: dict[str, str], where: str
    ) -> None:
        super().__init__()
        self.imports = imports
        self.failures = failures
        self.where = where
        self.evaluated: dict[str, Any] = {}  # annotation text -> hint, in this namespace

    def __missing__(self, name: str) -> Any:
        guarded = self.imports.get(name)
        if guarded is None or name in self.failures:
            raise KeyError(name)
        try:
            value = self[name] = guarded.resolve()
        except (Exception, SystemExit) as exc:
            self.failures[name] = (
                f"importing it failed ({self.where}:{guarded.line}: {describe(exc)})"
            )
            raise KeyError(name) from None
        return value

    def with_names(self, names: dict[str, Any]) -> _GuardedNames:
        """The same lazy imports plus ``names`` (which win)."""
        combined = _GuardedNames(self.imports, self.failures, self.where)
        combined.update(self)
        combined.update(names)
        return combined


def _composed(*mappings: dict[TypeVar, Any]) -> dict[TypeVar, Any]:
    """One mapping that does what substituting with each of ``mappings`` in turn does (the
    converter substitutes while it converts, so no parametrised class is built for it)."""
    composed: dict[TypeVar, Any] = {}
    for var in (var for mapping in mappings for var in mapping):
        value: Any = var
        for mapping in mappings:
            value = substitute(value, mapping)
        composed[var] = value
    return composed


@dataclass
class _Namespace:
    """Names visible to a function's annotations: module globals plus guarded imports."""

    globals: dict[str, Any]
    guarded: _GuardedNames
    failures: dict[str, str]


@dataclass
class ServiceInspector:
    registry: LoadedRegistry
    output: OutputTarget
    annotate: bool = True  # the codemod narrows custom managers' ``broker`` (else: views)
    errors: list[CodegenError] = field(default_factory=list)
    converter: TypeConverter = field(default_factory=TypeConverter)
    _namespaces: dict[str, _Namespace] = field(default_factory=dict)
    _sources: dict[tuple[str, str], ModuleSource | None] = field(default_factory=dict)

    # --- entry point ----------------------------------------------------------------------

    def run(self) -> ir.Service:
        models: list[ir.Model] = []
        for info in self.registry.models:
            try:
                models.append(self._model(info))
            except CodegenError as error:
                self.errors.append(error)
        self._check_generated_names(tuple(models))
        if self.errors:
            raise CodegenErrors(self.errors)
        root = self.registry.spec.search_root
        return ir.Service(
            registry=_relative(self.registry.file, root) or self.registry.spec.module,
            registry_module=self.registry.spec.module,
            output=_relative(self.output.path, root) or self.output.path.as_posix(),
            output_module=self.output.module,
            models=tuple(models),
            notes=tuple(dict.fromkeys([*self.converter.notes, *self._unregistered_managers()])),
        )

    def _unregistered_managers(self) -> list[str]:
        """Notes for DAM classes the service defines (in a module loaded with the registry)
        that no model registers and that no registered manager inherits from."""
        spec = self.registry.spec
        package = spec.module.rpartition(".")[0].split(".")[0]
        used: set[type] = set()
        for info in self.registry.models:
            used.update(info.manager_cls.__mro__)
        found: set[tuple[str, int, str]] = set()
        search_root = resolved(spec.search_root)
        for name, module in list(sys.modules.items()):
            file = getattr(module, "__file__", None)
            if name == self.output.module or not file:
                continue
            if package and name != package and not name.startswith(f"{package}."):
                continue
            path = resolved(file)
            if not package and path.parent != search_root:
                continue
            for value in list(vars(module).values()):
                if (
                    not isinstance(value, type)
                    or value.__module__ != name
                    or not issubclass(value, BaseDataAccessManager)
                    or value in used
                ):
                    continue
                if getattr(value, "__parameters__", None):
                    continue  # a generic base, meant to be reused
                line = 1
                if path.suffix == ".py":
                    source = read_module_source(path, getattr(module, "__package__", None))
                    line = source.classes.get(value.__qualname__, 1)
                found.add((display_path(path), line, value.__qualname__))
        return [
            f"{path}:{line}: {qualname} (a BaseDataAccessManager subclass) is not registered "
            f"in {spec.module}: it gets no typed proxy, and a `broker` annotation left in it "
            "from an earlier registration may break type checking"
            for path, line, qualname in sorted(found)
        ]

    # --- models ---------------------------------------------------------------------------

    def _check_registration(self, info: ModelInfo) -> None:
        """The registered classes fit the manager: each satisfies the bound of its type
        variable, and a manager parameterised for a concrete model is registered for that
        model (or a subclass); else its operations would be typed for another model."""
        where = self.registry.registered_at.get(info.model_name)
        manager = info.manager_cls.__qualname__
        bound_by_manager = generic_substitutions(info.manager_cls)
        registered: list[tuple[TypeVar, str, type[Any] | None]] = [
            (ModelT, "model_cls", info.model_cls),
            (CreateT, "create_schema_cls", info.create_schema_cls),
            (UpdateT, "update_schema_cls", info.update_schema_cls),
            (ReadT, "read_schema_cls", info.read_schema_cls),
        ]
        errors: list[CodegenError] = []
        for var, argument, value in registered:
            if value is None:
                continue
            label = f"registration of model {info.model_name!r}: {argument}={_qualname(value)}"
            target = bound_by_manager.get(var, var)
            bounds = [var.__bound__]
            if isinstance(target, TypeVar) and target is not var:
                bounds.append(target.__bound__)  # a generic manager's own, narrower bound
            wrong_bound = next(
                (
                    bound
                    for bound in bounds
                    if isinstance(bound, type)
                    and not (isinstance(value, type) and issubclass(value, bound))
                ),
                None,
            )
            if wrong_bound is not None:
                errors.append(
                    CodegenError(
                        f"{label} is not a {_qualname(wrong_bound)} subclass, which {manager} "
                        f"requires for it (type variable {var.__name__}"
                        + (
                            f" -> {target.__name__}"
                            if isinstance(target, TypeVar) and target is not var
                            else ""
                        )
                        + ")",
                        where,
                    )
                )
            elif (
                var is ModelT  # the schemas only type what the manager's own methods say
                and isinstance(target, type)
                and isinstance(value, type)
                and not issubclass(value, target)
            ):
                errors.append(
                    CodegenError(
                        f"{label} does not match the manager: {manager} manages "
                        f"{_qualname(target)} ({var.__name__}), so the proxy would type "
                        f"{_qualname(value)}'s operations for {_qualname(target)} (e.g. get() "
                        f"-> {_qualname(target)} | None); register a manager for "
                        f"{_qualname(value)}, or make the manager generic",
                        where,
                    )
                )
        if errors:
            raise CodegenErrors(errors)

    def _model(self, info: ModelInfo) -> ir.Model:
        self._check_registration(info)
        manager_cls = info.manager_cls
        bound = generic_substitutions(manager_cls)
        substitutions = _composed(bound, info.manager_substitutions())
        operations = []
        for operation in iter_operations(manager_cls):
            try:
                operations.append(
                    self._operation(info, operation.name, operation.function, bound, substitutions)
                )
            except CodegenError as error:
                self.errors.append(error)
        target = self._annotation_target(info) if self.annotate else None
        view = None if target is not None else self._manager_view(info)
        manager: ir.Name
        if view is not None:
            manager = ir.Name(ir.Symbol("", view.class_name))
        else:
            manager = self._name(self.converter.symbol_name, manager_cls, info)
        return ir.Model(
            name=info.model_name,
            broker_class=f"{info.model_name}Broker",
            kicker_class=f"{info.model_name}Kicker",
            manager=manager,
            manager_label=manager_cls.__name__,
            manager_view=view,
            operations=tuple(operations),
            skipped=tuple(skipped_methods(manager_cls)),
            annotation_target=target,
        )

    def _manager_view(self, info: ModelInfo) -> ir.ManagerView:
        """A typing-only subclass for a manager the codemod cannot (or, with
        ``--no-annotate``, does not) annotate.

        The default ``LocalDataAccessManager``, a generic manager, one shared by several
        models, one from another package, or any manager under ``--no-annotate``:
        ``get_manager()`` returns this view, whose ``broker`` is typed as the model's proxy.
        """
        name: ir.Name = self._name(self.converter.symbol_name, info.manager_cls, info)
        base: ir.Expr = name
        arguments = view_type_arguments(info)
        if arguments:
            rendered = tuple(self._name(self.converter.type_expr, a, info) for a in arguments)
            base = ir.Subscript(name, rendered)
        is_default = info.manager_cls is LocalDataAccessManager
        return ir.ManagerView(f"{info.model_name}Manager", base, is_default)

    def _name(self, convert: Callable[[Any], Any], value: Any, info: ModelInfo) -> Any:
        try:
            return convert(value)
        except UnsupportedType as exc:
            raise CodegenError(
                f"model {info.model_name!r}: {exc}",
                self.registry.registered_at.get(info.model_name),
            ) from None

    def _annotation_target(self, info: ModelInfo) -> ir.AnnotationTarget | None:
        """The custom DAM class to narrow ``broker`` on, when it is the service's own code."""
        manager_cls = info.manager_cls
        if manager_cls.__module__.split(".")[0] in ("core_sdk", "codegen"):
            return None
        if getattr(manager_cls, "__parameters__", ()):
            return None  # generic manager shared by several models: no single proxy type
        users = [m for m in self.registry.models if m.manager_cls is manager_cls]
        if len(users) != 1:
            return None
        try:
            path = Path(inspect.getfile(manager_cls)).resolve()
        except (TypeError, OSError):
            return None
        if not path.is_relative_to(self.registry.spec.search_root) or path.suffix != ".py":
            return None
        module = sys.modules.get(manager_cls.__module__)
        package = getattr(module, "__package__", None) or None
        return ir.AnnotationTarget(
            path, package, manager_cls.__qualname__, f"{info.model_name}Broker"
        )

    # --- operations -----------------------------------------------------------------------

    def _operation(
        self,
        info: ModelInfo,
        name: str,
        function: Callable[..., Any],
        bound: dict[TypeVar, Any],
        substitutions: dict[TypeVar, Any],
    ) -> ir.Operation:
        """``bound``: the manager's ``generic_substitutions`` (for the fingerprint)."""
        function = inspect.unwrap(function)
        source = self._source(function)
        qualname = function.__qualname__
        located = source.functions.get(qualname) if source else None
        location = ir.SourceLocation(
            display_path(source.path) if source else function.__module__,
            located.line if located else function.__code__.co_firstlineno,
        )

        def where(param: str | None) -> ir.SourceLocation:
            if located is None:
                return location
            line = located.returns_line if param is None else located.param_lines.get(param)
            return ir.SourceLocation(location.path, line or location.line)

        label = f"{info.model_name}.{name} ({qualname})"
        if typing.get_overloads(function):
            raise CodegenError(
                f"operation {label} is overloaded (@overload): the proxy would collapse it to "
                "the implementation's signature; give it one signature, or one method per "
                "overload",
                location,
            )
        if name == KICK_PROPERTY or name in _PROXY_ATTRIBUTES or name in TEMPLATE_NAMES:
            raise CodegenError(
                f"operation {label} collides with the generated proxy's own {name!r}; "
                "rename the method",
                location,
            )
        signature = inspect.signature(function)
        parameters = list(signature.parameters.values())[1:]
        params: list[ir.Param] = []
        errors: list[CodegenError] = []
        namespace = self._namespace(function)
        for parameter in parameters:
            try:
                params.append(
                    self._param(parameter, label, where(parameter.name), namespace, substitutions)
                )
            except CodegenError as error:
                errors.append(error)
        returns: ir.Expr = ir.Constant("None")
        if signature.return_annotation is inspect.Signature.empty:
            errors.append(CodegenError(f"{label}: the return type is not annotated", location))
        else:
            try:
                returns = self._type(
                    signature.return_annotation,
                    namespace,
                    substitutions,
                    "the return type",
                    f"{where(None)}: {label}: the return type",
                )
            except CodegenError as error:
                errors.append(CodegenError(f"{label}: {error.message}", where(None)))
        if errors:
            raise CodegenErrors(errors)
        return ir.Operation(
            name=name,
            constant=f"_{_screaming(info.model_name)}_{name.upper()}",
            params=tuple(params),
            returns=returns,
            fingerprint=operation_fingerprint(
                info.manager_cls, name, signature=signature, substitutions=bound
            ),
            summary=_summary(function),
            location=location,
        )

    def _param(
        self,
        parameter: inspect.Parameter,
        label: str,
        location: ir.SourceLocation,
        namespace: _Namespace,
        substitutions: dict[TypeVar, Any],
    ) -> ir.Param:
        what = f"{label}: parameter {parameter.name!r}"
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            star = "*" if parameter.kind is parameter.VAR_POSITIONAL else "**"
            raise CodegenError(
                f"{what}: {star}{parameter.name} is not supported (the wire format sends named, "
                f"typed arguments); take a list or dict parameter instead",
                location,
            )
        if parameter.name in (TIMEOUT_PARAM, "self"):
            raise CodegenError(
                f"{what}: the name {parameter.name} is reserved by the generated proxy", location
            )
        if parameter.annotation is inspect.Parameter.empty:
            raise CodegenError(f"{what} has no type annotation", location)
        try:
            annotation = self._type(
                parameter.annotation, namespace, substitutions, "its type", f"{location}: {what}"
            )
        except CodegenError as error:
            raise CodegenError(f"{what}: {error.message}", location) from None
        default: ir.Expr | None = None
        if parameter.default is not inspect.Parameter.empty:
            default = self.converter.value_expr(parameter.default) or DAM_DEFAULT
            if parameter.default is None and not _admits_none(annotation):
                raise CodegenError(
                    f"{what}: the default is None but the annotation does not allow None "
                    "(write `X | None`)",
                    location,
                )
        kind = ir.ParamKind.POSITIONAL_OR_KEYWORD
        if parameter.kind is parameter.POSITIONAL_ONLY:
            kind = ir.ParamKind.POSITIONAL_ONLY
        elif parameter.kind is parameter.KEYWORD_ONLY:
            kind = ir.ParamKind.KEYWORD_ONLY
        return ir.Param(parameter.name, kind, annotation, default)

    # --- types ----------------------------------------------------------------------------

    def _type(
        self,
        annotation: Any,
        namespace: _Namespace,
        substitutions: dict[TypeVar, Any],
        what: str,
        origin: str,
    ) -> ir.Expr:
        """The IR of one annotation; ``origin`` (``path:line: label``) prefixes its notes."""
        hint = self._evaluate(annotation, namespace, what)
        seen = len(self.converter.notes)
        try:
            return self.converter.type_expr(hint, substitutions)
        except UnsupportedType as exc:
            raise CodegenError(f"{what} cannot be typed faithfully: {exc}") from None
        finally:
            self.converter.notes[seen:] = [
                f"{origin}: {_ADDRESS.sub('', note)}" for note in self.converter.notes[seen:]
            ]

    def _evaluate(self, annotation: Any, namespace: _Namespace, what: str) -> Any:
        evaluated = namespace.guarded.evaluated
        if isinstance(annotation, str) and annotation in evaluated:
            return evaluated[annotation]  # the same text means the same hint in one namespace

        def probe() -> None: ...

        probe.__annotations__ = {"value": annotation}
        try:
            hint = typing.get_type_hints(
                probe, globalns=namespace.globals, localns=namespace.guarded, include_extras=True
            )["value"]
            if isinstance(annotation, str):
                evaluated[annotation] = hint
            return hint
        except NameError as exc:
            missing = getattr(exc, "name", None) or ""
            reason = namespace.failures.get(missing)
            detail = (
                f"{missing!r} is imported under TYPE_CHECKING but {reason}"
                if reason
                else f"{exc} (not imported, not even under TYPE_CHECKING)"
            )
            raise CodegenError(f"cannot resolve {what} {_text(annotation)}: {detail}") from None
        except Exception as exc:
            raise CodegenError(
                f"cannot evaluate {what} {_text(annotation)}: {describe(exc)}"
            ) from None

    def _namespace(self, function: Callable[..., Any]) -> _Namespace:
        module_name = function.__module__
        cached = self._namespaces.get(module_name)
        if cached is not None:
            return self._with_class_scope(cached, function)
        module = sys.modules[module_name]
        module_globals = dict(vars(module))
        source = self._source(function)
        imports = {
            name: guarded
            for name, guarded in (source.guarded_imports.items() if source is not None else ())
            if name not in module_globals
        }
        failures: dict[str, str] = {}
        where = source.path.name if source is not None else module_name
        namespace = _Namespace(module_globals, _GuardedNames(imports, failures, where), failures)
        self._namespaces[module_name] = namespace
        return self._with_class_scope(namespace, function)

    @staticmethod
    def _with_class_scope(namespace: _Namespace, function: Callable[..., Any]) -> _Namespace:
        """Add the classes nested in the method's class (visible to annotations in its body)."""
        owner_path = function.__qualname__.split(".")[:-1]
        owner: Any = sys.modules[function.__module__]
        for part in owner_path:
            owner = getattr(owner, part, None)
        if not isinstance(owner, type):
            return namespace
        nested = {key: value for key, value in vars(owner).items() if isinstance(value, type)}
        if not nested:
            return namespace
        return _Namespace(
            namespace.globals, namespace.guarded.with_names(nested), namespace.failures
        )

    def _source(self, function: Callable[..., Any]) -> ModuleSource | None:
        code = getattr(function, "__code__", None)
        key = (code.co_filename if code is not None else "", function.__module__)
        if code is not None and key in self._sources:  # one lookup per file, not per method
            return self._sources[key]
        source = self._read_source(function)
        self._sources[key] = source
        return source

    @staticmethod
    def _read_source(function: Callable[..., Any]) -> ModuleSource | None:
        try:
            path = Path(inspect.getsourcefile(function) or "")
        except TypeError:
            return None
        if not path.is_file():
            return None
        module = sys.modules.get(function.__module__)
        package = getattr(module, "__package__", None)
        return read_module_source(resolved(path), package)

    # --- generated names ------------------------------------------------------------------

    def _check_generated_names(self, models: tuple[ir.Model, ...]) -> None:
        owners: dict[str, str] = {name: "the generated module" for name in MODULE_NAMES}
        where: dict[str, ir.SourceLocation | None] = {}
        for model in models:
            registered = self.registry.registered_at.get(model.name)
            names = [model.broker_class, model.kicker_class]
            if model.manager_view is not None:
                names.append(model.manager_view.class_name)
            candidates = [(name, f"model {model.name!r}", registered) for name in names]
            candidates += [
                (op.constant, f"operation {model.name}.{op.name}", op.location)
                for op in model.operations
            ]
            for op in model.operations:
                if op.name == model.kicker_class:  # ``def kick(self) -> <Model>Kicker``
                    self.errors.append(
                        CodegenError(
                            f"operation {model.name}.{op.name} is named like the generated "
                            f"class {model.kicker_class}, which the proxy's `kick` property "
                            "returns; rename the method",
                            op.location,
                        )
                    )
                for param in op.params:
                    if param.name == op.constant:
                        self.errors.append(
                            CodegenError(
                                f"parameter {param.name!r} of {model.name}.{op.name} collides "
                                "with the generated operation constant",
                                op.location,
                            )
                        )
            for name, owner, location in candidates:
                if name in owners:
                    self.errors.append(
                        CodegenError(
                            f"generated name {name} for {owner} collides with the one for "
                            f"{owners[name]}"
                            + (f" ({where[name]})" if where.get(name) else "")
                            + "; rename the model or the method",
                            location,
                        )
                    )
                else:
                    owners[name] = owner
                    where[name] = location


_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def _screaming(name: str) -> str:
    """``StockItem`` -> ``STOCK_ITEM``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).upper()


def _relative(path: Path, root: Path) -> str | None:
    """``path`` relative to ``root`` (``..`` allowed), or None when on another drive."""
    try:
        return Path(os.path.relpath(path.resolve(), root)).as_posix()
    except ValueError:
        return None


def _admits_none(expr: ir.Expr) -> bool:
    if expr == ir.Constant("None"):
        return True
    if isinstance(expr, ir.Union):
        return any(_admits_none(member) for member in expr.members)
    if isinstance(expr, ir.Subscript) and expr.base.symbol.name == "Annotated" and expr.args:
        return _admits_none(expr.args[0])
    return expr == ir.Name(ir.Symbol("typing", "Any"))


def _qualname(cls: Any) -> str:
    return str(getattr(cls, "__qualname__", cls))


def _text(annotation: Any) -> str:
    return repr(annotation) if isinstance(annotation, str) else inspect.formatannotation(annotation)


def _summary(function: Callable[..., Any]) -> str | None:
    doc = inspect.getdoc(function)
    if not doc:
        return None
    first = doc.strip().split("\n\n")[0]
    return " ".join(first.split())


def inspect_service(
    registry: LoadedRegistry, output: OutputTarget, *, annotate: bool = True
) -> ir.Service:
    """The IR of a loaded registry (``annotate``: custom managers get the codemod's
    annotation instead of a generated view)."""
    return ServiceInspector(registry, output, annotate=annotate).run()


__all__ = ["OutputTarget", "inspect_service"]
