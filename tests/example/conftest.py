"""Fixtures of the example-service tests: a private database, Redis names and a worker."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from example_support import PG_ADMIN_DSN, REDIS_URL, ExampleServices, Worker


@pytest.fixture(scope="session")
async def example_services() -> AsyncIterator[ExampleServices]:
    """A database ``dam_test_<hex>`` and Redis names ``dam_test_<hex>*``, removed afterwards."""
    import asyncpg
    import redis

    tag = f"dam_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await admin.execute(f'CREATE DATABASE "{tag}"')
    finally:
        await admin.close()
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    try:
        yield ExampleServices(database_url=f"{base}/{tag}", tag=tag)
    finally:
        admin = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{tag}" WITH (FORCE)')
        finally:
            await admin.close()
        client = redis.Redis.from_url(REDIS_URL)
        try:
            keys = list(client.scan_iter(match=f"{tag}*", count=1000))
            keys += list(client.scan_iter(match=f"autoclaim:{tag}*", count=1000))
            if keys:
                client.delete(*keys)
        finally:
            client.close()


@pytest.fixture(scope="session")
def example_worker(
    example_services: ExampleServices, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Worker]:
    worker = Worker(
        example_services.env(), tmp_path_factory.mktemp("example-worker") / "worker.log"
    )
    try:
        worker.wait_ready()
        yield worker
    finally:
        worker.stop()
