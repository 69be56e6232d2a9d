"""The shared operation rule: fingerprints are the same in every process."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

SERVICE = textwrap.dedent(
    """
    import enum
    from datetime import datetime


    class Color(enum.Enum):
        RED = "red"


    class Manager:
        async def op(
            self,
            when: datetime = datetime.now(),
            tags: frozenset[str] = frozenset({"a", "b", "c", "d", "e"}),
            color: Color = Color.RED,
            pair: tuple[int, str] = (1, "x"),
            limit: int = 50,
        ) -> None: ...
    """
)

PRINT = (
    "from core_sdk.data_access.signature import operation_fingerprint; import fpsvc; "
    "print(operation_fingerprint(fpsvc.Manager, 'op'))"
)


def _fingerprint(path: Path, seed: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(path)}
    out = subprocess.run(
        [sys.executable, "-c", PRINT], env=env, capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def test_fingerprint_is_stable_across_processes_and_hash_seeds(tmp_path: Path) -> None:
    (tmp_path / "fpsvc.py").write_text(SERVICE)
    fingerprints = {_fingerprint(tmp_path, seed) for seed in ("0", "1", "2", "3")}
    assert len(fingerprints) == 1
    (fingerprint,) = fingerprints
    assert len(fingerprint) == 16


def test_fingerprint_changes_with_a_constant_default(tmp_path: Path) -> None:
    (tmp_path / "fpsvc.py").write_text(SERVICE)
    before = _fingerprint(tmp_path, "0")
    (tmp_path / "fpsvc.py").write_text(SERVICE.replace("limit: int = 50", "limit: int = 51"))
    assert _fingerprint(tmp_path, "0") != before
