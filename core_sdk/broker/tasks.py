"""The single shared task: ``execute_dam_operation(model_name, method_name, serialized_args,
serialized_kwargs, fingerprint=None)``, registered on the process-wide broker."""

from __future__ import annotations

from core_sdk.broker.operations import TASK_NAME, DamTask, register_dam_task, run_dam_operation
from core_sdk.broker.setup import broker

__all__ = ["TASK_NAME", "execute_dam_operation", "run_dam_operation"]

execute_dam_operation: DamTask = register_dam_task(broker)
