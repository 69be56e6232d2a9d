"""Fixtures of the example-service tests: a private database, Redis names and a worker."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from example_support import REDIS_URL, ExampleServices, Worker


@pytest.fixture(scope="session")
async def example_services(pg_database_url: str) -> AsyncIterator[ExampleServices]:
    """The session database ``dam_test_<hex>`` and Redis names with the same prefix, removed
    afterwards."""
    import redis

    tag = pg_database_url.rsplit("/", 1)[1]
    try:
        yield ExampleServices(database_url=pg_database_url, tag=tag)
    finally:
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
