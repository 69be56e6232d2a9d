"""Registry of the benchmark service."""

from __future__ import annotations

from core_sdk.registry import ModelRegistry

from .managers import BenchManager
from .models import BenchItem, BenchItemCreate, BenchItemRead, BenchItemUpdate

ModelRegistry.register_local(
    model_cls=BenchItem,
    read_schema_cls=BenchItemRead,
    manager_cls=BenchManager,
    create_schema_cls=BenchItemCreate,
    update_schema_cls=BenchItemUpdate,
)
