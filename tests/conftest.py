"""Shared, generic fixtures only: a unique PostgreSQL database and unique Redis names.

Several people run the suite at the same time on one machine, so every session gets its own
database ``dam_test_<hex>`` and its own Redis stream/key prefix/consumer group.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest

# Import-time broker selection must not reach for Redis in tests unless a test asks for it.
os.environ.setdefault("ENV", "test")

PG_ADMIN_DSN = os.environ.get(
    "DAM_TEST_PG_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("DAM_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@dataclass(frozen=True)
class RedisNames:
    """Unique Redis names for one test session."""

    url: str
    queue_name: str
    key_prefix: str
    consumer_group: str

    def env(self) -> dict[str, str]:
        """The matching environment variables (for worker subprocesses)."""
        return {
            "REDIS_URL": self.url,
            "REDIS_QUEUE_NAME": self.queue_name,
            "REDIS_KEY_PREFIX": self.key_prefix,
            "REDIS_CONSUMER_GROUP": self.consumer_group,
        }


@pytest.fixture(scope="session")
async def pg_database_url() -> AsyncIterator[str]:
    """``postgresql+asyncpg://`` URL of a fresh database, dropped at the end of the session."""
    import asyncpg

    name = f"dam_test_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    yield f"{base}/{name}"
    admin = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="session")
def redis_names() -> Iterator[RedisNames]:
    """Unique stream, key prefix and consumer group; their keys are deleted afterwards."""
    tag = f"dam_test_{uuid.uuid4().hex[:12]}"
    names = RedisNames(
        url=REDIS_URL,
        queue_name=f"{tag}:queue",
        key_prefix=tag,
        consumer_group=f"{tag}:workers",
    )
    yield names
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = list(client.scan_iter(match=f"{tag}*", count=1000))
        keys += list(client.scan_iter(match=f"autoclaim:{names.consumer_group}:*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()
