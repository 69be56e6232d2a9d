"""Signatures at the edges of what can be rendered (service ``cg_edge``, 79 columns).

The module must be clean as written (ruff check, ruff format, mypy --strict, pyright strict)
and every call must work at run time: a default that cannot be written faithfully becomes
``DAM_DEFAULT`` (the DAM applies its own), never invalid or lint-failing source.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from codegen_helpers import BIN, REPO_ROOT, generate, make_service_root, ruff, tool_env

FILES = ["cg_edge/_tasks.py", "cg_edge/managers.py"]


@pytest.fixture(scope="module")
def edge_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_service_root(tmp_path_factory.mktemp("edge"), ["cg_edge"], line_length=79)
    generate(root, "cg_edge")
    return root


def _text(root: Path) -> str:
    return (root / "cg_edge" / "_tasks.py").read_text()


@pytest.mark.parametrize(
    "args", [["check", *FILES], ["format", "--check", "--diff", *FILES]], ids=["check", "format"]
)
def test_ruff_is_clean(edge_root: Path, args: list[str]) -> None:
    result = subprocess.run([ruff(), *args], cwd=edge_root, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_strict_is_clean(edge_root: Path) -> None:
    result = subprocess.run(
        [str(BIN / "mypy"), "--strict", "--no-incremental", "--cache-dir=/dev/null", *FILES],
        cwd=edge_root,
        env=tool_env(),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_pyright_strict_is_clean(edge_root: Path) -> None:
    pyright = BIN / "pyright"
    if not pyright.exists():
        pytest.skip("pyright is not installed (dev dependency)")
    config = {"include": FILES, "strict": FILES, "extraPaths": [str(REPO_ROOT)]}
    (edge_root / "pyrightconfig.json").write_text(json.dumps(config))
    result = subprocess.run(
        [str(pyright), "--outputjson", "--pythonpath", str(BIN / "python")],
        cwd=edge_root,
        env=tool_env(),
        capture_output=True,
        text=True,
    )
    errors = [
        d for d in json.loads(result.stdout)["generalDiagnostics"] if d["severity"] == "error"
    ]
    assert errors == []


# (a line of the generated module, why)
RENDERED = [
    ("perm: Perm = DAM_DEFAULT", "a composite flag is no member: DAM_DEFAULT"),
    ("value: Odd = DAM_DEFAULT", "enum member name not an identifier: DAM_DEFAULT"),
    ("_broker_timeout: builtins_.float = 30.0", "a method named float"),
    ("ids: builtins_.list[int]", "methods named list and builtins"),
    ("import builtins as builtins_", "a method named builtins"),
    ("\n# ruff: noqa: E741, E743\n", "parameters and a method named l"),
    ("text: str = DAM_DEFAULT", "a string default longer than a line"),
    ("sizes: tuple[int, ...] = DAM_DEFAULT", "a tuple default longer than a line"),
    (
        '"a_parameter_name_that_is_long_enough_to_overflow": '
        "a_parameter_name_that_is_long_enough_to_overflow,  # noqa: E501\n",
        "a name too long for any layout",
    ),
    ('raw: Base64Bytes = b"\'\\""', "bytes default with both quotes"),
]


@pytest.mark.parametrize(("line", "why"), RENDERED, ids=[why for _, why in RENDERED])
def test_rendered(edge_root: Path, line: str, why: str) -> None:
    assert line in _text(edge_root), why


RUNTIME = """
from decimal import Decimal

import cg_edge._tasks as tasks
from core_sdk.data_access import DAM_DEFAULT


class Wire(tasks.EdgeBroker):
    async def _call(self, op, args, kwargs, timeout):
        return op.encode_arguments(args, kwargs)  # what would be sent


async def main():
    wire = Wire()
    assert await wire.flags() == ([], {})
    assert await wire.odd() == ([], {})
    assert await wire.float() == ([], {})
    assert await wire.l(1) == ([], {"l": 1, "O": 0})
    assert await wire.long_default() == ([], {})
    assert await wire.long_tuple() == ([], {})
    name = "a_parameter_name_that_is_long_enough_to_overflow"
    assert await wire.long_name(**{name: 2}) == ([], {name: 2})
    assert await wire.posonly() == ([], {})
    assert await wire.posonly(Decimal(2)) == (["2"], {})
    assert await wire.posonly(Decimal(2), 3) == (["2", 3], {})
    assert await wire.builtins([1], _broker_timeout=2.0) == ([], {"ids": [1]})
"""


def test_calls_encode_at_run_time(edge_root: Path) -> None:
    script = RUNTIME + "\nimport asyncio\nasyncio.run(main())\nprint('ok')\n"
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=edge_root,
        env=tool_env(ENV="test"),
        capture_output=True,
        text=True,
    )
    assert result.stdout.strip() == "ok", result.stderr
