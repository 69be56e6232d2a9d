"""Fixtures of the fault-injection suite.

Everything here is private to one test session: a ``redis-server`` on a free port (the shared
Redis on 6379 is never touched), unique stream/group names per test, the session's own
PostgreSQL database, and real ``taskiq worker`` processes that are SIGKILLed (process group) at
the end of each test.
"""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from taskiq import AsyncBroker

REL_DIR = Path(__file__).resolve().parent
if str(REL_DIR) not in sys.path:
    sys.path.insert(0, str(REL_DIR))

from rel_helpers import Names, RedisServer, Worker  # noqa: E402

from core_sdk.broker.setup import build_broker  # noqa: E402


@pytest.fixture(scope="session")
def rel_redis() -> Iterator[RedisServer]:
    """The suite's own redis-server (for the tests that do not restart Redis)."""
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
async def rel_db(pg_database_url: str) -> AsyncIterator[str]:
    """The session database with the relsvc tables (created with a private engine)."""
    import relsvc.models
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlmodel import SQLModel

    engine = create_async_engine(pg_database_url)
    try:
        async with engine.begin() as conn:
            tables = [SQLModel.metadata.tables[name] for name in ("rel_item", "rel_attempt")]
            await conn.run_sync(lambda sync: SQLModel.metadata.create_all(sync, tables=tables))
    finally:
        await engine.dispose()
    assert relsvc.models.RelItem.__tablename__ == "rel_item"
    yield pg_database_url


@pytest.fixture
async def db(rel_db: str) -> AsyncIterator[Any]:
    """A plain asyncpg connection to the session database (to check what was written)."""
    import asyncpg

    conn = await asyncpg.connect(rel_db.replace("postgresql+asyncpg://", "postgresql://", 1))
    yield conn
    await conn.close()


@pytest.fixture
def names(rel_redis: RedisServer) -> Names:
    return Names(rel_redis.url)


@pytest.fixture
def start_worker(rel_db: str) -> Iterator[Callable[..., Worker]]:
    """``start_worker(names, *cli_args, **env)`` -> a running Worker; all killed afterwards."""
    started: list[Worker] = []

    def start(names: Names, *args: str, **env: str) -> Worker:
        worker = Worker({"DATABASE_URL": rel_db, **names.env(), **env}, args)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.kill()
        if not os.environ.get("REL_KEEP_LOGS"):
            worker.log_path.unlink(missing_ok=True)


@pytest.fixture
async def make_client(rel_db: str) -> AsyncIterator[Callable[..., Any]]:
    """``await make_client(names, **settings)`` -> a started client-side broker; shut down after."""
    brokers: list[AsyncBroker] = []

    async def make(names: Names, **extra: Any) -> AsyncBroker:
        broker = build_broker(names.settings(rel_db, **extra))
        await broker.startup()
        brokers.append(broker)
        return broker

    yield make
    for broker in brokers:
        await broker.shutdown()
