"""Worker lifecycle: load the service's registry, open the database, close it at shutdown.

In a service's ``worker.py``::

    from core_sdk.worker_setup import setup_worker

    broker = setup_worker("app.registry_config", generated_module="app._tasks")

then run the stock taskiq CLI::

    taskiq worker app.worker:broker
"""

from __future__ import annotations

import importlib
import logging
import multiprocessing
import os
import signal
import sys
from pathlib import Path
from types import ModuleType
from typing import NoReturn

from taskiq import AsyncBroker, TaskiqEvents, TaskiqState

from core_sdk.broker.operations import set_operation_timeout
from core_sdk.config import BaseAppSettings, get_settings
from core_sdk.db.session import check_database, close_db, init_db
from core_sdk.exceptions import ConfigurationError, CoreSDKError, DatabaseUnavailableError
from core_sdk.registry import ModelRegistry

__all__ = [
    "import_registry_config",
    "initialize_worker_context",
    "setup_worker",
    "shutdown_worker_context",
]

logger = logging.getLogger("core_sdk.worker")


def _module_name_for_path(path: Path) -> tuple[str, Path]:
    """Dotted module name of ``path`` and the directory to put on ``sys.path``.

    Walks up while the directory has an ``__init__.py`` so relative imports keep working.
    """
    path = path.resolve()
    parts = [path.stem] if path.name != "__init__.py" else []
    directory = path.parent
    while (directory / "__init__.py").is_file():
        parts.insert(0, directory.name)
        directory = directory.parent
    if not parts:
        raise ConfigurationError(f"Cannot derive a module name for {path}.")
    return ".".join(parts), directory


def import_registry_config(target: str | Path) -> ModuleType:
    """Import a registry config given as a dotted module or a path to ``registry_config.py``."""
    text = str(target)
    looks_like_path = (
        isinstance(target, Path) or text.endswith(".py") or "/" in text or "\\" in text
    )
    if looks_like_path:
        path = Path(text)
        if not path.is_file():
            raise ConfigurationError(f"Registry config file {path} does not exist.")
        module_name, root = _module_name_for_path(path)
        if str(root) not in sys.path:
            sys.path.insert(0, str(root))
    else:
        module_name = text
    try:
        return importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigurationError(
            f"Cannot import the registry config {text!r} (as module {module_name!r}): {exc}"
        ) from exc


async def initialize_worker_context(
    settings: BaseAppSettings | None = None,
    registry_config_module: str | Path | None = None,
    *,
    generated_module: str | None = None,
) -> None:
    """Import the registry config (and the generated stubs), then open the database and check
    it with ``SELECT 1``: ConfigurationError when ``DATABASE_URL`` cannot work (no such
    database, role refused, ...), DatabaseUnavailableError when the server cannot be reached."""
    settings = settings or get_settings()
    logging.getLogger("core_sdk").setLevel(settings.LOGGING_LEVEL)
    if registry_config_module is not None:
        import_registry_config(registry_config_module)
    if generated_module is not None:
        try:
            importlib.import_module(generated_module)
        except ImportError as exc:
            raise ConfigurationError(
                f"Cannot import the generated module {generated_module!r}: {exc}"
            ) from exc
    if not ModelRegistry.is_configured():
        raise ConfigurationError(
            "No model is registered: pass the service's registry config module to "
            "initialize_worker_context (e.g. 'app.registry_config')."
        )
    init_db(settings.DATABASE_URL, settings.engine_options())
    try:
        await check_database()
    except CoreSDKError:
        await close_db()
        raise
    set_operation_timeout(settings.OPERATION_TIMEOUT_SECONDS)
    logger.info(
        "Worker context ready: models %s, database %s",
        ", ".join(ModelRegistry.model_names()),
        settings.DATABASE_URL.split("@")[-1],
    )


async def shutdown_worker_context() -> None:
    """Dispose of the database engine."""
    set_operation_timeout(None)
    await close_db()


def setup_worker(
    registry_config_module: str | Path,
    *,
    generated_module: str | None = None,
    settings: BaseAppSettings | None = None,
    broker: AsyncBroker | None = None,
) -> AsyncBroker:
    """Attach worker startup/shutdown to ``broker`` (default: the process-wide one); return it."""
    if broker is None:
        from core_sdk.broker.setup import broker as default_broker

        broker = default_broker
    from taskiq import InMemoryBroker

    from core_sdk.broker.operations import register_dam_task

    register_dam_task(broker)
    effective = settings or get_settings()
    if isinstance(broker, InMemoryBroker) and effective.ENV != "test":
        logger.warning(
            "setup_worker: the broker is the in-process InMemoryBroker (REDIS_URL unset or "
            "unreachable); `taskiq worker` cannot serve it. Set REDIS_URL for a real worker."
        )
    previous = getattr(broker, "_core_sdk_worker_hooks", None)
    if previous is not None:  # called again for this broker: the latest call wins
        for event, handler in previous:
            if handler in broker.event_handlers[event]:
                broker.event_handlers[event].remove(handler)

    async def _startup(state: TaskiqState) -> None:
        in_worker = broker.is_worker_process
        if in_worker and isinstance(broker, InMemoryBroker):
            reason = getattr(broker, "core_sdk_inmemory_reason", "it was built as one")
            _stop_worker_command(
                ConfigurationError(
                    f"`taskiq worker` cannot serve the in-process InMemoryBroker ({reason}): set "
                    "REDIS_URL to the Redis the callers use (with the same REDIS_QUEUE_NAME, "
                    "REDIS_KEY_PREFIX and REDIS_CONSUMER_GROUP), make sure Redis is reachable, "
                    "and start the worker again."
                )
            )
        try:
            await initialize_worker_context(
                settings, registry_config_module, generated_module=generated_module
            )
        except DatabaseUnavailableError as exc:
            if in_worker:
                logger.error(
                    "Worker start-up failed: %s (this worker process exits; taskiq starts it "
                    "again, about every second, until the database answers)",
                    exc,
                )
            raise
        except ConfigurationError as exc:
            if in_worker:
                _stop_worker_command(exc)
            raise

    async def _shutdown(state: TaskiqState) -> None:
        await shutdown_worker_context()

    broker.add_event_handler(TaskiqEvents.WORKER_STARTUP, _startup)
    broker.add_event_handler(TaskiqEvents.WORKER_SHUTDOWN, _shutdown)
    broker._core_sdk_worker_hooks = [  # type: ignore[attr-defined]
        (TaskiqEvents.WORKER_STARTUP, _startup),
        (TaskiqEvents.WORKER_SHUTDOWN, _shutdown),
    ]
    return broker


def _stop_worker_command(error: ConfigurationError) -> NoReturn:
    """A worker process that cannot work as configured: log why, stop ``taskiq worker``, raise.

    taskiq's process manager restarts a worker process that exits, every second and for ever
    (unless ``--max-fails``), and a restart cannot fix a configuration. So when this process
    was started by it, it asks the manager to shut down (SIGTERM, as ``docker stop`` would):
    ``taskiq worker`` then stops its processes and exits (with status 0, the stock CLI's status
    after a requested shutdown).
    """
    logger.critical("Worker start-up failed: %s", error)
    parent = multiprocessing.parent_process()
    if (
        parent is not None
        and parent.pid is not None
        and multiprocessing.current_process().name.startswith("worker-")
        and "taskiq.cli.worker.process_manager" in sys.modules
    ):
        logger.critical(
            "Stopping `taskiq worker` (pid %d): restarting this process cannot fix its "
            "configuration.",
            parent.pid,
        )
        os.kill(parent.pid, signal.SIGTERM)
    raise error
