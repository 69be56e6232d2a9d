"""The warehouse worker, run with the stock taskiq CLI (from ``examples/warehouse``)::

    taskiq worker app.worker:broker

At WORKER_STARTUP the worker imports the registry config and the generated stubs (their
manifest tells the worker which operations callers may send) and opens the database
(``DATABASE_URL``); at WORKER_SHUTDOWN it closes it. The broker is chosen from the
environment (``REDIS_URL``, ``REDIS_QUEUE_NAME``, ...; see the README's configuration
table).
"""

from __future__ import annotations

from core_sdk.worker_setup import setup_worker

broker = setup_worker("app.registry_config", generated_module="app._tasks")
