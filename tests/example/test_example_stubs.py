"""The committed ``examples/warehouse/app/_tasks.py`` is current and clean."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from example_support import EXAMPLE_DIR, REPO_ROOT, subprocess_env, tool

STALE_HINT = (
    "examples/warehouse/app/_tasks.py (or a DAM's broker annotation) is stale: "
    "run `cd examples/warehouse && dam-codegen` and commit the result."
)


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=cwd, env=subprocess_env(), capture_output=True, text=True, timeout=300
    )


def test_committed_module_is_current() -> None:
    """`dam-codegen --check` from the example's pyproject ([tool.dam-codegen]) finds no diff."""
    result = run([tool("dam-codegen"), "--check"], EXAMPLE_DIR)
    assert result.returncode == 0, f"{STALE_HINT}\n{result.stdout}\n{result.stderr}"


def test_readme_command_from_repo_root_agrees() -> None:
    """The README's command (paths from the repo root), with --check, finds no diff."""
    result = run(
        [
            tool("dam-codegen"),
            "examples/warehouse/app/registry_config.py",
            "-o",
            "examples/warehouse/app/_tasks.py",
            "--check",
        ],
        REPO_ROOT,
    )
    assert result.returncode == 0, f"{STALE_HINT}\n{result.stdout}\n{result.stderr}"


def test_stale_module_is_detected(tmp_path: Path) -> None:
    """A hand-edited copy fails `--check` with exit 1 and a unified diff."""
    copy = tmp_path / "warehouse"
    shutil.copytree(EXAMPLE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    tasks = copy / "app" / "_tasks.py"
    tasks.write_text(
        tasks.read_text().replace(
            "_broker_timeout: float = 30.0", "_broker_timeout: float = 31.0", 1
        )
    )
    result = run([tool("dam-codegen"), "--check"], copy)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "+++" in result.stdout + result.stderr
    assert "31.0" in result.stdout + result.stderr


def test_generated_module_passes_ruff() -> None:
    for args in (["check"], ["format", "--check"]):
        result = run([tool("ruff"), *args, "app/_tasks.py"], EXAMPLE_DIR)
        assert result.returncode == 0, result.stdout + result.stderr


def test_importing_the_generated_module_alone_registers_the_models() -> None:
    """README step 4: `from app._tasks import ...` is enough (no import cycle, no
    separate `import app.registry_config`); every model gets its typed proxy."""
    script = """
import sys
from app._tasks import DataAccessManagerFactory, ProductBroker, WarehouseBroker
from core_sdk.registry import ModelRegistry

assert ModelRegistry.model_names() == ["Product", "StockItem", "Warehouse"]
factory = DataAccessManagerFactory()
assert type(factory.get_manager("Product").broker) is ProductBroker
assert type(factory.get_manager("Warehouse").broker) is WarehouseBroker
assert "app.registry_config" in sys.modules
print("ok")
"""
    result = subprocess.run(
        [str(Path(tool("python"))), "-c", script],
        cwd=EXAMPLE_DIR,
        env=subprocess_env(ENV="test", PYTHONPATH=str(REPO_ROOT)),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.stdout.strip() == "ok", result.stdout + result.stderr
