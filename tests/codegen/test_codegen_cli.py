"""The command line: --check and its diff, exit codes, [tool.dam-codegen], paths and modules."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from codegen_helpers import BIN, run_cli, tool_env

SHOP = ["cg_shop/registry_config.py", "-o", "cg_shop/_tasks.py"]
MINI = ["cg_mini/registry_config.py", "-o", "cg_mini/_tasks.py"]


def test_check_reports_a_missing_module_with_a_diff_and_exit_1(
    service_root: Callable[..., Path],
) -> None:
    root = service_root("cg_shop")
    result = run_cli([*SHOP, "--check"], cwd=root)
    assert result.returncode == 1
    assert result.stdout.startswith("--- /dev/null\n+++ b/cg_shop/_tasks.py\n")
    assert "+class CrateBroker(TypedBrokerProxy):" in result.stdout
    assert "cg_shop/_tasks.py is missing" in result.stderr
    assert not (root / "cg_shop" / "_tasks.py").exists()  # --check writes nothing


def test_check_passes_after_generation_and_fails_on_an_edit(
    service_root: Callable[..., Path],
) -> None:
    root = service_root("cg_shop")
    written = run_cli(SHOP, cwd=root)
    assert written.returncode == 0, written.stderr
    assert "wrote cg_shop/_tasks.py" in written.stderr
    clean = run_cli([*SHOP, "--check"], cwd=root)
    assert (clean.returncode, clean.stdout) == (0, "")

    module = root / "cg_shop" / "_tasks.py"
    module.write_text(
        module.read_text().replace(
            "_broker_timeout: float = 30.0", "_broker_timeout: float = 9.0", 1
        )
    )
    stale = run_cli([*SHOP, "--check"], cwd=root)
    assert stale.returncode == 1
    assert stale.stdout.startswith("--- a/cg_shop/_tasks.py\n+++ b/cg_shop/_tasks.py\n")
    assert (
        "-    async def anything(self, data: dict[str, Any], *, _broker_timeout: float = 9.0)"
        in stale.stdout
    )
    assert "cg_shop/_tasks.py is out of date" in stale.stderr


def test_check_reports_a_missing_broker_annotation(service_root: Callable[..., Path]) -> None:
    root = service_root("cg_shop")
    original = (root / "cg_shop" / "managers.py").read_text()
    assert run_cli(SHOP, cwd=root).returncode == 0
    (root / "cg_shop" / "managers.py").write_text(original)
    result = run_cli([*SHOP, "--check"], cwd=root)
    assert result.returncode == 1
    assert "+++ b/cg_shop/managers.py" in result.stdout
    assert "+        def broker(self) -> CrateBroker: ..." in result.stdout
    assert "cg_shop/managers.py is out of date" in result.stderr


def test_no_annotate_leaves_dam_files_alone(service_root: Callable[..., Path]) -> None:
    root = service_root("cg_shop")
    original = (root / "cg_shop" / "managers.py").read_text()
    assert run_cli([*SHOP, "--no-annotate"], cwd=root).returncode == 0
    assert (root / "cg_shop" / "managers.py").read_text() == original
    assert run_cli([*SHOP, "--no-annotate", "--check"], cwd=root).returncode == 0


def test_verbose_output_and_skipped_methods_reported_once(
    service_root: Callable[..., Path],
) -> None:
    root = service_root("cg_shop")
    first = run_cli([*SHOP, "-v"], cwd=root)
    assert "Crate: 24 operations (CrateManager)" in first.stderr
    assert "Note: 5 operations (LocalDataAccessManager)" in first.stderr
    assert first.stderr.count("describe") == 1
    assert "note: Crate (CrateManager): not async, so not operations (skipped): describe" in (
        first.stderr
    )
    again = run_cli([*SHOP, "-v"], cwd=root)
    assert "cg_shop/_tasks.py is up to date" in again.stderr


def test_pyproject_lists_several_services(service_root: Callable[..., Path]) -> None:
    pyproject = """
[tool.ruff]
line-length = 100

[[tool.dam-codegen.services]]
registry = "cg_shop/registry_config.py"
output = "cg_shop/_tasks.py"

