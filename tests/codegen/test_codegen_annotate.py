"""The annotation codemod: insert/update the TYPE_CHECKING-only ``broker`` property."""

from __future__ import annotations

import difflib
import subprocess
from pathlib import Path

import pytest
from codegen_helpers import ruff

from codegen.annotate import BrokerAnnotation, ModuleContext, annotate_source
from codegen.errors import CodegenError
from codegen.style import CodeStyle

CONTEXT = ModuleContext(
    path="svc/managers.py",
    package="svc",
    generated_module="svc._tasks",
    style=CodeStyle(line_length=100, same_package="svc"),
)
CRATE = [BrokerAnnotation("CrateManager", "CrateBroker")]

PLAIN = '''\
"""Managers."""

from __future__ import annotations

from uuid import UUID

from core_sdk.data_access import LocalDataAccessManager

from .models import Crate


class CrateManager(LocalDataAccessManager[Crate, Crate, Crate, Crate]):
    """Crates."""

    async def seal(self, crate_id: UUID) -> Crate | None:
        return await self.get(crate_id)
'''

ANNOTATED = '''\
"""Managers."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from core_sdk.data_access import LocalDataAccessManager

from .models import Crate

if TYPE_CHECKING:
    from ._tasks import CrateBroker


class CrateManager(LocalDataAccessManager[Crate, Crate, Crate, Crate]):
    """Crates."""

    if TYPE_CHECKING:

        @property
        def broker(self) -> CrateBroker: ...

    async def seal(self, crate_id: UUID) -> Crate | None:
        return await self.get(crate_id)
'''


def annotate(source: str, annotations: list[BrokerAnnotation] = CRATE, **context: object) -> str:
    ctx = ModuleContext(**{**CONTEXT.__dict__, **context})  # type: ignore[arg-type]
    return annotate_source(source, annotations, ctx)


