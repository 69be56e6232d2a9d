"""The generated module: golden files, every type form, style checks, determinism, run time."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from codegen_helpers import (
    BIN,
    GOLDEN,
    REPO_ROOT,
    check_golden,
    generate,
    make_service_root,
    ruff,
    run_cli,
    tool_env,
)

EXAMPLE = REPO_ROOT / "examples" / "warehouse"


def test_fixture_service_matches_its_golden_file(shop_root: Path) -> None:
    check_golden((shop_root / "cg_shop" / "_tasks.py").read_text(), GOLDEN / "cg_shop_tasks.py.txt")


def test_example_service_matches_its_golden_file(tmp_path: Path) -> None:
    """The example service (examples/warehouse) generates the committed expected module."""
    if not (EXAMPLE / "app" / "registry_config.py").is_file():
        pytest.skip("examples/warehouse is not there")
    root = tmp_path / "warehouse"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("__pycache__", "_tasks.py"))
    generate(root, "app")  # as the example runs it (annotating the copy's DAMs)
    check_golden((root / "app" / "_tasks.py").read_text(), GOLDEN / "warehouse_tasks.py.txt")


def test_example_service_committed_module_is_up_to_date() -> None:
    """When the example commits its generated module, ``--check`` passes on it as is."""
    if not (EXAMPLE / "app" / "_tasks.py").is_file():
        pytest.skip("examples/warehouse/app/_tasks.py is not committed yet")
    result = run_cli(["app/registry_config.py", "-o", "app/_tasks.py", "--check"], cwd=EXAMPLE)
    assert result.returncode == 0, result.stdout + result.stderr


# every type form of the issue, as the proxy signature spells it
TYPE_FORMS = {
    "builtins, explicit Any": "async def anything(self, data: dict[str, Any], *, "
    "_broker_timeout: float = 30.0) -> Any:",
    "None return": ") -> None:",
    "Optional / Union / X | Y": "first: int | None = None,\n        second: int | str = 0,\n"
    "        third: int | None = None,",
    "set, frozenset, fixed/variadic/empty tuple": "tags: set[str],\n        frozen: frozenset"
    "[int],\n        pair: tuple[int, str],\n        many: tuple[int, ...],\n        nothing: "
    "tuple[()],",
    "collections.abc": "ids: Sequence[UUID], unit: Unit = Unit.KG, *, _broker_timeout: float"
    " = 30.0\n    ) -> Mapping[UUID, Decimal]:",
    "Iterable": ") -> Iterable[str]:",
    "Literal with default": 'mode: Literal["fast", "exact"] = "fast",',
    "Literal return": '-> Literal["pong"]:',
    "enum default": "unit: Unit = Unit.KG",
    "UUID": "item_id: UUID",
    "datetime, date, time, timedelta": "since: datetime,\n        day: date,\n        at: time,"
    "\n        window: timedelta,",
    "Decimal": "floor: Decimal = DAM_DEFAULT,",
    "pydantic model": "data: CrateCreate | dict[str, Any]",
    "SQLModel table model": "-> Crate | None:",
    "generic pydantic model (page)": ") -> Page[Crate]:",
    "generic pydantic model (user)": ") -> Envelope[CrateRead]:",
    "Annotated kept": "grams: Annotated[int, Gt(gt=0)],\n        label: Annotated[str, "
    'MaxLen(max_length=20)] = "",',
    "Annotated return kept": ') -> Annotated[Decimal, "kilograms"]:',
    "Annotated dropped (not expressible)": "async def checked(self, value: int, *,",
    "TYPE_CHECKING-only name": "-> Receipt | None:",
    "nested class (same manager)": "query: CrateManager.Filter,",
    "nested class (other module)": "-> Bundle.Part:",
    "NewType": "uid: UserId",
    "positional-only": "crate_id: UUID,\n        /,",
    "keyword-only with default": "*,\n        force: bool = False,",
    "non-literal default -> DAM_DEFAULT": "when: datetime = DAM_DEFAULT,",
    "Base64Bytes, float, bool defaults": 'payload: Base64Bytes = b"x",\n        ratio: float = 0.5,'
    "\n        flag: bool = True,",
    "Base64Bytes return": ") -> Base64Bytes:",
    "inherited generic method (substituted)": "-> builtins.list[Crate]:",
    "base type variable in a parameter": "async def snapshot(self, item: Crate, *",
    "typing.List / Optional / string forward ref": "names: builtins.list[str]",
    "typing.Sequence": "ids: Sequence[UUID]",
    "missing create schema": "async def create(self, data: dict[str, Any], *, _broker_timeout",
}


@pytest.mark.parametrize("form", sorted(TYPE_FORMS))
def test_every_type_form_is_rendered(shop_root: Path, form: str) -> None:
    text = (shop_root / "cg_shop" / "_tasks.py").read_text()
    assert TYPE_FORMS[form] in text


def test_operations_carry_runtime_types_positional_only_and_fingerprints(
    shop_root: Path,
) -> None:
    text = (shop_root / "cg_shop" / "_tasks.py").read_text()
    assert '{"crate_id": UUID, "note": str, "force": bool},' in text
    assert 'positional_only=("crate_id",),' in text
    assert "_CRATE_RECEIPT = Operation[Receipt | None](" in text
    assert "return await self._call(\n            _CRATE_SEAL, (crate_id,), " in text


def test_header_says_generated_and_how_to_regenerate(shop_root: Path) -> None:
    head = (shop_root / "cg_shop" / "_tasks.py").read_text().splitlines()[:3]
    assert (
        head[0]
        == "# Generated by dam-codegen from cg_shop/registry_config.py. Do not edit by hand."
    )
    assert "dam-codegen cg_shop/registry_config.py -o cg_shop/_tasks.py" in " ".join(head)


@pytest.mark.parametrize("line_length", [79, 100, 120])
def test_output_passes_ruff_check_and_format_at_the_services_line_length(
    tmp_path: Path, line_length: int
) -> None:
    root = make_service_root(tmp_path, ["cg_shop"], line_length=line_length)
    generate(root, "cg_shop")
    files = ["cg_shop/_tasks.py"]
    if line_length == 100:  # the fixture's own files are written for 100 columns
        files += ["cg_shop/managers.py", "cg_shop/legacy.py"]
    check = subprocess.run(
        [ruff(), "check", *files], cwd=root, capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout
    formatted = subprocess.run(
        [ruff(), "format", "--check", "--diff", *files],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert formatted.returncode == 0, formatted.stdout + formatted.stderr


def test_output_is_identical_whatever_the_hash_seed(tmp_path: Path) -> None:
    outputs = set()
    for seed in ("0", "1", "4242", "random"):
        root = make_service_root(tmp_path / seed, ["cg_shop"])
        result = run_cli(
            ["cg_shop/registry_config.py", "-o", "cg_shop/_tasks.py"],
            cwd=root,
            env=tool_env(PYTHONHASHSEED=seed),
        )
        assert result.returncode == 0, result.stderr
        outputs.add((root / "cg_shop" / "_tasks.py").read_bytes())
        outputs.add((root / "cg_shop" / "managers.py").read_bytes() + b"|managers")
    assert len(outputs) == 2  # one module text, one annotated managers text


def test_importing_the_module_registers_proxies_and_runtime_types(shop_root: Path) -> None:
    """Types hidden under TYPE_CHECKING in the DAM are real objects in the generated module."""
    script = """
