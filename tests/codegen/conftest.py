"""Fixtures of the generator tests (helpers are in codegen_helpers.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from codegen_helpers import generate, make_service_root


@pytest.fixture(scope="session")
def shop_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A service root with cg_shop generated and annotated (shared, do not modify)."""
    root = make_service_root(tmp_path_factory.mktemp("shop"), ["cg_shop"])
    generate(root, "cg_shop")
    return root


@pytest.fixture
def service_root(tmp_path: Path) -> Callable[..., Path]:
    """Factory: a fresh service root in this test's tmp_path with the given services."""

    def make(*services: str, line_length: int = 100, pyproject: str | None = None) -> Path:
        return make_service_root(
            tmp_path / "root", services, line_length=line_length, pyproject=pyproject
        )

    return make
