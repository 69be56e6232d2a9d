"""Worker of the fixture service: ``taskiq worker cg_shop.worker:broker``."""

from __future__ import annotations

from core_sdk.worker_setup import setup_worker

broker = setup_worker("cg_shop.registry_config", generated_module="cg_shop._tasks")