import cg_shop.registry_config
import cg_shop._tasks as tasks
from cg_shop.hidden import Receipt
from core_sdk.data_access import DAM_DEFAULT
from core_sdk.data_access.typed_proxy import generated_proxy_for, registered_manifest
from core_sdk.data_access.signature import operation_fingerprint
from cg_shop.managers import CrateManager

assert generated_proxy_for("crate") is tasks.CrateBroker
assert tasks._CRATE_RECEIPT.returns == (Receipt | None)
assert tasks._CRATE_SEAL.positional_only == ("crate_id",)
assert dict(registered_manifest()) == dict(tasks.MANIFEST)
assert tasks.MANIFEST["Crate", "seal"] == operation_fingerprint(CrateManager, "seal")
assert tasks.CrateBroker.since.__defaults__ == (DAM_DEFAULT, DAM_DEFAULT)
manager = tasks.get_dam_factory().get_manager("Crate")
assert type(manager.broker) is tasks.CrateBroker
print("ok")
"""
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=shop_root,
        env=tool_env(ENV="test"),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.stdout.strip() == "ok", result.stderr


def test_importing_the_module_alone_imports_the_registry_config(shop_root: Path) -> None:
    """``import <pkg>._tasks`` is enough at run time: it imports the registry config (which
    registers the models) before registering the proxies."""
    text = (shop_root / "cg_shop" / "_tasks.py").read_text()
    assert (
        "\nfrom cg_shop import registry_config as registry_config  # registers the models\n" in text
    )
    script = """
