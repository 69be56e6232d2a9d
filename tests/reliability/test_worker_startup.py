"""Start-up checks of a real ``taskiq worker``: a worker that cannot work says why at once."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from rel_helpers import Names, Worker


async def test_nonexistent_database_stops_the_worker_with_a_clear_error(
    names: Names, rel_db: str, start_worker: Callable[..., Worker]
) -> None:
    missing = f"dam_test_missing_{uuid.uuid4().hex[:8]}"
    server = rel_db.rsplit("/", 1)[0]
    worker = start_worker(names, DATABASE_URL=f"{server}/{missing}")
    assert worker.wait_exit(30) is not None, worker.log()  # not restarted for ever
    log = worker.log()
    assert (
        f"DATABASE_URL ({server}/{missing}) cannot be used: "
        f'InvalidCatalogNameError: database "{missing}" does not exist'
    ) in log, log
    assert "Stopping `taskiq worker`" in log
    assert "Worker context ready" not in log and "Listening started" not in log


async def test_worker_on_the_inmemory_broker_stops_and_asks_for_redis_url(
    names: Names, start_worker: Callable[..., Worker]
) -> None:
    worker = start_worker(names, REDIS_URL="")  # the broker falls back to InMemoryBroker
    assert worker.wait_exit(30) is not None, worker.log()
    log = worker.log()
    assert (
        "`taskiq worker` cannot serve the in-process InMemoryBroker (REDIS_URL is not set): "
        "set REDIS_URL to the Redis the callers use" in log
    ), log
    assert "Inmemory brokers cannot listen" not in log
    assert log.count("Worker start-up failed") == 1  # once, not once a second
