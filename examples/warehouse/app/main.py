"""A small HTTP API for the warehouse (needs the ``fastapi`` extra).

Run it with ``uvicorn app.main:app`` from ``examples/warehouse``, next to a worker.
The API process needs Redis but no database: every endpoint sends its operation to a
worker through ``manager.broker.<method>(...)``, typed by the generated
``app/_tasks.py`` (importing it also imports ``app.registry_config``, which registers
the models).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from datetime import datetime
from decimal import Decimal
from typing import Annotated
from uuid import UUID

from core_sdk.broker.setup import get_broker
from core_sdk.exceptions import OperationTimeoutError, RemoteOperationError
from fastapi import Depends, FastAPI, HTTPException, Request, status
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel

from ._tasks import DataAccessManagerFactory, get_dam_factory
from .models import ProductStatus
from .schemas import (
    Delivery,
    ProductCreate,
    ProductRead,
    ReservationLine,
    ReservationResult,
    StockValuation,
    WarehouseCreate,
    WarehouseRead,
)

# How long an endpoint waits for the worker before answering 504.
OPERATION_TIMEOUT = 10.0


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncGenerator[None, None]:
    broker = get_broker()
    await broker.startup()
    try:
        yield
    finally:
        await broker.shutdown()


app = FastAPI(title="Warehouse example", lifespan=lifespan)

# Remote exceptions arrive as RemoteOperationError carrying the remote class name.
REMOTE_STATUS = {
    "NotFoundError": status.HTTP_404_NOT_FOUND,
    "IntegrityViolationError": status.HTTP_409_CONFLICT,
    "ValueError": 422,
}


@app.exception_handler(RemoteOperationError)
async def remote_error(_: Request, exc: RemoteOperationError) -> JSONResponse:
    code = REMOTE_STATUS.get(exc.remote_type, status.HTTP_500_INTERNAL_SERVER_ERROR)
    return JSONResponse({"detail": exc.message, "error": exc.remote_type}, code)


@app.exception_handler(OperationTimeoutError)
async def timeout_error(_: Request, exc: OperationTimeoutError) -> JSONResponse:
    return JSONResponse(
        {"detail": str(exc), "task_id": exc.task_id}, status.HTTP_504_GATEWAY_TIMEOUT
    )


# The generated factory: ``factory.get_manager("Product")`` is typed as ProductManager,
# so ``manager.broker.reprice(...)`` is checked against ProductManager.reprice.
Factory = Annotated[DataAccessManagerFactory, Depends(get_dam_factory)]


class RepriceRequest(BaseModel):
    unit_price: Decimal
    effective_at: AwareDatetime


class StatusRequest(BaseModel):
    product_ids: list[UUID]
    status: ProductStatus


class TaskAccepted(BaseModel):
    task_id: str


@app.post("/warehouses", status_code=status.HTTP_201_CREATED)
async def create_warehouse(body: WarehouseCreate, factory: Factory) -> WarehouseRead:
    manager = factory.get_manager("Warehouse")
    warehouse = await manager.broker.create(body, _broker_timeout=OPERATION_TIMEOUT)
    return WarehouseRead.model_validate(warehouse, from_attributes=True)


@app.post("/products", status_code=status.HTTP_201_CREATED)
async def create_product(body: ProductCreate, factory: Factory) -> ProductRead:
    manager = factory.get_manager("Product")
    product = await manager.broker.create(body, _broker_timeout=OPERATION_TIMEOUT)
    return ProductRead.model_validate(product, from_attributes=True)


@app.get("/products/by-sku/{sku}")
async def product_by_sku(sku: str, factory: Factory) -> ProductRead:
    manager = factory.get_manager("Product")
    product = await manager.broker.find_by_sku(sku, _broker_timeout=OPERATION_TIMEOUT)
    if product is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No product with SKU {sku!r}")
    return product


@app.post("/products/{product_id}/price")
async def reprice(
    product_id: UUID, body: RepriceRequest, factory: Factory
) -> ProductRead:
    """Waits for the worker (at most ``OPERATION_TIMEOUT`` seconds)."""
    manager = factory.get_manager("Product")
    product = await manager.broker.reprice(
        product_id,
        body.unit_price,
        body.effective_at,
        _broker_timeout=OPERATION_TIMEOUT,
    )
    return ProductRead.model_validate(product, from_attributes=True)


@app.post("/products/status")
async def set_status(body: StatusRequest, factory: Factory) -> dict[str, int]:
    manager = factory.get_manager("Product")
    changed = await manager.broker.set_status(
        body.product_ids, body.status, _broker_timeout=OPERATION_TIMEOUT
    )
    return {"changed": changed}


@app.post("/deliveries", status_code=status.HTTP_202_ACCEPTED)
async def receive_delivery(body: Delivery, factory: Factory) -> TaskAccepted:
    """Starts booking the delivery in and answers at once with the task id."""
    manager = factory.get_manager("StockItem")
    handle = await manager.broker.kick.receive(body)
    return TaskAccepted(task_id=handle.task_id)


@app.post("/warehouses/{warehouse_id}/reservations")
async def reserve(
    warehouse_id: UUID, lines: list[ReservationLine], factory: Factory
) -> ReservationResult:
    manager = factory.get_manager("StockItem")
    return await manager.broker.reserve(
        warehouse_id, lines, _broker_timeout=OPERATION_TIMEOUT
    )


@app.get("/warehouses/{warehouse_id}/valuation")
async def valuation(
    warehouse_id: UUID, factory: Factory, include_discontinued: bool = False
) -> StockValuation:
    manager = factory.get_manager("StockItem")
    return await manager.broker.stock_value(
        warehouse_id,
        include_discontinued=include_discontinued,
        _broker_timeout=OPERATION_TIMEOUT,
    )


@app.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok", "time": datetime.now().astimezone().isoformat()}
