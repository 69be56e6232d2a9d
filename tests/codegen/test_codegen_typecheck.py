"""mypy --strict and pyright (strict) against a generated module.

One mypy run and one pyright run check the generated module, the annotated DAM module and
the snippets in ``snippets/``: ``valid_calls.py`` must produce no error at all, and in
``invalid_calls.py`` the line after each ``# E: mypy[codes] pyright[rules]`` comment must
produce exactly those errors (and no other line any error).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from codegen_helpers import BIN, HERE, REPO_ROOT, make_service_root, ruff, run_cli, tool_env

SNIPPETS = ("valid_calls.py", "invalid_calls.py")
EXPECTATION = re.compile(r"#\s*E:\s*mypy\[(?P<mypy>[^\]]*)\]\s*pyright\[(?P<pyright>[^\]]*)\]")
MYPY_LINE = re.compile(r"^(?P<file>[^:\s]+\.py):(?P<line>\d+): error: .*\[(?P<code>[a-z-]+)\]$")
# files whose errors are checked (anything else mypy or pyright reports is a failure too)
CHECKED = ("cg_shop/_tasks.py", "cg_shop/managers.py", *SNIPPETS)
PYRIGHT_STRICT = ("cg_shop/_tasks.py", *SNIPPETS)


@dataclass(frozen=True, order=True)
class Finding:
    file: str
    line: int
    code: str


def expected(checker: str) -> set[Finding]:
    findings = set()
    lines = (HERE / "snippets" / "invalid_calls.py").read_text().splitlines()
    for number, text in enumerate(lines, start=1):
        match = EXPECTATION.search(text)
        if match:
            for code in filter(None, (c.strip() for c in match.group(checker).split(","))):
                findings.add(Finding("invalid_calls.py", number + 1, code))
    return findings


@pytest.fixture(scope="module")
def checked_root(shop_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("typecheck")
    shutil.copytree(shop_root / "cg_shop", root / "cg_shop")
    for name in SNIPPETS:
        shutil.copy(HERE / "snippets" / name, root / name)
    return root


def _mypy(root: Path) -> Iterator[Finding]:
    result = subprocess.run(
        [
            str(BIN / "mypy"),
            "--strict",
            "--follow-imports=silent",
            "--show-error-codes",
            "--no-error-summary",
            "--no-incremental",
            *CHECKED,
        ],
        cwd=root,
        env=tool_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode in (0, 1), result.stderr + result.stdout
    for line in result.stdout.splitlines():
        match = MYPY_LINE.match(line)
        if match:
            yield Finding(match["file"], int(match["line"]), match["code"])
        elif ": error:" in line:
            raise AssertionError(f"unparsed mypy output: {line}")


def _pyright(root: Path) -> Iterator[Finding]:
    config = {
        "include": list(PYRIGHT_STRICT),
        "strict": list(PYRIGHT_STRICT),
        "pythonVersion": "3.11",
        "extraPaths": [str(REPO_ROOT)],
    }
    (root / "pyrightconfig.json").write_text(json.dumps(config))
    pyright = BIN / "pyright"
    if not pyright.exists():
        pytest.skip("pyright is not installed (dev dependency)")
    result = subprocess.run(
        [str(pyright), "--outputjson", "--pythonpath", str(BIN / "python")],
        cwd=root,
        env=tool_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    report = json.loads(result.stdout)
    for diagnostic in report["generalDiagnostics"]:
        if diagnostic["severity"] != "error":
            continue
        file = Path(diagnostic["file"]).relative_to(root).as_posix()
        yield Finding(file, diagnostic["range"]["start"]["line"] + 1, diagnostic.get("rule", "?"))


def test_mypy_strict_reports_exactly_the_expected_errors(checked_root: Path) -> None:
    found = set(_mypy(checked_root))
    assert sorted(found) == sorted(expected("mypy"))


def test_pyright_strict_reports_exactly_the_expected_errors(checked_root: Path) -> None:
    found = set(_pyright(checked_root))
    assert sorted(found) == sorted(expected("pyright"))


def test_every_case_of_the_issue_is_covered() -> None:
    text = (HERE / "snippets" / "invalid_calls.py").read_text()
    for case in (
        "unknown_method",
        "wrong_argument_type",
        "missing_argument",
        "keyword_only_used_positionally",
        "literal_outside_the_allowed_set",
        "wrong_timeout_type",
        "optional_result_to_non_optional",
        "private_method",
        "non_async_method",
        "custom_method_on_default_manager",
        "wrong_create_schema",
        "unknown_model_name",
        "through_the_dam_class",
    ):
        assert f"def {case}(" in text
    assert len(expected("mypy")) >= 15


ONE_MODEL = {
    "models.py": """\
