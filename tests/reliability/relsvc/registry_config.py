from __future__ import annotations

from core_sdk.registry import ModelRegistry

from .managers import RelItemManager
from .models import RelItem, RelItemCreate, RelItemRead, RelItemUpdate

ModelRegistry.register_local(
    model_cls=RelItem,
    read_schema_cls=RelItemRead,
    manager_cls=RelItemManager,
    create_schema_cls=RelItemCreate,
    update_schema_cls=RelItemUpdate,
)
