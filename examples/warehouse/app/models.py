"""SQLModel table models of the warehouse service."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID, uuid4

from sqlalchemy import DateTime, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class ProductStatus(enum.StrEnum):
    ACTIVE = "active"
    DISCONTINUED = "discontinued"


class Warehouse(SQLModel, table=True):
    id: UUID = Field(default_factory=uuid4, primary_key=True)
    code: str = Field(max_length=16, unique=True, index=True)
    name: str = Field(max_length=200)
    created_at: datetime = Field(
        default_factory=utcnow, sa_type=DateTime(timezone=True)
    )


class Product(SQLModel, table=True):
    id: UUID = Field(default_factory=uuid4, primary_key=True)
    sku: str = Field(max_length=64, unique=True, index=True)
    name: str = Field(max_length=200)
    unit_price: Decimal = Field(max_digits=12, decimal_places=2)
    status: ProductStatus = Field(default=ProductStatus.ACTIVE)
    price_changed_at: datetime | None = Field(
        default=None, sa_type=DateTime(timezone=True)
    )


class StockItem(SQLModel, table=True):
    """How many units of one product one warehouse holds, and how many are reserved."""

    __table_args__ = (UniqueConstraint("warehouse_id", "product_id"),)

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    warehouse_id: UUID = Field(foreign_key="warehouse.id", index=True)
    product_id: UUID = Field(foreign_key="product.id", index=True)
    quantity: int = Field(default=0, ge=0)
    reserved: int = Field(default=0, ge=0)
    updated_at: datetime = Field(
        default_factory=utcnow, sa_type=DateTime(timezone=True)
    )
