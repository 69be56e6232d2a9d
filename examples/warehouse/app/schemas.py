"""Pydantic schemas: create/update/read per model, inputs and results of operations."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, Field

from .models import ProductStatus

# --- Warehouse (default manager) ------------------------------------------------------


class WarehouseCreate(BaseModel):
    code: str = Field(max_length=16)
    name: str = Field(max_length=200)


class WarehouseUpdate(BaseModel):
    name: str | None = None


class WarehouseRead(BaseModel):
    id: UUID
    code: str
    name: str
    created_at: datetime


# --- Product --------------------------------------------------------------------------


class ProductCreate(BaseModel):
    sku: str = Field(max_length=64)
    name: str = Field(max_length=200)
    unit_price: Decimal = Field(max_digits=12, decimal_places=2, ge=0)


class ProductUpdate(BaseModel):
    name: str | None = None
    status: ProductStatus | None = None


class ProductRead(BaseModel):
    id: UUID
    sku: str
    name: str
    unit_price: Decimal
    status: ProductStatus
    price_changed_at: datetime | None


# --- StockItem ------------------------------------------------------------------------


class StockItemCreate(BaseModel):
    warehouse_id: UUID
    product_id: UUID
    quantity: int = Field(default=0, ge=0)


class StockItemUpdate(BaseModel):
    quantity: int | None = Field(default=None, ge=0)


class StockItemRead(BaseModel):
    id: UUID
    warehouse_id: UUID
    product_id: UUID
    quantity: int
    reserved: int
    updated_at: datetime


class Delivery(BaseModel):
    """Goods that arrived at a warehouse (input of ``StockManager.receive``)."""

    warehouse_id: UUID
    product_id: UUID
    quantity: int = Field(gt=0)
    received_at: AwareDatetime


class StockLevel(BaseModel):
    warehouse_id: UUID
    product_id: UUID
    quantity: int
    reserved: int
    available: int
    updated_at: datetime


class ReservationLine(BaseModel):
    product_id: UUID
    quantity: int = Field(gt=0)


class Shortage(BaseModel):
    product_id: UUID
    requested: int
    available: int


class ReservationResult(BaseModel):
    """All lines are reserved together, or none is (then see ``shortages``)."""

    accepted: bool
    reserved_units: int
    shortages: list[Shortage]


class StockValuation(BaseModel):
    warehouse_id: UUID
    total_value: Decimal
    lines: int
    computed_at: datetime