def assert_ruff_clean(source: str, tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.ruff]\nline-length = 100\n[tool.ruff.lint]\n"
        'select = ["E", "F", "W", "I", "B", "UP", "RUF"]\n'
        "ignore = ['F401', 'F821']\n"
    )
    package = tmp_path / "svc"
    package.mkdir(exist_ok=True)
    (package / "__init__.py").write_text("")
    (package / "managers.py").write_text(source)
    for command in (["check"], ["format", "--check", "--diff"]):
        result = subprocess.run(
            [ruff(), *command, "svc/managers.py"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr


def only_additions(before: str, after: str) -> bool:
    diff = difflib.ndiff(before.splitlines(), after.splitlines())
    return not any(line.startswith("- ") for line in diff)


def test_inserts_property_type_checking_import_and_guarded_import(tmp_path: Path) -> None:
    assert annotate(PLAIN) == ANNOTATED
    assert_ruff_clean(ANNOTATED, tmp_path)


def test_is_idempotent() -> None:
    assert annotate(ANNOTATED) == ANNOTATED
    assert annotate(annotate(PLAIN)) == annotate(PLAIN)


def test_preserves_comments_and_formatting(tmp_path: Path) -> None:
    source = '''\
# header comment
from __future__ import annotations

from typing import Any  # why Any: tests

from core_sdk.data_access import LocalDataAccessManager
from .models import Crate   # odd spacing kept


class CrateManager(   # a comment in the bases
    LocalDataAccessManager[Crate, Crate, Crate, Crate]
):
    # a comment before the first statement

    cursor_column = "label"  # trailing comment

    async def seal(self, x: Any) -> None:
        """Doc."""
        # body comment
        return None
'''
    result = annotate(source)
    assert "from typing import TYPE_CHECKING, Any  # why Any: tests" in result
    assert only_additions(source, result.replace("TYPE_CHECKING, Any", "Any"))
    assert "CrateBroker: ...\n\n    # a comment before the first statement\n" in result
    assert annotate(result) == result
    # once the source's own odd spacing is formatted, the result is ruff-clean
    tidy = (
        result.replace("Crate   # odd", "Crate  # odd")
        .replace("Manager(   # a", "Manager(  # a")
        .replace("\nfrom .models", "\n\nfrom .models")
    )
    assert_ruff_clean(tidy, tmp_path)


def test_updates_a_stale_annotation_and_drops_the_unused_name() -> None:
    stale = ANNOTATED.replace("CrateBroker", "BoxBroker")
    result = annotate(stale)
    assert result == ANNOTATED


def test_keeps_other_names_of_the_generated_module_that_are_used() -> None:
    source = ANNOTATED.replace(
        "    from ._tasks import CrateBroker\n",
        "    from ._tasks import DataAccessManagerFactory, OtherBroker\n",
    ).replace(
        '    """Crates."""\n', '    """Crates."""\n\n    factory: DataAccessManagerFactory\n', 1
    )
    result = annotate(source)
    assert "    from ._tasks import CrateBroker, DataAccessManagerFactory\n" in result
    assert annotate(result) == result


def test_absolute_import_when_the_file_uses_no_relative_imports() -> None:
    source = PLAIN.replace("from .models import Crate", "from svc.models import Crate")
    result = annotate(source)
    assert "if TYPE_CHECKING:\n    from svc._tasks import CrateBroker\n" in result


def test_relative_import_from_a_sub_package() -> None:
    result = annotate(PLAIN, package="svc.domain")
    assert "if TYPE_CHECKING:\n    from .._tasks import CrateBroker\n" in result


def test_adds_to_existing_type_checking_blocks(tmp_path: Path) -> None:
    source = """\
from __future__ import annotations

from typing import TYPE_CHECKING

from core_sdk.data_access import LocalDataAccessManager

from .models import Crate

if TYPE_CHECKING:
    from .hidden import Receipt


class CrateManager(LocalDataAccessManager[Crate, Crate, Crate, Crate]):
    if TYPE_CHECKING:
        cached: Receipt

    async def seal(self) -> Receipt | None:
        return None
"""
    result = annotate(source)
    assert (
        "if TYPE_CHECKING:\n    from ._tasks import CrateBroker\n    from .hidden import Receipt\n"
        in result
    )
    assert "    if TYPE_CHECKING:\n        cached: Receipt\n\n        @property\n" in result
    assert annotate(result) == result
    assert_ruff_clean(result, tmp_path)


def test_class_without_docstring_and_parenthesized_typing_import(tmp_path: Path) -> None:
    source = """\
from __future__ import annotations

from typing import (
    Any,
    Literal,
)

from core_sdk.data_access import LocalDataAccessManager

from .models import Crate


class CrateManager(LocalDataAccessManager[Crate, Crate, Crate, Crate]):
    async def seal(self, mode: Literal["a"], extra: Any) -> None:
        return None
"""
    result = annotate(source)
    assert "from typing import (\n    TYPE_CHECKING,\n    Any,\n    Literal,\n)\n" in result
    assert "Crate, Crate]):\n    if TYPE_CHECKING:\n\n        @property" in result
    assert_ruff_clean(result, tmp_path)


def test_several_classes_in_one_file(tmp_path: Path) -> None:
    source = (
        PLAIN
        + '''

class BoxManager(LocalDataAccessManager[Crate, Crate, Crate, Crate]):
    """Boxes."""
'''
    )
    result = annotate(source, [*CRATE, BrokerAnnotation("BoxManager", "BoxBroker")])
    assert "    from ._tasks import BoxBroker, CrateBroker\n" in result
    assert "def broker(self) -> BoxBroker: ..." in result
    assert_ruff_clean(result, tmp_path)


def test_a_class_defining_its_own_broker_is_an_error() -> None:
    source = PLAIN.replace('    """Crates."""\n', '    """Crates."""\n\n    broker = None\n')
    with pytest.raises(CodegenError, match="defines its own 'broker'"):
        annotate(source)


def test_a_missing_class_is_an_error() -> None:
    with pytest.raises(CodegenError, match="class Nope not found"):
        annotate(PLAIN, [BrokerAnnotation("Nope", "NopeBroker")])


PROPERTY = (
    "    if TYPE_CHECKING:\n\n        @property\n        def broker(self) -> CrateBroker: ...\n"
)


@pytest.mark.parametrize(
    ("body", "expanded"),
    [
        ("pass", f":\n{PROPERTY}"),
        ("...", f":\n{PROPERTY}"),
        ("pass  # nothing yet", f":  # nothing yet\n{PROPERTY}"),
        ('"""Crates."""', f':\n    """Crates."""\n\n{PROPERTY}'),
        ("cursor_column = 'label'; pass", f":\n{PROPERTY}\n    cursor_column = 'label'\n"),
    ],
)
def test_a_one_line_class_body_is_expanded(body: str, expanded: str, tmp_path: Path) -> None:
    head = "class CrateManager(LocalDataAccessManager[Crate, Crate, Crate, Crate])"
    source = PLAIN.split("\n\nclass ")[0] + f"\n\n{head}: {body}\n"
    result = annotate(source)
    assert result.endswith(f"\n{head}{expanded}"), result
    assert annotate(result) == result
    assert_ruff_clean(result.replace("'label'", '"label"'), tmp_path)


def test_a_utf8_bom_is_kept() -> None:
    result = annotate("\ufeff" + PLAIN)
    assert result == "\ufeff" + ANNOTATED
    assert annotate(result) == result
