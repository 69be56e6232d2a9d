from __future__ import annotations

import asyncio
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from core_sdk.data_access import LocalDataAccessManager
from core_sdk.exceptions import NotFoundError

from .models import Depot, DepotCreate, DepotRead, DepotUpdate, Payload, Reading

if TYPE_CHECKING:
    from .typing_only import OnlyForTyping


class DepotManager(LocalDataAccessManager[Depot, DepotCreate, DepotUpdate, DepotRead]):
    async def ping(self) -> str:
        return "pong"

    async def rename(self, depot_id: UUID, name: str) -> Depot:
        depot = await self.session.get(Depot, depot_id)
        if depot is None:
            raise NotFoundError(f"Depot {depot_id} does not exist")
        depot.name = name
        self.session.add(depot)
        await self.session.flush()
        return depot

    async def find_read(self, depot_id: UUID) -> DepotRead | None:
        depot = await self.get(depot_id)
        return DepotRead.model_validate(depot) if depot is not None else None

    async def echo_str(self, value: str) -> str:
        assert isinstance(value, str), type(value)
        return value

    async def echo_datetime(self, value: datetime) -> datetime:
        assert isinstance(value, datetime)
        return value

    async def echo_decimal(self, value: Decimal) -> Decimal:
        assert isinstance(value, Decimal)
        return value

    async def echo_payload(self, payload: Payload) -> Payload:
        assert isinstance(payload, Payload)
        return payload

    async def echo_readings(self, readings: list[Reading]) -> list[Reading]:
        assert all(isinstance(reading, Reading) for reading in readings)
        return readings

    async def echo_list(self, items: list[dict[str, Decimal]]) -> list[dict[str, Decimal]]:
        assert all(isinstance(v, Decimal) for item in items for v in item.values())
        return items

    async def echo_mapping(self, mapping: dict[str, list[UUID]]) -> dict[str, list[UUID]]:
        assert all(isinstance(v, UUID) for values in mapping.values() for v in values)
        return mapping

    async def positional(self, a: int, /, b: int = 2) -> int:
        return a * 10 + b

    async def untyped_hint(self, data: OnlyForTyping, n: int) -> dict[str, Any]:
        return {"data": data, "n": n, "n_type": type(n).__name__}

    async def boom(self, message: str) -> None:
        raise ValueError(message)

    async def slow(self, seconds: float) -> str:
        await asyncio.sleep(seconds)
        return "done"

    async def record_run(self, tag: str, seconds: float) -> str:
        """Sleeps, then records one execution (a row with city == tag)."""
        await asyncio.sleep(seconds)
        await self.create({"name": f"{tag}-{uuid4().hex[:12]}", "city": tag})
        return tag

    async def create_pair(self, first: str, second: str) -> list[Depot]:
        """Two inserts in one operation: a failure of the second must undo the first."""
        one = await self.create({"name": first})
        two = await self.create(DepotCreate(name=second))
        return [one, two]

    async def create_then_return_wrong_type(self, name: str) -> int:
        """Inserts a row, then returns a value that does not match its declared type."""
        await self.create({"name": name})
        return name  # type: ignore[return-value]

    async def write_then_hang(self, name: str) -> None:
        """Inserts a row, then never returns (only cancellation ends it)."""
        await self.create({"name": name})
        await self.session.flush()
        await asyncio.Event().wait()

    async def _private(self) -> str:
        return "secret"

    def sync_helper(self) -> str:
        return "not an operation"
