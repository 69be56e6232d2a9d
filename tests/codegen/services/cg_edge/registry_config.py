from __future__ import annotations

from core_sdk.registry import ModelRegistry

from .managers import EdgeManager
from .models import Edge

ModelRegistry.register_local(model_cls=Edge, manager_cls=EdgeManager)
