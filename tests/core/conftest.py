"""Fixtures of the core_sdk tests: the test service, the database, brokers, a real worker."""

from __future__ import annotations

import subprocess
import sys
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
from core_helpers import (  # noqa: E402
    redis_settings,
    spawn_worker,
    stop_worker,
    wait_until_serving,
)

from core_sdk.broker.setup import build_broker, set_broker  # noqa: E402
from core_sdk.config import BaseAppSettings  # noqa: E402
from core_sdk.data_access import typed_proxy  # noqa: E402
from core_sdk.db.session import close_db, create_db_and_tables, init_db  # noqa: E402
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


@pytest.fixture(scope="session")
async def worker_process(database: str, redis_names: Any) -> AsyncIterator[subprocess.Popen[bytes]]:
    """A real ``taskiq worker coresvc.worker:broker`` process (stock CLI), killed at the end."""
    process = spawn_worker(database, redis_names.env())
    try:
        yield process
    finally:
        stop_worker(process)


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
