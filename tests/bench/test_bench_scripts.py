"""The benchmark suite runs end to end in a tiny configuration, so it cannot rot.

No timing is asserted: only that every section ran and produced its figures (the numbers of a
tiny run mean nothing).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_python_m_bench_tiny_runs_every_section(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    env = {key: value for key, value in os.environ.items() if key != "ENV"}
    completed = subprocess.run(
        [sys.executable, "-m", "bench", "--tiny", "--json", str(out)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    table = completed.stdout
    for heading in (
        "LATENCY",
        "THROUGHPUT",
        "REDIS MEMORY",
        "ENCODE/DECODE",
        "CODEGEN AT SCALE",
        "TARGETS (issue 5)",
    ):
        assert heading in table, table
    results = json.loads(out.read_text())
    paths = {"typed", "dynamic", "raw", "raw_1ms"}
    for payload in ("trivial", "wide"):
        for path in paths | {"raw_push"}:
            row = results["latency"][f"{payload}/{path}"]
            assert row["calls"] > 0 and row["p50_ms"] > 0
        for path in paths:
            assert results["throughput"][f"{payload}/{path}"]["calls"] > 0
        assert results["latency"][f"{payload}/typed"]["polls_per_call"] == 0
    memory = results["memory"]
    assert memory["calls"] > 0 and memory["stream_length"] == 0 and memory["pending"] == 0
    assert {row["step"] for row in results["codec"]} >= {"caller encode", "caller decode"}
    codegen = results["codegen"]
    for key in (
        "bare_import",
        "import_generated",
        "codegen",
        "check",
        "regenerate",
        "mypy_service",
        "mypy_generated",
    ):
        assert codegen[key]["seconds"] > 0 and codegen[key]["returncode"] == 0
    assert len(results["targets"]) == 9


def test_python_m_bench_only_selects_sections(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "bench", "--tiny", "--only", "codec"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "ENCODE/DECODE" in completed.stdout and "LATENCY" not in completed.stdout


def test_python_m_bench_profile_writes_the_caller_profile(tmp_path: Path) -> None:
    completed = subprocess.run(
        [
            *(sys.executable, "-m", "bench.profile", "typed", "trivial"),
            *("--calls", "20", "--out", str(tmp_path)),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "calls of typed-trivial" in completed.stdout
    assert "request_operation" in (tmp_path / "caller-typed-trivial.txt").read_text()
