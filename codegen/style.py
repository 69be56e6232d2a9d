"""The service's code style, read from its ruff configuration.

The generated module must pass the service's own ``ruff check`` (isort sections) and
``ruff format --check`` (line length). Both depend on configuration: ruff classifies an import
as first-party when its module path exists under one of the ``src`` roots, or when it belongs
to the package of the file being checked. This module reproduces that classification for the
settings that matter (``line-length``, ``src``, ``known-first-party``, ``known-third-party``).
"""

from __future__ import annotations

import enum
import fnmatch
import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_LINE_LENGTH = 88


class Section(enum.IntEnum):
    """isort sections, in the order they appear."""

    FUTURE = 0
    STANDARD_LIBRARY = 1
    THIRD_PARTY = 2
    FIRST_PARTY = 3
    LOCAL_FOLDER = 4


# ruff's rule selection when the configuration has none
DEFAULT_SELECT = ("E4", "E7", "E9", "F")


@dataclass(frozen=True)
class CodeStyle:
    line_length: int = DEFAULT_LINE_LENGTH
    src: tuple[Path, ...] = ()
    known_first_party: tuple[str, ...] = ()
    known_third_party: tuple[str, ...] = ()
    same_package: str | None = None  # top-level package of the generated file
    select: tuple[str, ...] = DEFAULT_SELECT  # rule selectors (with extend-select)
    ignore: tuple[str, ...] = ()  # with extend-ignore and the file's per-file-ignores
    max_line_length: int | None = None  # E501's own limit (pycodestyle.max-line-length)

    def enabled(self, code: str) -> bool:
        """Whether ruff checks rule ``code`` (``E741``) in the generated file: the most
        specific matching selector wins, ``ignore`` on a tie."""
        selected = _specificity(code, self.select)
        return selected >= 0 and selected > _specificity(code, self.ignore)

    @property
    def e501_limit(self) -> int:
        return self.max_line_length or self.line_length

    def section(self, module: str) -> Section:
        if module == "__future__":
            return Section.FUTURE
        if _matches(module, self.known_first_party):
            return Section.FIRST_PARTY
        if _matches(module, self.known_third_party):
            return Section.THIRD_PARTY
        top = module.split(".")[0]
        if top in sys.stdlib_module_names:
            return Section.STANDARD_LIBRARY
        if top == self.same_package:
            return Section.FIRST_PARTY
        relative = Path(*module.split("."))
        for root in self.src:
            path = root / relative
            if (
                path.is_dir()
                or path.with_suffix(".py").is_file()
                or path.with_suffix(".pyi").is_file()
            ):
                return Section.FIRST_PARTY
        return Section.THIRD_PARTY


def _specificity(code: str, selectors: tuple[str, ...]) -> int:
    """Length of the longest selector that selects ``code`` (0 for ``ALL``), -1 for none."""
    best = -1
    for selector in selectors:
        if selector == "ALL":
            best = max(best, 0)
        elif code.startswith(selector):
            best = max(best, len(selector))
    return best


def _matches(module: str, patterns: tuple[str, ...]) -> bool:
    for pattern in patterns:
        regex = re.escape(pattern).replace(r"\*", ".*")
        if re.fullmatch(regex, module) or re.fullmatch(regex + r"\..*", module):
            return True
    return False


def _ruff_settings(directory: Path) -> tuple[Path, dict[str, Any]] | None:
    """The closest ruff configuration at or above ``directory``: (project root, settings)."""
    for folder in (directory, *directory.parents):
        for name in (".ruff.toml", "ruff.toml"):
            candidate = folder / name
            if candidate.is_file():
                return folder, tomllib.loads(candidate.read_text())
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            tool = tomllib.loads(pyproject.read_text()).get("tool", {})
            if "ruff" in tool:
                return folder, tool["ruff"]
    return None


def _package_root_name(path: Path) -> str | None:
    """Top-level package containing ``path`` (walking up ``__init__.py`` files)."""
    top: str | None = None
    folder = path.parent
    while (folder / "__init__.py").is_file():
        top = folder.name
        folder = folder.parent
    return top


def discover_style(output: Path) -> CodeStyle:
    """The style ruff would apply to ``output`` (which need not exist yet)."""
    output = output.resolve()
    found = _ruff_settings(output.parent)
    root, settings = found if found else (Path.cwd(), {})
    lint = settings.get("lint", {})
    isort = {**settings.get("isort", {}), **lint.get("isort", {})}
    src_entries = settings.get("src", [".", "src"])
    merged = {**settings, **lint}  # top-level rule settings are ruff's older spelling
    select = tuple(merged.get("select", DEFAULT_SELECT)) + tuple(merged.get("extend-select", ()))
    ignore = list(merged.get("ignore", ())) + list(merged.get("extend-ignore", ()))
    relative = output.relative_to(root).as_posix() if output.is_relative_to(root) else None
    for key in ("per-file-ignores", "extend-per-file-ignores"):
        for pattern, codes in dict(merged.get(key, {})).items():
            if _path_matches(pattern, output, relative):
                ignore += list(codes)
    pycodestyle = {**settings.get("pycodestyle", {}), **lint.get("pycodestyle", {})}
    max_line_length = pycodestyle.get("max-line-length")
    return CodeStyle(
        line_length=int(settings.get("line-length", DEFAULT_LINE_LENGTH)),
        src=tuple((root / entry).resolve() for entry in src_entries),
        known_first_party=tuple(isort.get("known-first-party", ())),
        known_third_party=tuple(isort.get("known-third-party", ())),
        same_package=_package_root_name(output) if isort.get("detect-same-package", True) else None,
        select=select,
        ignore=tuple(ignore),
        max_line_length=int(max_line_length) if max_line_length is not None else None,
    )


def _path_matches(pattern: str, path: Path, relative: str | None) -> bool:
    """A per-file-ignores glob against the file (relative to the project root, or its name)."""
    negated = pattern.startswith("!")
    glob = pattern[1:] if negated else pattern
    candidates = [path.as_posix(), path.name, *([relative] if relative else [])]
    matched = any(fnmatch.fnmatchcase(candidate, glob) for candidate in candidates)
    return matched != negated
