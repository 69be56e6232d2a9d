"""Fixtures of the core_sdk tests: the test service, the database, brokers, a real worker."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from taskiq import AsyncBroker

CORE_DIR = Path(__file__).resolve().parent
REPO_ROOT = CORE_DIR.parents[1]
if str(CORE_DIR) not in sys.path:
    sys.path.insert(0, str(CORE_DIR))

import coresvc.registry_config  # noqa: E402

from core_sdk.broker.client import call_operation  # noqa: E402
from core_sdk.broker.setup import build_broker, set_broker  # noqa: E402
from core_sdk.config import BaseAppSettings  # noqa: E402
from core_sdk.data_access import typed_proxy  # noqa: E402
from core_sdk.db.session import close_db, create_db_and_tables, init_db  # noqa: E402
from core_sdk.exceptions import OperationTimeoutError  # noqa: E402
from core_sdk.registry import ModelRegistry  # noqa: E402


@pytest.fixture(autouse=True)
def core_registry() -> Iterator[None]:
    """Only the test service is registered; generated-module registrations are reset."""
    saved_models = dict(ModelRegistry._models)
    saved_proxies = dict(typed_proxy._proxies)
    saved_manifest = dict(typed_proxy._manifest)
    ModelRegistry.clear()
    typed_proxy.clear_generated_registrations()
    coresvc.registry_config.register()
    yield
    ModelRegistry.clear()
    ModelRegistry._models.update(saved_models)
    typed_proxy.clear_generated_registrations()
    typed_proxy._proxies.update(saved_proxies)
    typed_proxy._manifest.update(saved_manifest)


@pytest.fixture(scope="session")
async def database(pg_database_url: str) -> AsyncIterator[str]:
    """The session's PostgreSQL database with the test service's tables."""
    await close_db()
    init_db(pg_database_url, {"pool_size": 5, "max_overflow": 5})
    await create_db_and_tables()
    yield pg_database_url
    await close_db()


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

    The grace period is short on purpose: the stock taskiq worker with a Redis stream broker
    does not always exit on SIGTERM (seen with plain taskiq-redis too), and tests need no
    graceful shutdown.
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


@pytest.fixture(scope="session")
async def worker_process(database: str, redis_names: Any) -> AsyncIterator[subprocess.Popen[bytes]]:
    """A real ``taskiq worker coresvc.worker:broker`` process (stock CLI), killed at the end."""
    process = spawn_worker(database, redis_names.env())
    try:
        yield process
    finally:
        stop_worker(process)


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


@pytest.fixture(scope="session")
async def redis_broker(
    worker_process: subprocess.Popen[bytes], redis_names: Any, database: str
) -> AsyncIterator[AsyncBroker]:
    """Client-side Redis broker, returned once the worker answers."""
    broker = build_broker(redis_settings(redis_names, database))
    await broker.startup()
    await wait_until_serving(broker, [worker_process])
    yield broker
    await broker.shutdown()


@pytest.fixture(scope="session")
async def inmemory_broker(database: str) -> AsyncIterator[AsyncBroker]:
    """ENV=test broker: InMemoryBroker running operations in this process."""
    broker = build_broker(BaseAppSettings(ENV="test", DATABASE_URL=database))
    await broker.startup()
    yield broker
    await broker.shutdown()


@pytest.fixture(params=["inmemory", "redis"])
def flow(request: pytest.FixtureRequest, database: str) -> Iterator[AsyncBroker]:
    """Run the test once with ENV=test's InMemoryBroker, once through Redis and a real worker."""
    broker: AsyncBroker = request.getfixturevalue(f"{request.param}_broker")
    previous = set_broker(broker)
    try:
        yield broker
    finally:
        set_broker(previous)
