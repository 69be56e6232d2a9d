"""Helpers of the core_sdk tests: settings for a test's Redis names, real worker processes."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest
from taskiq import AsyncBroker

from core_sdk.broker.client import call_operation
from core_sdk.config import BaseAppSettings
from core_sdk.exceptions import OperationTimeoutError

CORE_DIR = Path(__file__).resolve().parent
REPO_ROOT = CORE_DIR.parents[1]


def redis_settings(names: Any, database_url: str, **extra: object) -> BaseAppSettings:
    return BaseAppSettings(
        ENV="dev",
        DATABASE_URL=database_url,
        REDIS_URL=names.url,
        REDIS_QUEUE_NAME=names.queue_name,
        REDIS_KEY_PREFIX=names.key_prefix,
        REDIS_CONSUMER_GROUP=names.consumer_group,
        REDIS_XREAD_BLOCK_MS=500,
        **extra,  # type: ignore[arg-type]
    )


def spawn_worker(
    database: str, redis_env: dict[str, str], **extra_env: str
) -> subprocess.Popen[bytes]:
    """Start ``taskiq worker coresvc.worker:broker`` (the stock CLI) in its own process group."""
    env = {
        **os.environ,
        "ENV": "dev",
        "DATABASE_URL": database,
        **redis_env,
        "REDIS_XREAD_BLOCK_MS": "500",
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), str(CORE_DIR)]),
        **extra_env,
    }
    log = tempfile.NamedTemporaryFile(prefix="core-worker-", suffix=".log", delete=False)  # noqa: SIM115
    taskiq = Path(sys.executable).with_name("taskiq")
    process = subprocess.Popen(
        [str(taskiq), "worker", "coresvc.worker:broker", "--workers", "1"],
        cwd=CORE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    process.log_path = log.name  # type: ignore[attr-defined]
    return process


def stop_worker(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    """Stop the worker's whole process group (SIGKILL if it does not exit in time).

    An idle worker exits on SIGTERM within about a second (tests/reliability/test_shutdown.py
    checks it). The grace period is short on purpose: a worker that a test left running a
    long call would wait for it, and tests need no graceful shutdown, so SIGKILL follows.
    """
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=3)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


async def wait_until_serving(broker: AsyncBroker, processes: list[subprocess.Popen[bytes]]) -> None:
    for _ in range(60):
        for process in processes:
            if process.poll() is not None:
                pytest.fail(f"worker exited early:\n{worker_log(process)}")
        try:
            await call_operation("Depot", "ping", [], {}, None, 1.0, broker=broker)
            return
        except OperationTimeoutError:
            await asyncio.sleep(0.1)
    pytest.fail("worker never answered:\n" + "\n".join(worker_log(p) for p in processes))


def worker_log(process: subprocess.Popen[bytes]) -> str:
    return Path(process.log_path).read_text(errors="replace")  # type: ignore[attr-defined]
