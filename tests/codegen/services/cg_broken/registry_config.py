from __future__ import annotations

from core_sdk.registry import ModelRegistry

from .managers import BoxManager, ThingManager
from .models import Box, Thing

ModelRegistry.register_local(model_cls=Thing, manager_cls=ThingManager)
ModelRegistry.register_local(model_cls=Box, manager_cls=BoxManager, model_name="Thing_Box")
