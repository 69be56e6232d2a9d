"""The service's ruff settings as the generator reads them (line length, enabled rules)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from codegen_helpers import ruff

from codegen.render import _exempt_overlong
from codegen.style import CodeStyle, discover_style


@pytest.mark.parametrize(
    ("select", "ignore", "code", "enabled"),
    [
        ((), (), "E741", False),
        (("E4", "E7", "E9", "F"), (), "E741", True),  # ruff's default selection
        (("E4", "E7", "E9", "F"), (), "E501", False),
        (("E",), ("E7",), "E741", False),
        (("E74",), ("E7",), "E741", True),  # the more specific selector wins
        (("E741",), ("E741",), "E741", False),  # ignore wins a tie
        (("ALL",), ("E",), "E741", False),
        (("E7",), ("ALL",), "E741", True),
    ],
)
def test_enabled_rules(
    select: tuple[str, ...], ignore: tuple[str, ...], code: str, enabled: bool
) -> None:
    assert CodeStyle(select=select, ignore=ignore).enabled(code) is enabled


def test_rules_are_read_from_pyproject_with_per_file_ignores(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.ruff]\nline-length = 90\n"
        '[tool.ruff.lint]\nselect = ["E", "F"]\nextend-select = ["RUF100"]\n'
        '[tool.ruff.lint.per-file-ignores]\n"app/_tasks.py" = ["E741"]\n"other.py" = ["E501"]\n'
        "[tool.ruff.lint.pycodestyle]\nmax-line-length = 120\n"
    )
    (tmp_path / "app").mkdir()
    style = discover_style(tmp_path / "app" / "_tasks.py")
    assert style.line_length == 90 and style.e501_limit == 120
    assert style.enabled("E501") and style.enabled("RUF100") and not style.enabled("E741")
    default = discover_style(tmp_path / "app" / "other.py")
    assert default.enabled("E741") and not default.enabled("E501")


OVERLONG = '''\
"""A docstring whose long line is a single word:
https://example.com/a/very/long/url/that/cannot/be/broken/anywhere/at/all/xxxxxxxxxxxxxxxxxx
"""

# https://example.com/another/very/long/url/in/a/comment/that/cannot/be/broken/xxxxxxxxxxx
VALUE = {
    "a_key_that_is_long_enough_to_overflow_on_its_own": "a value that is long enough too",
    "日本語日本語日本語日本語日本語日本語日本語日本語日本語日本語日本語日本語": "wide",
}
NAME = (
    a_single_name_that_is_long_enough_to_overflow_a_line_of_eighty_columns_by_itself,
)


def f(x: int) -> int:  # type: ignore[misc]
    return x
'''


def test_overlong_lines_get_noqa_exactly_where_ruff_reports_e501(tmp_path: Path) -> None:
    style = CodeStyle(line_length=79, select=("E501", "RUF100", "F"), ignore=("F821",))
    text = _exempt_overlong(OVERLONG, style)
    assert text.count("# noqa: E501") == 2  # the long key and the wide one
    (tmp_path / "pyproject.toml").write_text(
        '[tool.ruff]\nline-length = 79\n[tool.ruff.lint]\nselect = ["E501", "RUF100", "F"]\n'
        'ignore = ["F821"]\n'
    )
    (tmp_path / "module.py").write_text(text)
    result = subprocess.run(
        [ruff(), "check", "module.py"], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout
    assert _exempt_overlong(OVERLONG, CodeStyle(line_length=79)) == OVERLONG  # E501 is off