from uuid import UUID, uuid4

from sqlmodel import Field, SQLModel


class Pallet(SQLModel, table=True):
    __tablename__ = "cgone_pallet"

    id: UUID = Field(default_factory=uuid4, primary_key=True)
""",
    "managers.py": """\
from core_sdk.data_access import BaseDataAccessManager
from pydantic import BaseModel

from models import Pallet


class PalletManager(BaseDataAccessManager[Pallet, BaseModel, BaseModel, BaseModel]):
    async def count(self) -> int:
        return 0
""",
    "registry_config.py": """\
from core_sdk.registry import ModelRegistry

from managers import PalletManager
from models import Pallet

ModelRegistry.register_local(model_cls=Pallet, manager_cls=PalletManager)
""",
    "calls.py": """\
from _tasks import DataAccessManagerFactory
from managers import PalletManager


async def calls(factory: DataAccessManagerFactory) -> int:
    manager: PalletManager = factory.get_manager("Pallet")
    factory.get_manager("Palet")  # the one error each checker reports
    return await manager.broker.count(_broker_timeout=1.0)
""",
}


def test_a_one_model_service_type_checks(tmp_path: Path) -> None:
    """One registered model: ``get_manager`` is a plain method (a lone ``@overload`` is an
    error for both checkers) and ``overload``/``Any`` are not imported unused."""
    root = tmp_path / "one"
    root.mkdir()
    for name, text in ONE_MODEL.items():
        (root / name).write_text(text)
    result = run_cli(["registry_config.py", "-o", "_tasks.py"], cwd=root)
    assert result.returncode == 0, result.stderr
    files = ["_tasks.py", "managers.py", "calls.py"]
    mypy = subprocess.run(
        [str(BIN / "mypy"), "--strict", "--no-incremental", "--cache-dir=/dev/null", *files],
        cwd=root,
        env=tool_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    errors = [line for line in mypy.stdout.splitlines() if ": error:" in line]
    assert len(errors) == 1 and errors[0].startswith("calls.py:7:"), mypy.stdout
    config = {"include": files, "strict": files, "extraPaths": [str(REPO_ROOT)]}
    (root / "pyrightconfig.json").write_text(json.dumps(config))
    pyright = subprocess.run(
        [str(BIN / "pyright"), "--outputjson", "--pythonpath", str(BIN / "python")],
        cwd=root,
        env=tool_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    found = [
        (Path(d["file"]).name, d["range"]["start"]["line"] + 1)
        for d in json.loads(pyright.stdout)["generalDiagnostics"]
        if d["severity"] == "error"
    ]
    assert found == [("calls.py", 7)], pyright.stdout
    ruff_check = subprocess.run(
        [ruff(), "check", "--select", "E,F,W,I,B,UP,SIM,RUF", "_tasks.py"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert ruff_check.returncode == 0, ruff_check.stdout


NO_ANNOTATE_CALLS = """\
from typing import assert_type

from cg_mini._tasks import DataAccessManagerFactory, GadgetBroker, WidgetBroker
from cg_mini.domain.managers import GadgetManager


def calls(factory: DataAccessManagerFactory) -> None:
    gadgets = factory.get_manager("Gadget")
    assert_type(gadgets.broker, GadgetBroker)
    assert_type(factory.get_manager("Widget").broker, WidgetBroker)
    manager: GadgetManager = gadgets  # still the DAM class
    del manager
"""


def test_no_annotate_types_custom_managers_through_views(tmp_path: Path) -> None:
    """With --no-annotate the DAM files are left alone, and get_manager() returns a generated
    view of the custom manager whose ``broker`` is typed (not the DAM's ``broker: Any``)."""
    root = make_service_root(tmp_path, ["cg_mini"])
    managers = (root / "cg_mini" / "domain" / "managers.py").read_text()
    result = run_cli(
        ["cg_mini/registry_config.py", "-o", "cg_mini/_tasks.py", "--no-annotate"], cwd=root
    )
    assert result.returncode == 0, result.stderr
    assert (root / "cg_mini" / "domain" / "managers.py").read_text() == managers
    (root / "calls.py").write_text(NO_ANNOTATE_CALLS)
    mypy = subprocess.run(
        [str(BIN / "mypy"), "--strict", "--no-incremental", "--cache-dir=/dev/null", "calls.py"],
        cwd=root,
        env=tool_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert mypy.returncode == 0, mypy.stdout + mypy.stderr
