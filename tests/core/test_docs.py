"""The README's Python snippets and the test services follow the SDK's own advice."""

from __future__ import annotations

import ast
import re
import textwrap

from core_helpers import REPO_ROOT

DEPRECATED = ".session.execute("  # SQLModel's AsyncSession marks execute() deprecated: use exec()


def readme_python_blocks() -> list[str]:
    text = (REPO_ROOT / "README.md").read_text()
    return [textwrap.dedent(block) for block in re.findall(r"```python\n(.*?)```", text, re.DOTALL)]


def test_readme_snippets_parse_and_use_session_exec() -> None:
    blocks = readme_python_blocks()
    assert blocks
    for block in blocks:
        compile(block, "README.md", "exec", ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        assert DEPRECATED not in block, block


def test_test_services_use_session_exec() -> None:
    sources = [
        *(REPO_ROOT / "tests" / "core" / "coresvc").glob("*.py"),
        *(REPO_ROOT / "tests" / "reliability" / "relsvc").glob("*.py"),
    ]
    assert sources
    offenders = [str(path) for path in sources if DEPRECATED in path.read_text()]
    assert offenders == []
