"""The service's worker entry point. Run with: taskiq worker relsvc.worker:broker"""

from core_sdk.worker_setup import setup_worker

broker = setup_worker("relsvc.registry_config")
