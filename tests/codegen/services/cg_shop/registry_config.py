"""Registrations of the fixture service (relative imports, as a service would write them)."""

from __future__ import annotations

from core_sdk.registry import ModelRegistry

from .legacy import ShelfManager
from .managers import CrateManager
from .models import Crate, Note, Shelf, Tray
from .schemas import (
    CrateCreate,
    CrateRead,
    CrateUpdate,
    ShelfCreate,
    ShelfRead,
    ShelfUpdate,
    TrayCreate,
    TrayRead,
    TrayUpdate,
)

ModelRegistry.register_local(
    model_cls=Crate,
    read_schema_cls=CrateRead,
    manager_cls=CrateManager,
    create_schema_cls=CrateCreate,
    update_schema_cls=CrateUpdate,
)
ModelRegistry.register_local(
    model_cls=Shelf,
    read_schema_cls=ShelfRead,
    manager_cls=ShelfManager,
    create_schema_cls=ShelfCreate,
    update_schema_cls=ShelfUpdate,
)
ModelRegistry.register_local(model_cls=Note)
ModelRegistry.register_local(
    model_cls=Tray,
    read_schema_cls=TrayRead,
    create_schema_cls=TrayCreate,
    update_schema_cls=TrayUpdate,
)
