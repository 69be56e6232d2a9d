"""Create the tables, then run a few operations through a worker; print typed results.

From ``examples/warehouse``, with a worker running (``taskiq worker app.worker:broker``)
and the same ``REDIS_URL`` / ``DATABASE_URL`` in the environment::

    python -m app.demo
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from decimal import Decimal

from core_sdk.broker.setup import get_broker
from core_sdk.config import get_settings
from core_sdk.db.session import close_db, create_db_and_tables, init_db

from ._tasks import DataAccessManagerFactory
from .models import ProductStatus
from .schemas import Delivery, ProductCreate, ReservationLine, WarehouseCreate


async def main() -> None:
    settings = get_settings()
    init_db(settings.DATABASE_URL, settings.engine_options())
    await create_db_and_tables()  # a demo shortcut; a real service uses migrations
    broker = get_broker()
    await broker.startup()
    try:
        factory = DataAccessManagerFactory()
        warehouses = factory.get_manager("Warehouse")
        products = factory.get_manager("Product")
        stock = factory.get_manager("StockItem")
        tag = uuid.uuid4().hex[:6].upper()

        depot = await warehouses.broker.create(
            WarehouseCreate(code=f"W-{tag}", name="North depot"), _broker_timeout=10
        )
        print(f"created   {type(depot).__name__} {depot.code} id={depot.id}")

        crate = await products.broker.create(
            ProductCreate(
                sku=f"CRATE-{tag}", name="Oak crate", unit_price=Decimal("12.50")
            )
        )
        repriced = await products.broker.reprice(
            crate.id, Decimal("13.75"), datetime.now(UTC), _broker_timeout=10
        )
        print(
            f"repriced  {type(repriced).__name__} {repriced.sku}: "
            f"{repriced.unit_price!r} at {repriced.price_changed_at!r}"
        )

        handle = await stock.broker.kick.receive(
            Delivery(
                warehouse_id=depot.id,
                product_id=crate.id,
                quantity=40,
                received_at=datetime.now(UTC),
            )
        )
        level = await handle.result(timeout=10)
        print(f"received  task {handle.task_id}: {type(level).__name__}", end=" ")
        print(f"{level.available} available")

        reservation = await stock.broker.reserve(
            depot.id, [ReservationLine(product_id=crate.id, quantity=15)]
        )
        print(f"reserved  {type(reservation).__name__} accepted={reservation.accepted}")

        valuation = await stock.broker.stock_value(depot.id)
        print(f"valuation {type(valuation).__name__} total={valuation.total_value!r}")

        changed = await products.broker.set_status(
            [crate.id], ProductStatus.DISCONTINUED
        )
        missing = await products.broker.find_by_sku(f"NOPE-{tag}")
        print(
            f"status    {changed} product(s) discontinued; unknown SKU -> {missing!r}"
        )
    finally:
        await broker.shutdown()
        await close_db()


if __name__ == "__main__":
    asyncio.run(main())
