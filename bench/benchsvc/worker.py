"""Worker of the benchmark service: ``taskiq worker benchsvc.worker:broker``."""

from __future__ import annotations

from core_sdk.worker_setup import setup_worker

broker = setup_worker("benchsvc.registry_config", generated_module="benchsvc._tasks")
