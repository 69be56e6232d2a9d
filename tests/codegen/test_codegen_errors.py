"""Every error the generator reports names the file and line and says why (exit code 2)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from codegen_helpers import SERVICES, run_cli

ERROR_LINE = re.compile(r"^(?P<path>[^:\s]+\.py):(?P<line>\d+): error: (?P<message>.*)$")


def _errors(stderr: str) -> list[tuple[str, int, str]]:
    found = []
    for line in stderr.splitlines():
        match = ERROR_LINE.match(line)
        if match:
            found.append((match["path"], int(match["line"]), match["message"]))
    return found


def _marked(*names: str) -> list[tuple[str, int, str]]:
    """(file, line, expected text) for each ``# error: text`` comment in cg_broken's files."""
    marks = []
    for name in names:
        text = (SERVICES / "cg_broken" / name).read_text()
        for number, line in enumerate(text.splitlines(), start=1):
            if "  # error: " in line:
                marks.append((f"cg_broken/{name}", number, line.split("  # error: ", 1)[1].strip()))
    return marks


@pytest.fixture(scope="module")
def broken_run(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, int, str]]:
    from codegen_helpers import make_service_root

    root = make_service_root(tmp_path_factory.mktemp("broken"), ["cg_broken"])
    result = run_cli(["cg_broken/registry_config.py", "-o", "cg_broken/_tasks.py"], cwd=root)
    assert result.returncode == 2
    assert not (root / "cg_broken" / "_tasks.py").exists()
    return _errors(result.stderr)


MARKS = _marked("managers.py", "registry_config.py")


@pytest.mark.parametrize(
    ("path", "line", "text"), MARKS, ids=[f"{path}:{line}" for path, line, _ in MARKS]
)
def test_each_error_is_reported_at_its_line(
    broken_run: list[tuple[str, int, str]], path: str, line: int, text: str
) -> None:
    at_line = [message for where, number, message in broken_run if (where, number) == (path, line)]
    assert any(text in message for message in at_line), (line, text, at_line)


def _line_of(text: str) -> int:
    """The line of the cg_broken/managers.py mark that contains ``text``."""
    [line] = [line for path, line, mark in MARKS if text in mark and path.endswith("managers.py")]
    return line


def test_errors_say_why(broken_run: list[tuple[str, int, str]]) -> None:
    messages = {line: message for _, line, message in broken_run}
    assert "take a list or dict parameter instead" in messages[_line_of("*ids")]
    assert "(not imported, not even under TYPE_CHECKING)" in messages[_line_of("'Strr'")]
    assert "No module named 'cg_broken.nowhere'" in messages[_line_of("TYPE_CHECKING but")]
    assert "rename the model or the method" in messages[_line_of("_THING_BOX_OPEN")]
    assert len(broken_run) == len(MARKS) + 1  # ``generic`` fails for its parameter and return
    assert {path for path, _, _ in broken_run} == {path for path, _, _ in MARKS}


def test_an_exception_while_importing_the_registry(service_root: Callable[..., Path]) -> None:
    root = service_root("cg_importfail")
    result = run_cli(
        ["cg_importfail/registry_config.py", "-o", "cg_importfail/_tasks.py"], cwd=root
    )
    assert result.returncode == 2
    assert _errors(result.stderr) == [
        (
            "cg_importfail/registry_config.py",
            5,
            "importing cg_importfail.registry_config failed: RuntimeError: the registry cannot "
            "be configured",
        )
    ]


def test_a_registry_that_registers_nothing(service_root: Callable[..., Path]) -> None:
    root = service_root("cg_empty")
    result = run_cli(["cg_empty/registry_config.py", "-o", "cg_empty/_tasks.py"], cwd=root)
    assert result.returncode == 2
    [(path, line, message)] = _errors(result.stderr)
    assert (path, line) == ("cg_empty/registry_config.py", 1)
    assert "registers no model" in message


def test_a_syntax_error_in_the_service(service_root: Callable[..., Path]) -> None:
    root = service_root("cg_mini")
    models = root / "cg_mini" / "domain" / "models.py"
    models.write_text(models.read_text() + "\ndef broken(:\n")
    result = run_cli(["cg_mini/registry_config.py", "-o", "cg_mini/_tasks.py"], cwd=root)
    assert result.returncode == 2
    [(path, line, message)] = _errors(result.stderr)
    assert path == "cg_mini/domain/models.py"
    assert line == len(models.read_text().splitlines())
    assert "SyntaxError" in message