[[tool.dam-codegen.services]]
registry = "cg_mini/registry_config.py"
output = "cg_mini/_tasks.py"
annotate = false
"""
    root = service_root("cg_shop", "cg_mini", pyproject=pyproject)
    mini_managers = (root / "cg_mini" / "domain" / "managers.py").read_text()
    nested = root / "cg_shop"  # the nearest pyproject.toml is found from a sub-directory
    check = run_cli(["--check"], cwd=nested)
    assert check.returncode == 1
    assert "dam-codegen: _tasks.py is missing" in check.stderr  # relative to the cwd
    assert "dam-codegen: ../cg_mini/_tasks.py is missing" in check.stderr
    assert run_cli([], cwd=nested).returncode == 0
    assert (root / "cg_shop" / "_tasks.py").is_file()
    assert (root / "cg_mini" / "_tasks.py").is_file()
    assert (root / "cg_mini" / "domain" / "managers.py").read_text() == mini_managers
    assert "def broker(self) -> CrateBroker" in (root / "cg_shop" / "managers.py").read_text()
    assert run_cli(["--check"], cwd=root).returncode == 0


def test_pyproject_with_one_service_and_paths_relative_to_it(
    service_root: Callable[..., Path],
) -> None:
    pyproject = """
[tool.dam-codegen]
registry = "cg_mini/registry_config.py"
output = "cg_mini/_tasks.py"
"""
    root = service_root("cg_mini", pyproject=pyproject)
    assert run_cli([], cwd=root / "cg_mini" / "domain").returncode == 0
    assert run_cli(["--check"], cwd=root).returncode == 0


def test_relative_imports_service_loaded_by_path_from_another_directory(
    service_root: Callable[..., Path], tmp_path: Path
) -> None:
    root = service_root("cg_mini")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    registry = root / "cg_mini" / "registry_config.py"
    output = root / "cg_mini" / "_tasks.py"
    result = run_cli([str(registry), "-o", str(output)], cwd=elsewhere)
    assert result.returncode == 0, result.stderr
    from_root = run_cli([*MINI, "--check"], cwd=root)
    assert from_root.returncode == 0, from_root.stdout  # same bytes whatever the directory
    text = output.read_text()
    assert "dam-codegen cg_mini/registry_config.py -o cg_mini/_tasks.py" in text
    assert "from cg_mini.shared import GadgetCreate, Money" in text
    managers = (root / "cg_mini" / "domain" / "managers.py").read_text()
    assert "    from .._tasks import GadgetBroker\n" in managers


def test_dotted_module_gives_the_same_module(service_root: Callable[..., Path]) -> None:
    root = service_root("cg_mini")
    assert run_cli(MINI, cwd=root).returncode == 0
    dotted = run_cli(["cg_mini.registry_config", "-o", "cg_mini/_tasks.py", "--check"], cwd=root)
    assert dotted.returncode == 0, dotted.stdout + dotted.stderr


def test_loading_needs_no_database_and_no_redis(service_root: Callable[..., Path]) -> None:
    """Even when the service builds the broker at import (core_sdk.broker.setup), which with
    ENV=prod and an unreachable Redis refuses to start: the loader runs with ENV=test."""
    root = service_root("cg_shop")
    models = root / "cg_shop" / "models.py"
    models.write_text(models.read_text() + "\nimport core_sdk.broker.setup  # noqa: E402, F401\n")
    for redis_url in ("redis://127.0.0.1:9/0", "not a url"):
        env = tool_env(
            ENV="prod",
            DATABASE_URL="postgresql+asyncpg://nobody@127.0.0.1:9/nothing",
            REDIS_URL=redis_url,
        )
        result = run_cli(SHOP, cwd=root, env=env)
        assert result.returncode == 0, result.stderr


def test_usage_errors_exit_2(service_root: Callable[..., Path], tmp_path: Path) -> None:
    root = service_root("cg_shop")
    (tmp_path / "empty").mkdir()
    no_config = run_cli([], cwd=tmp_path / "empty")
    assert no_config.returncode == 2
    assert "no pyproject.toml with [tool.dam-codegen]" in no_config.stderr
    assert run_cli(["cg_shop/registry_config.py"], cwd=root).returncode == 2
    assert run_cli(["-o", "x.py"], cwd=root).returncode == 2
    missing = run_cli(["nope/registry_config.py", "-o", "nope/_tasks.py"], cwd=root)
    assert missing.returncode == 2
    assert "registry file nope/registry_config.py does not exist" in missing.stderr
    no_dir = run_cli(["cg_shop/registry_config.py", "-o", "absent/_tasks.py"], cwd=root)
    assert no_dir.returncode == 2
    assert "output directory absent does not exist" in no_dir.stderr
    a_dir = run_cli(["cg_shop/registry_config.py", "-o", "cg_shop"], cwd=root)
    assert a_dir.returncode == 2
    assert "output cg_shop is a directory; give the module to write, e.g. -o cg_shop/_tasks.py" in (
        a_dir.stderr
    )
    assert "Traceback" not in a_dir.stderr
    no_output = run_cli(["cg_shop/registry_config.py"], cwd=root)
    assert "or run dam-codegen with no arguments" in no_output.stderr


def test_bad_pyproject_table_exits_2(service_root: Callable[..., Path]) -> None:
    root = service_root(
        "cg_shop", pyproject='[tool.dam-codegen]\nregistry = "x.py"\nouput = "y.py"\n'
    )
    result = run_cli([], cwd=root)
    assert result.returncode == 2
    assert "unknown key(s) ouput" in result.stderr


def test_console_script_is_installed() -> None:
    result = subprocess.run(
        [str(BIN / "dam-codegen"), "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert "--no-annotate" in result.stdout


UNREGISTERED = '''

class RetiredManager(LocalDataAccessManager[Gadget, GadgetCreate, GadgetCreate, Money]):
    """Once registered for Gadget; the registry now uses GadgetManager."""

    async def retire(self, gadget_id: UUID) -> None:
        return None


class RetiredChild(GadgetManager):
    pass
'''


def test_an_unregistered_custom_manager_is_noted_with_its_location(
    service_root: Callable[..., Path],
) -> None:
    root = service_root("cg_mini", "cg_shop")
    managers = root / "cg_mini" / "domain" / "managers.py"
    before = managers.read_text()
    managers.write_text(before + UNREGISTERED)
    line = len(before.splitlines()) + 3  # the `class RetiredManager` line
    result = run_cli(MINI, cwd=root)
    assert result.returncode == 0, result.stderr
    notes = [text for text in result.stderr.splitlines() if "is not registered" in text]
    assert notes == [
        f"note: cg_mini/domain/managers.py:{line}: RetiredManager (a BaseDataAccessManager "
        "subclass) is not registered in cg_mini.registry_config: it gets no typed proxy, and a "
        "`broker` annotation left in it from an earlier registration may break type checking",
        f"note: cg_mini/domain/managers.py:{line + 7}: RetiredChild (a BaseDataAccessManager "
        "subclass) is not registered in cg_mini.registry_config: it gets no typed proxy, and a "
        "`broker` annotation left in it from an earlier registration may break type checking",
    ]
    # registered managers, their (generic) bases and imported core classes are not noted
    shop = run_cli(SHOP, cwd=root)
    assert shop.returncode == 0 and "is not registered" not in shop.stderr, shop.stderr


def test_an_existing_file_that_is_not_generated_is_not_overwritten(
    service_root: Callable[..., Path],
) -> None:
    root = service_root("cg_shop")
    models = root / "cg_shop" / "models.py"
    before = models.read_text()
    for extra in ([], ["--check"]):
        result = run_cli(["cg_shop/registry_config.py", "-o", "cg_shop/models.py", *extra], root)
        assert result.returncode == 2, result.stderr
        assert (
            "dam-codegen: error: refusing to overwrite cg_shop/models.py: it is not a module "
            "generated by dam-codegen" in result.stderr
        )
        assert models.read_text() == before
    (root / "cg_shop" / "_tasks.py").write_text("")  # an empty placeholder may be replaced
    assert run_cli(SHOP, cwd=root).returncode == 0
    assert run_cli(SHOP, cwd=root).returncode == 0  # and the generated module may be too
