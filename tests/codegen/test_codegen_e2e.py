"""End to end: generated methods called through a real ``taskiq worker`` (Redis, PostgreSQL).

The fixture service ``cg_shop`` is generated into a temporary root; a worker process is
started with the stock taskiq CLI, and a client process (``codegen_e2e_client.py``) calls the
generated methods and checks every result's type. Both use this session's own database and
their own Redis stream, key prefix and consumer group.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from codegen_helpers import BIN, HERE, REPO_ROOT


@pytest.fixture(scope="module")
def worker_env(pg_database_url: str, redis_names: Any, shop_root: Path) -> dict[str, str]:
    suffix = ":codegen"  # not the stream other test areas' workers read
    return {
        **os.environ,
        "ENV": "dev",
        "DATABASE_URL": pg_database_url,
        "REDIS_URL": redis_names.url,
        "REDIS_QUEUE_NAME": redis_names.queue_name + suffix,
        "REDIS_KEY_PREFIX": redis_names.key_prefix + suffix,
        "REDIS_CONSUMER_GROUP": redis_names.consumer_group + suffix,
        "REDIS_XREAD_BLOCK_MS": "500",
        "PYTHONPATH": os.pathsep.join([str(shop_root), str(REPO_ROOT)]),
    }


@pytest.fixture(scope="module")
def worker(worker_env: dict[str, str], shop_root: Path) -> Iterator[subprocess.Popen[bytes]]:
    log = (shop_root / "worker.log").open("wb")
    process = subprocess.Popen(
        [str(BIN / "taskiq"), "worker", "cg_shop.worker:broker", "--workers", "1"],
        cwd=shop_root,
        env=worker_env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        log.close()


def test_generated_methods_through_a_real_worker_return_declared_types(
    worker: subprocess.Popen[bytes], worker_env: dict[str, str], shop_root: Path
) -> None:
    client = shop_root / "codegen_e2e_client.py"
    shutil.copy(HERE / "codegen_e2e_client.py", client)
    result = subprocess.run(
        [sys.executable, str(client)],
        cwd=shop_root,
        env=worker_env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    log = (shop_root / "worker.log").read_text(errors="replace")
    assert worker.poll() is None, f"the worker died:\n{log}"
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}\n--- worker log ---\n{log}"
    assert result.stdout.strip().startswith("ok "), result.stdout
    assert int(result.stdout.split()[1]) == 25  # every check of the client ran
