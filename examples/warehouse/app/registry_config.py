"""Which models this service registers, with which schemas and managers.

``dam-codegen app/registry_config.py -o app/_tasks.py`` reads this file; the worker
loads it at start-up. Importing it registers the models; it needs neither a database
nor Redis.
"""

from __future__ import annotations

from core_sdk.registry import ModelRegistry

from .managers import ProductManager, StockManager
from .models import Product, StockItem, Warehouse
from .schemas import (
    ProductCreate,
    ProductRead,
    ProductUpdate,
    StockItemCreate,
    StockItemRead,
    StockItemUpdate,
    WarehouseCreate,
    WarehouseRead,
    WarehouseUpdate,
)

ModelRegistry.register_local(
    model_cls=Warehouse,
    read_schema_cls=WarehouseRead,
    create_schema_cls=WarehouseCreate,
    update_schema_cls=WarehouseUpdate,
)
ModelRegistry.register_local(
    model_cls=Product,
    read_schema_cls=ProductRead,
    manager_cls=ProductManager,
    create_schema_cls=ProductCreate,
    update_schema_cls=ProductUpdate,
)
ModelRegistry.register_local(
    model_cls=StockItem,
    read_schema_cls=StockItemRead,
    manager_cls=StockManager,
    create_schema_cls=StockItemCreate,
    update_schema_cls=StockItemUpdate,
)
