from __future__ import annotations

from core_sdk.registry import ModelRegistry

from .domain.managers import GadgetManager, TrackedManager
from .domain.models import Gadget, Widget

ModelRegistry.register_local(model_cls=Gadget, manager_cls=GadgetManager)
ModelRegistry.register_local(model_cls=Widget, manager_cls=TrackedManager)
