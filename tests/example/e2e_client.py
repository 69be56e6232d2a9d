"""Client side of the example's end-to-end test (run as a subprocess, cwd examples/warehouse).

Every call goes through the generated ``app/_tasks.py`` to a real ``taskiq worker`` over
Redis; each result is checked for its declared type. The FastAPI app is driven through
httpx's ASGI transport. Prints one ``ok <check>`` line per check and ``E2E OK`` at the end.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import httpx
from app import main as api
from app._tasks import DataAccessManagerFactory
from app.managers import ProductManager, StockManager
from app.models import Product, ProductStatus, Warehouse
from app.schemas import (
    Delivery,
    ProductRead,
    ReservationLine,
    ReservationResult,
    StockLevel,
    StockValuation,
    WarehouseCreate,
)

from core_sdk.config import get_settings
from core_sdk.data_access import LocalDataAccessManager, Page, TaskHandle
from core_sdk.db.session import close_db, create_db_and_tables, init_db
from core_sdk.exceptions import RemoteOperationError

TIMEOUT = 30.0  # the first call may wait for the worker's start-up


def ok(what: str) -> None:
    print(f"ok {what}", flush=True)


async def direct_calls(tag: str) -> None:
    factory = DataAccessManagerFactory()
    warehouses = factory.get_manager("Warehouse")
    products = factory.get_manager("Product")
    stock = factory.get_manager("StockItem")
    # WarehouseManager is the generated, typing-only view of the default manager.
    assert type(warehouses) is LocalDataAccessManager
    assert type(products) is ProductManager and type(stock) is StockManager

    depot = await warehouses.broker.create(
        WarehouseCreate(code=f"D{tag}", name="Depot"), _broker_timeout=TIMEOUT
    )
    assert type(depot) is Warehouse, type(depot)
    assert depot.created_at.tzinfo is not None
    ok("Warehouse.create -> Warehouse (default manager)")

    crate = await products.broker.create(
        {"sku": f"CRATE-{tag}", "name": "Crate", "unit_price": "12.50"}
    )
    assert type(crate) is Product and crate.unit_price == Decimal("12.50")
    ok("Product.create(dict) -> Product")

    # Decimal and tz-aware datetime (non-UTC offset, microseconds) cross exactly.
    effective_at = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=timezone(timedelta(hours=2)))
    repriced = await products.broker.reprice(
        crate.id, Decimal("13.75"), effective_at, _broker_timeout=10
    )
    assert type(repriced) is Product
    assert repriced.unit_price == Decimal("13.75") and isinstance(repriced.unit_price, Decimal)
    assert repriced.price_changed_at == effective_at
    assert repriced.price_changed_at is not None and repriced.price_changed_at.tzinfo is not None
    ok("Product.reprice(UUID, Decimal, datetime) -> Product")

    found = await products.broker.find_by_sku(f"CRATE-{tag}")
    assert type(found) is ProductRead and found.id == crate.id
    missing = await products.broker.find_by_sku(str(uuid.uuid4()))  # a UUID-looking str
    assert missing is None
    ok("Product.find_by_sku -> ProductRead | None")

    handle = await stock.broker.kick.receive(
        Delivery(warehouse_id=depot.id, product_id=crate.id, quantity=40, received_at=effective_at)
    )
    assert isinstance(handle, TaskHandle) and isinstance(handle.task_id, str)
    level = await handle.result(timeout=10)
    assert type(level) is StockLevel and level.available == 40
    assert level.updated_at == effective_at
    ok("StockItem.kick.receive(Delivery) -> TaskHandle[StockLevel]")

    reservation = await stock.broker.reserve(
        depot.id, [ReservationLine(product_id=crate.id, quantity=15)]
    )
    assert type(reservation) is ReservationResult and reservation.accepted
    short = await stock.broker.reserve(
        depot.id, [ReservationLine(product_id=crate.id, quantity=1000)]
    )
    assert not short.accepted and short.shortages[0].available == 25
    ok("StockItem.reserve(UUID, list[ReservationLine]) -> ReservationResult")

    valuation = await stock.broker.stock_value(depot.id)
    assert type(valuation) is StockValuation
    assert valuation.total_value == Decimal("550.00") and valuation.lines == 1
    ok("StockItem.stock_value(..., include_discontinued=False) -> StockValuation")

    changed = await products.broker.set_status([crate.id], ProductStatus.DISCONTINUED)
    assert type(changed) is int and changed == 1
    ok("Product.set_status(list[UUID], ProductStatus) -> int")

    page = await products.broker.list(filters={"sku": f"CRATE-{tag}"}, limit=5)
    assert isinstance(page, Page) and [type(item) for item in page.items] == [Product]
    assert await products.broker.get(uuid.uuid4()) is None
    ok("Product.list -> Page[Product], Product.get -> None")

    try:
        await products.broker.reprice(uuid.uuid4(), Decimal("1"), effective_at)
    except RemoteOperationError as exc:
        assert exc.remote_type == "NotFoundError", exc.remote_type
    else:
        raise AssertionError("reprice of a missing product did not raise")
    ok("remote NotFoundError -> RemoteOperationError")


async def http_calls(tag: str) -> None:
    transport = httpx.ASGITransport(app=api.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://warehouse") as client:
        response = await client.post("/warehouses", json={"code": f"H{tag}", "name": "Hub"})
        assert response.status_code == 201, response.text
        warehouse_id = response.json()["id"]
        response = await client.post(
            "/products",
            json={"sku": f"BOX-{tag}", "name": "Box", "unit_price": "2.40"},
        )
        assert response.status_code == 201, response.text
        product_id = response.json()["id"]
        ok("POST /warehouses, POST /products")

        response = await client.post(
            "/deliveries",
            json={
                "warehouse_id": warehouse_id,
                "product_id": product_id,
                "quantity": 10,
                "received_at": "2026-03-01T10:00:00.000001+01:00",
            },
        )
        assert response.status_code == 202, response.text
        assert isinstance(response.json()["task_id"], str)
        ok("POST /deliveries -> 202 with a task id (kicked)")

        response = await client.post(
            f"/products/{product_id}/price",
            json={"unit_price": "2.55", "effective_at": "2026-03-02T08:00:00+00:00"},
        )
        assert response.status_code == 200, response.text
        assert Decimal(response.json()["unit_price"]) == Decimal("2.55")
        ok("POST /products/{id}/price (waits with _broker_timeout)")

        # The kicked delivery is booked in by the worker; poll the valuation until it shows.
        for _ in range(100):
            response = await client.get(f"/warehouses/{warehouse_id}/valuation")
            assert response.status_code == 200, response.text
            if response.json()["lines"] == 1:
                break
            await asyncio.sleep(0.1)
        assert Decimal(response.json()["total_value"]) == Decimal("25.50"), response.json()
        ok("GET /warehouses/{id}/valuation")

        response = await client.get(f"/products/by-sku/NOPE-{tag}")
        assert response.status_code == 404
        ok("GET /products/by-sku/{sku} -> 404 for None")

        response = await client.post("/warehouses", json={"code": f"H{tag}", "name": "Again"})
        assert response.status_code == 409, response.text
        assert response.json()["error"] == "IntegrityViolationError"
        response = await client.post(
            f"/products/{uuid.uuid4()}/price",
            json={"unit_price": "1.00", "effective_at": "2026-03-02T08:00:00+00:00"},
        )
        assert response.status_code == 404, response.text
        ok("remote IntegrityViolationError -> 409, NotFoundError -> 404")


async def run() -> None:
    settings = get_settings()
    init_db(settings.DATABASE_URL)
    await create_db_and_tables()
    await close_db()  # the API process itself needs no database
    tag = uuid.uuid4().hex[:8].upper()
    async with api.app.router.lifespan_context(api.app):
        await direct_calls(tag)
        await http_calls(tag)
    print("E2E OK", flush=True)


if __name__ == "__main__":
    asyncio.run(run())
