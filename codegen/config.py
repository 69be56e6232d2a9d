"""Which services to generate: from the command line, or ``[tool.dam-codegen]`` in pyproject.

One service::

    [tool.dam-codegen]
    registry = "app/registry_config.py"
    output = "app/_tasks.py"

Several::

    [[tool.dam-codegen.services]]
    registry = "billing/app/registry_config.py"
    output = "billing/app/_tasks.py"
    annotate = false            # optional, default true

Paths are relative to the directory of that ``pyproject.toml``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codegen.errors import CodegenError

TABLE = "dam-codegen"
_SERVICE_KEYS = frozenset({"registry", "output", "annotate"})


@dataclass(frozen=True)
class Job:
    """Generate one service's module."""

    registry: str  # a path or a dotted module, relative to ``base``
    output: Path
    base: Path  # where relative paths and dotted modules are resolved
    annotate: bool = True


def find_pyproject(start: Path) -> Path | None:
    """The nearest ``pyproject.toml`` at or above ``start`` that has ``[tool.dam-codegen]``."""
    for folder in (start, *start.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file() and TABLE in _load(candidate).get("tool", {}):
            return candidate
    return None


def _load(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CodegenError(f"{path}: invalid TOML: {exc}") from None


def jobs_from_pyproject(path: Path, *, annotate: bool) -> list[Job]:
    """The services listed in ``path``'s ``[tool.dam-codegen]`` table."""
    table = _load(path).get("tool", {}).get(TABLE, {})
    if not isinstance(table, dict):
        raise CodegenError(f"{path}: [tool.{TABLE}] must be a table")
    if "services" in table:
        if set(table) - {"services"}:
            raise CodegenError(
                f"{path}: [tool.{TABLE}] has both `services` and top-level service keys"
            )
        entries = table["services"]
        if not isinstance(entries, list) or not entries:
            raise CodegenError(f"{path}: [tool.{TABLE}] services must be a non-empty array")
    else:
        entries = [table]
    jobs = []
    for number, entry in enumerate(entries, start=1):
        where = f"{path}: [tool.{TABLE}]" + (f" service {number}" if len(entries) > 1 else "")
        if not isinstance(entry, dict):
            raise CodegenError(f"{where}: expected a table")
        unknown = sorted(set(entry) - _SERVICE_KEYS)
        if unknown:
            raise CodegenError(f"{where}: unknown key(s) {', '.join(unknown)}")
        registry, output = entry.get("registry"), entry.get("output")
        if not isinstance(registry, str) or not isinstance(output, str):
            raise CodegenError(f"{where}: `registry` and `output` (strings) are required")
        service_annotate = entry.get("annotate", True)
        if not isinstance(service_annotate, bool):
            raise CodegenError(f"{where}: `annotate` must be true or false")
        jobs.append(
            Job(
                registry=registry,
                output=(path.parent / output).resolve(),
                base=path.parent.resolve(),
                annotate=annotate and service_annotate,
            )
        )
    return jobs
