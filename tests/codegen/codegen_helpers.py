"""Helpers of the generator tests: fixture services copied to a temporary service root.

The fixture services live in ``tests/codegen/services``; a test copies the ones it needs into
its own directory (the "service root", with a ``pyproject.toml`` holding the ruff settings)
and runs the generator there, so the repository is never written to.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
SERVICES = HERE / "services"
GOLDEN = HERE / "golden"
REPO_ROOT = HERE.parents[1]
BIN = Path(sys.executable).parent
UPDATE_GOLDEN = os.environ.get("DAM_CODEGEN_UPDATE_GOLDEN") == "1"

PYPROJECT = """\
[tool.ruff]
line-length = {line_length}

[tool.ruff.lint]
select = ["E", "F", "W", "I", "B", "UP", "SIM", "RUF"]
"""


def make_service_root(
    root: Path, services: Iterable[str], *, line_length: int = 100, pyproject: str | None = None
) -> Path:
    """``root`` holding copies of the fixture ``services`` and a pyproject.toml."""
    root.mkdir(parents=True, exist_ok=True)
    for name in services:
        shutil.copytree(SERVICES / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    text = pyproject if pyproject is not None else PYPROJECT.format(line_length=line_length)
    (root / "pyproject.toml").write_text(text)
    return root


def tool_env(**extra: str) -> dict[str, str]:
    """Environment for subprocesses: type checkers find the repository's packages."""
    env = {**os.environ, **extra}
    env["MYPYPATH"] = str(REPO_ROOT)
    env["PYTHONPATH"] = os.pathsep.join(
        part for part in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if part
    )
    return env


def run_cli(
    args: list[str], cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``dam-codegen ARGS`` in ``cwd`` (a subprocess, as a user runs it)."""
    return subprocess.run(
        [sys.executable, "-m", "codegen.cli", *args],
        cwd=cwd,
        env=env or tool_env(),
        capture_output=True,
        text=True,
        check=False,
    )


def generate(root: Path, service: str, *extra: str) -> subprocess.CompletedProcess[str]:
    """Generate ``service``'s ``_tasks.py`` (annotating its DAMs) inside ``root``."""
    result = run_cli(
        [f"{service}/registry_config.py", "-o", f"{service}/_tasks.py", *extra], cwd=root
    )
    assert result.returncode == 0, result.stderr
    return result


def check_golden(actual: str, golden: Path) -> None:
    """Compare with a committed file; DAM_CODEGEN_UPDATE_GOLDEN=1 rewrites it instead."""
    if UPDATE_GOLDEN:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(actual)
    assert golden.is_file(), f"{golden} is missing (run with DAM_CODEGEN_UPDATE_GOLDEN=1)"
    assert actual == golden.read_text(), (
        f"generated output differs from {golden.relative_to(REPO_ROOT)}; if the change is "
        "intended, rerun with DAM_CODEGEN_UPDATE_GOLDEN=1 and review the diff"
    )


def ruff() -> str:
    path = BIN / "ruff"
    if not path.exists():
        pytest.skip("ruff is not installed (dev dependency)")
    return str(path)
