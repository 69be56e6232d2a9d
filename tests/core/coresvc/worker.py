"""The service's worker entry point, exactly as a user would write it.

Run with: taskiq worker coresvc.worker:broker
"""

from pathlib import Path

from core_sdk.worker_setup import setup_worker

broker = setup_worker(Path(__file__).with_name("registry_config.py"))
