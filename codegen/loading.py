"""Load a service's ``registry_config`` and capture what it registers.

The registry is given as a file path or a dotted module name. For a path, the package root is
found by walking up ``__init__.py`` files, so ``from .models import X`` inside the service
works from any working directory. Loading only imports user code: no database, no Redis.

Loading happens inside :func:`loaded_registry`, which restores ``sys.path``, ``sys.modules``
and the model registry afterwards, so several services can be generated in one process.
"""

from __future__ import annotations

import functools
import importlib
import os
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from codegen.errors import CodegenError, describe
from codegen.ir import SourceLocation
from core_sdk.registry import ModelInfo, ModelRegistry


@dataclass(frozen=True)
class RegistrySpec:
    """Where the registry module is: its dotted name and the directory to import it from."""

    module: str
    search_root: Path
    path: Path | None  # the file, when given as a path


@dataclass(frozen=True)
class LoadedRegistry:
    spec: RegistrySpec
    file: Path  # the registry module's file
    models: tuple[ModelInfo, ...]  # sorted by model name
    registered_at: dict[str, SourceLocation]  # model name -> the registering call


def package_root(path: Path) -> tuple[Path, str]:
    """(directory to put on ``sys.path``, dotted module name) for a ``.py`` file."""
    path = path.resolve()
    parts = [path.stem] if path.name != "__init__.py" else []
    folder = path.parent
    while (folder / "__init__.py").is_file():
        parts.insert(0, folder.name)
        folder = folder.parent
    return folder, ".".join(parts)


def resolve_registry(target: str, cwd: Path) -> RegistrySpec:
    """Interpret ``target`` as a path (``app/registry_config.py``) or a dotted module."""
    candidate = (cwd / target) if not Path(target).is_absolute() else Path(target)
    looks_like_path = target.endswith(".py") or "/" in target or "\\" in target
    if looks_like_path or candidate.is_file():
        if not candidate.is_file():
            raise CodegenError(f"registry file {target} does not exist")
        root, module = package_root(candidate)
        return RegistrySpec(module=module, search_root=root, path=candidate.resolve())
    if not all(part.isidentifier() for part in target.split(".")):
        raise CodegenError(f"{target!r} is neither a registry file nor a dotted module name")
    return RegistrySpec(module=target, search_root=cwd.resolve(), path=None)


def _user_frame(
    frames: traceback.StackSummary | list[traceback.FrameSummary], root: Path
) -> traceback.FrameSummary | None:
    """The innermost frame in the service's own code."""
    inside = [
        frame
        for frame in frames
        if (path := resolved(frame.filename)).is_relative_to(root)
        and not any(path.is_relative_to(own) for own in _OWN_PACKAGES)
    ]
    return inside[-1] if inside else None


_OWN_PACKAGES = tuple(
    Path(module.__file__).resolve().parent
    for module in (sys.modules["codegen"], sys.modules["core_sdk"])
    if module.__file__
)


@contextmanager
def loaded_registry(spec: RegistrySpec) -> Iterator[LoadedRegistry]:
    """Import the registry module; yield what it registered; then undo the import."""
    saved_path = list(sys.path)
    saved_modules = set(sys.modules)
    saved_models = ModelRegistry.all_models()
    registered_at: dict[str, SourceLocation] = {}
    original_register = vars(ModelRegistry)["register"]

    def recording_register(cls: type[ModelRegistry], info: ModelInfo) -> ModelInfo:
        frame = _user_frame(traceback.extract_stack()[:-1], spec.search_root)
        if frame is not None and frame.lineno is not None:
            registered_at.setdefault(
                info.model_name, SourceLocation(display_path(frame.filename), frame.lineno)
            )
        result: ModelInfo = original_register.__func__(cls, info)
        return result

    ModelRegistry.clear()
    sys.path.insert(0, str(spec.search_root))
    setattr(ModelRegistry, "register", classmethod(recording_register))  # noqa: B010
    try:
        try:
            module = importlib.import_module(spec.module)
        except CodegenError:
            raise
        except (Exception, SystemExit) as exc:
            raise _import_error(spec, exc) from exc
        finally:
            setattr(ModelRegistry, "register", original_register)  # noqa: B010
        models = tuple(ModelRegistry.all_models())
        file = Path(module.__file__ or spec.module).resolve()
        if not models:
            raise CodegenError(
                f"{spec.module} registers no model (expected ModelRegistry.register_local(...) "
                "calls when the module is imported)",
                SourceLocation(display_path(file), 1),
            )
        yield LoadedRegistry(spec, file, models, registered_at)
    finally:
        ModelRegistry.clear()
        for info in saved_models:
            ModelRegistry.register(info)
        for name in set(sys.modules) - saved_modules:
            del sys.modules[name]
        sys.path[:] = saved_path


def _import_error(spec: RegistrySpec, exc: BaseException) -> CodegenError:
    frames = traceback.extract_tb(exc.__traceback__)
    frame = _user_frame(frames, spec.search_root)
    if isinstance(exc, SyntaxError) and exc.filename and exc.lineno:
        location = SourceLocation(display_path(exc.filename), exc.lineno)
    elif frame is not None and frame.lineno is not None:
        location = SourceLocation(display_path(frame.filename), frame.lineno)
    else:
        location = None
    if isinstance(exc, SystemExit):
        return CodegenError(
            f"importing {spec.module} failed: the service called sys.exit({exc.code!r}) while "
            "being imported",
            location,
        )
    detail = describe(exc) if not isinstance(exc, SyntaxError) else f"SyntaxError: {exc.msg}"
    return CodegenError(f"importing {spec.module} failed: {detail}", location)


def display_path(filename: str | Path) -> str:
    """A path for messages: relative to the working directory (``..`` allowed) when the two
    share more than the filesystem root, else absolute."""
    return _display_path(os.fspath(filename), os.getcwd())


@functools.lru_cache(maxsize=4096)
def _display_path(filename: str, cwd_name: str) -> str:
    # cached: the generator shows the same few files thousands of times (resolve is slow)
    path = resolved(filename)
    cwd = resolved(cwd_name)
    try:
        if os.path.commonpath([path, cwd]) == path.anchor:
            return path.as_posix()
        return Path(os.path.relpath(path, cwd)).as_posix()
    except ValueError:  # another drive
        return path.as_posix()


def resolved(filename: str | Path) -> Path:
    """``Path(filename).resolve()``, cached per working directory."""
    return _resolved(os.fspath(filename), os.getcwd())


@functools.lru_cache(maxsize=8192)
def _resolved(filename: str, cwd_name: str) -> Path:
    return Path(filename).resolve()
