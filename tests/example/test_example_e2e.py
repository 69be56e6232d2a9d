"""The example service end to end: a real ``taskiq worker app.worker:broker`` on Redis and
PostgreSQL, called through the generated stubs, the FastAPI app and the README's demo."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from example_support import EXAMPLE_DIR, ExampleServices, Worker, subprocess_env

CLIENT = Path(__file__).with_name("e2e_client.py")


def run_client(args: list[str], services: ExampleServices, worker: Worker) -> str:
    result = subprocess.run(
        [sys.executable, *args],
        cwd=EXAMPLE_DIR,
        env=subprocess_env(**services.env(), PYTHONPATH=str(EXAMPLE_DIR)),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, (
        f"client failed ({result.returncode})\n--- stdout\n{result.stdout}\n"
        f"--- stderr\n{result.stderr}\n--- worker log\n{worker.log()}"
    )
    return result.stdout


def test_generated_calls_and_fastapi_through_a_real_worker(
    example_services: ExampleServices, example_worker: Worker
) -> None:
    out = run_client([str(CLIENT)], example_services, example_worker)
    assert "ok Product.reprice(UUID, Decimal, datetime) -> Product" in out
    assert "ok POST /deliveries -> 202 with a task id (kicked)" in out
    assert out.rstrip().endswith("E2E OK"), out


def test_readme_demo_runs(example_services: ExampleServices, example_worker: Worker) -> None:
    out = run_client(["-m", "app.demo"], example_services, example_worker)
    assert "repriced  Product" in out and "Decimal('13.75')" in out
    assert "valuation StockValuation total=Decimal('550.00')" in out
    assert "unknown SKU -> None" in out
