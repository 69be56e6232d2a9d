"""mypy --strict and pyright (strict) on the example service plus a snippet of wrong calls.

The example (with its generated ``app/_tasks.py``) must be clean; every wrong call in the
snippet must be rejected by both checkers with exactly the expected error.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from example_support import EXAMPLE_DIR, REPO_ROOT, subprocess_env, tool

WRONG_CALLS = '''\
"""Deliberately wrong calls: both type checkers must reject each one."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from ._tasks import DataAccessManagerFactory
from .managers import ProductManager
from .schemas import ProductRead


async def wrong_calls(factory: DataAccessManagerFactory, manager: ProductManager) -> None:
    products = factory.get_manager("Product")
    await products.broker.reprice(uuid4(), 9.95, datetime.now(UTC))
    await products.broker.reprise(uuid4())
    found: ProductRead = await products.broker.find_by_sku("A-1")
    print(found)
    factory.get_manager("Produkt")
    await factory.get_manager("Warehouse").broker.reserve(uuid4(), [])
    await manager.broker.set_status([uuid4()], "gone")
    await manager.broker.find_by_sku("A-1", _broker_timeout="5")
'''

# line -> the error both checkers must report there (mypy text, pyright rule + message)
EXPECTED_MYPY = [
    'app/wrong_calls.py:15: error: Argument 2 to "reprice" of "ProductBroker" has '
    'incompatible type "float"; expected "Decimal"  [arg-type]',
    'app/wrong_calls.py:16: error: "ProductBroker" has no attribute "reprise"; '
    'maybe "reprice"?  [attr-defined]',
    "app/wrong_calls.py:17: error: Incompatible types in assignment (expression has type "
    '"ProductRead | None", variable has type "ProductRead")  [assignment]',
    'app/wrong_calls.py:19: error: No overload variant of "get_manager" of '
    '"DataAccessManagerFactory" matches argument type "str"  [call-overload]',
    'app/wrong_calls.py:20: error: "WarehouseBroker" has no attribute "reserve"  [attr-defined]',
    'app/wrong_calls.py:21: error: Argument 2 to "set_status" of "ProductBroker" has '
    'incompatible type "str"; expected "ProductStatus"  [arg-type]',
    'app/wrong_calls.py:22: error: Argument "_broker_timeout" to "find_by_sku" of '
    '"ProductBroker" has incompatible type "str"; expected "float"  [arg-type]',
]
EXPECTED_PYRIGHT = [
    (
        15,
        "reportArgumentType",
        'Argument of type "float" cannot be assigned to parameter '
        '"new_price" of type "Decimal" in function "reprice"',
    ),
    (
        16,
        "reportAttributeAccessIssue",
        'Cannot access attribute "reprise" for class "ProductBroker"',
    ),
    (16, "reportUnknownMemberType", 'Type of "reprise" is unknown'),
    (
        17,
        "reportAssignmentType",
        'Type "ProductRead | None" is not assignable to declared type "ProductRead"',
    ),
    (
        19,
        "reportArgumentType",
        "Argument of type \"Literal['Produkt']\" cannot be assigned to "
        'parameter "model_name" of type "Literal[\'Warehouse\']" in function "get_manager"',
    ),
    (19, "reportCallIssue", 'No overloads for "get_manager" match the provided arguments'),
    (
        20,
        "reportAttributeAccessIssue",
        'Cannot access attribute "reserve" for class "WarehouseBroker"',
    ),
    (20, "reportUnknownMemberType", 'Type of "reserve" is unknown'),
    (
        21,
        "reportArgumentType",
        "Argument of type \"Literal['gone']\" cannot be assigned to "
        'parameter "status" of type "ProductStatus" in function "set_status"',
    ),
    (
        22,
        "reportArgumentType",
        "Argument of type \"Literal['5']\" cannot be assigned to "
        'parameter "_broker_timeout" of type "float" in function "find_by_sku"',
    ),
]


@pytest.fixture(scope="module")
def service_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example service plus ``app/wrong_calls.py``, outside the repository."""
    copy = tmp_path_factory.mktemp("typecheck") / "warehouse"
    shutil.copytree(EXAMPLE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__", ".*"))
    (copy / "app" / "wrong_calls.py").write_text(WRONG_CALLS)
    # extraPaths: with an editable install, pyright cannot see core_sdk through the
    # setuptools import hook; a regular (wheel) install needs no extra path.
    (copy / "pyrightconfig.json").write_text(
        json.dumps(
            {
                "include": ["app"],
                "extraPaths": [str(REPO_ROOT)],
                "pythonVersion": "3.11",
                "typeCheckingMode": "strict",
            }
        )
    )
    return copy


def test_mypy_strict(service_copy: Path) -> None:
    result = subprocess.run(
        [tool("mypy"), "--strict", "--no-incremental", "--cache-dir", "/dev/null", "app"],
        cwd=service_copy,
        env=subprocess_env(MYPYPATH=str(REPO_ROOT)),
        capture_output=True,
        text=True,
        timeout=600,
    )
    errors = [line for line in result.stdout.splitlines() if ": error: " in line]
    assert errors == EXPECTED_MYPY, result.stdout + result.stderr
    assert f"Found {len(EXPECTED_MYPY)} errors in 1 file" in result.stdout, result.stdout


def test_pyright_strict(service_copy: Path) -> None:
    result = subprocess.run(
        [tool("pyright"), "--outputjson", "--pythonpath", sys.executable],
        cwd=service_copy,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    report = json.loads(result.stdout)
    found = sorted(
        (
            Path(diag["file"]).relative_to(service_copy).as_posix(),
            diag["range"]["start"]["line"] + 1,
            diag.get("rule", ""),
            diag["message"].splitlines()[0],
        )
        for diag in report["generalDiagnostics"]
        if diag["severity"] == "error"
    )
    expected = sorted(("app/wrong_calls.py", *item) for item in EXPECTED_PYRIGHT)
    assert found == expected, json.dumps(report["generalDiagnostics"], indent=1)