from cg_shop._tasks import CrateBroker, get_dam_factory
from core_sdk.registry import ModelRegistry

assert ModelRegistry.model_names() == ["Crate", "Note", "Shelf", "Tray"]
assert type(get_dam_factory().get_manager("Crate").broker) is CrateBroker
print("ok")
"""
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=shop_root,
        env=tool_env(ENV="test"),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.stdout.strip() == "ok", result.stderr


FLAT_MODELS = """\
from uuid import UUID, uuid4

from sqlmodel import Field, SQLModel


class Pallet(SQLModel, table=True):
    __tablename__ = "cgflat_pallet"

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    label: str


class Bay(SQLModel, table=True):
    __tablename__ = "cgflat_bay"

    id: UUID = Field(default_factory=uuid4, primary_key=True)
"""

FLAT_REGISTRY = """\
from core_sdk.registry import ModelRegistry

from models import Bay, Pallet

ModelRegistry.register_local(model_cls=Bay)
ModelRegistry.register_local(model_cls=Pallet)
"""


def test_a_top_level_registry_module_is_imported_as_itself(tmp_path: Path) -> None:
    """A registry that is a top-level module (no package): ``import registry_config as
    registry_config``, still clean under ruff and mypy --strict, and it registers at run time."""
    root = make_service_root(tmp_path, [])
    (root / "models.py").write_text(FLAT_MODELS)
    (root / "registry_config.py").write_text(FLAT_REGISTRY)
    result = run_cli(["registry_config.py", "-o", "_tasks.py"], cwd=root)
    assert result.returncode == 0, result.stderr
    text = (root / "_tasks.py").read_text()
    assert "\nimport registry_config as registry_config  # registers the models\n" in text
    for args in (["check", "_tasks.py"], ["format", "--check", "--diff", "_tasks.py"]):
        checked = subprocess.run(
            [ruff(), *args], cwd=root, capture_output=True, text=True, check=False
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr
    mypy = subprocess.run(
        [str(BIN / "mypy"), "--strict", "--no-incremental", "--cache-dir=/dev/null", "_tasks.py"],
        cwd=root,
        env=tool_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert mypy.returncode == 0, mypy.stdout + mypy.stderr
    script = (
        "import _tasks\nfrom core_sdk.registry import ModelRegistry\n"
        "assert ModelRegistry.model_names() == ['Bay', 'Pallet']\n"
        "assert type(_tasks.get_dam_factory().get_manager('Pallet').broker) is "
        "_tasks.PalletBroker\nprint('ok')\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", script],
        cwd=root,
        env=tool_env(ENV="test"),
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.stdout.strip() == "ok", run.stderr


def test_a_generic_custom_manager_gets_a_typed_view(tmp_path: Path) -> None:
    """A manager the codemod cannot annotate (generic) is typed through a generated view."""
    root = make_service_root(tmp_path, ["cg_mini"])
    generate(root, "cg_mini")
    text = (root / "cg_mini" / "_tasks.py").read_text()
    assert "class WidgetManager(TrackedManager[Widget, BaseModel, BaseModel, BaseModel]):" in text
    assert "-> Widget | None:" in text  # TrackedManager.touch, ModelT substituted
    assert 'def get_manager(self, model_name: Literal["Widget"]) -> WidgetManager: ...' in text
    assert 'def get_manager(self, model_name: Literal["Gadget"]) -> GadgetManager: ...' in text
    managers = (root / "cg_mini" / "domain" / "managers.py").read_text()
    assert managers.count("def broker(self)") == 1  # GadgetManager only
