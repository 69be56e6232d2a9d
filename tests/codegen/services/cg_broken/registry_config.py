from __future__ import annotations

from core_sdk.registry import ModelRegistry

from .managers import BoxManager, ThingManager, ThingOnlyManager
from .models import Box, Plain, Thing

ModelRegistry.register_local(model_cls=Thing, manager_cls=ThingManager)
ModelRegistry.register_local(model_cls=Box, manager_cls=BoxManager, model_name="Thing_Box")
ModelRegistry.register_local(model_cls=Box, manager_cls=ThingOnlyManager)  # error: manages Thing
ModelRegistry.register_local(model_cls=Plain)  # error: model_cls=Plain is not a SQLModel subclass
