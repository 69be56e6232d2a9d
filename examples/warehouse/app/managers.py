"""Custom DataAccessManagers of the warehouse service.

Methods run inside ``managed_session()``: the worker opens one session per operation and
commits it when the method returns (rolls back when it raises), so methods only flush.
``self.session`` is that session, a SQLModel ``AsyncSession``: query it with
``await self.session.exec(select(...))``.

Every public ``async def`` here (and each one inherited from LocalDataAccessManager)
becomes a typed method on the generated broker proxy, e.g.
``await manager.broker.reprice(product_id, Decimal("9.95"), effective_at)``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING
from uuid import UUID

from core_sdk.data_access import LocalDataAccessManager
from core_sdk.exceptions import NotFoundError
from sqlalchemy import func, update
from sqlmodel import col, select

from .models import Product, ProductStatus, StockItem
from .schemas import (
    Delivery,
    ProductCreate,
    ProductRead,
    ProductUpdate,
    ReservationLine,
    ReservationResult,
    Shortage,
    StockItemCreate,
    StockItemRead,
    StockItemUpdate,
    StockLevel,
    StockValuation,
)

if TYPE_CHECKING:
    from ._tasks import ProductBroker, StockItemBroker


class ProductManager(
    LocalDataAccessManager[Product, ProductCreate, ProductUpdate, ProductRead]
):
    """Catalogue operations."""

    if TYPE_CHECKING:

        @property
        def broker(self) -> ProductBroker: ...

    async def find_by_sku(self, sku: str) -> ProductRead | None:
        """The product with this SKU, or None."""
        result = await self.session.exec(select(Product).where(Product.sku == sku))
        product = result.first()
        if product is None:
            return None
        return ProductRead.model_validate(product, from_attributes=True)

    async def reprice(
        self, product_id: UUID, new_price: Decimal, effective_at: datetime
    ) -> Product:
        """Set a product's unit price; ``effective_at`` must be timezone-aware."""
        if effective_at.tzinfo is None:
            raise ValueError("effective_at must be timezone-aware")
        if new_price < 0:
            raise ValueError(f"new_price must not be negative, got {new_price}")
        session = self.session
        product = await session.get(Product, product_id, with_for_update=True)
        if product is None:
            raise NotFoundError(
                f"Product {product_id} does not exist.",
                model_name="Product",
                item_id=product_id,
            )
        product.unit_price = new_price
        product.price_changed_at = effective_at
        await self._flush(session)
        return product

    async def set_status(self, product_ids: list[UUID], status: ProductStatus) -> int:
        """Set the status of several products at once; returns how many rows changed."""
        if not product_ids:
            return 0
        result = await self.session.exec(
            update(Product)
            .where(col(Product.id).in_(product_ids), col(Product.status) != status)
            .values(status=status)
        )
        return result.rowcount


class StockManager(
    LocalDataAccessManager[StockItem, StockItemCreate, StockItemUpdate, StockItemRead]
):
    """Stock levels per warehouse and product."""

    if TYPE_CHECKING:

        @property
        def broker(self) -> StockItemBroker: ...

    async def receive(self, delivery: Delivery) -> StockLevel:
        """Book a delivery in: adds ``delivery.quantity`` units to the stock item."""
        session = self.session
        result = await session.exec(
            select(StockItem)
            .where(
                StockItem.warehouse_id == delivery.warehouse_id,
                StockItem.product_id == delivery.product_id,
            )
            .with_for_update()
        )
        item = result.first()
        if item is None:
            item = StockItem(
                warehouse_id=delivery.warehouse_id, product_id=delivery.product_id
            )
            session.add(item)
        item.quantity += delivery.quantity
        item.updated_at = delivery.received_at
        await self._flush(session)
        return _level(item)

    async def reserve(
        self, warehouse_id: UUID, lines: list[ReservationLine]
    ) -> ReservationResult:
        """Reserve every line, or nothing when any line is short."""
        session = self.session
        wanted: dict[UUID, int] = {}
        for line in lines:
            wanted[line.product_id] = wanted.get(line.product_id, 0) + line.quantity
        result = await session.exec(
            select(StockItem)
            .where(
                StockItem.warehouse_id == warehouse_id,
                col(StockItem.product_id).in_(list(wanted)),
            )
            .with_for_update()
        )
        items = {item.product_id: item for item in result.all()}
        shortages: list[Shortage] = []
        for product_id, requested in sorted(wanted.items(), key=lambda kv: str(kv[0])):
            item = items.get(product_id)
            available = 0 if item is None else item.quantity - item.reserved
            if available < requested:
                shortages.append(
                    Shortage(
                        product_id=product_id,
                        requested=requested,
                        available=available,
                    )
                )
        if shortages:
            return ReservationResult(
                accepted=False, reserved_units=0, shortages=shortages
            )
        now = datetime.now(UTC)
        for product_id, requested in wanted.items():
            items[product_id].reserved += requested
            items[product_id].updated_at = now
        await self._flush(session)
        return ReservationResult(
            accepted=True, reserved_units=sum(wanted.values()), shortages=[]
        )

    async def stock_value(
        self, warehouse_id: UUID, *, include_discontinued: bool = False
    ) -> StockValuation:
        """Value of everything a warehouse holds, at current unit prices."""
        session = self.session
        query = (
            select(
                func.coalesce(func.sum(StockItem.quantity * Product.unit_price), 0),
                func.count(col(StockItem.id)),
            )
            .join(Product, col(Product.id) == col(StockItem.product_id))
            .where(StockItem.warehouse_id == warehouse_id)
        )
        if not include_discontinued:
            query = query.where(Product.status == ProductStatus.ACTIVE)
        total, lines = (await session.exec(query)).one()
        return StockValuation(
            warehouse_id=warehouse_id,
            total_value=Decimal(total).quantize(Decimal("0.01")),
            lines=int(lines),
            computed_at=datetime.now(UTC),
        )


def _level(item: StockItem) -> StockLevel:
    return StockLevel(
        warehouse_id=item.warehouse_id,
        product_id=item.product_id,
        quantity=item.quantity,
        reserved=item.reserved,
        available=item.quantity - item.reserved,
        updated_at=item.updated_at,
    )
