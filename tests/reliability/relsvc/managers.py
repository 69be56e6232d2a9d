from __future__ import annotations

import asyncio
import os

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert

from core_sdk.data_access import LocalDataAccessManager

from .models import RelAttempt, RelItem, RelItemCreate, RelItemRead, RelItemUpdate


class RelItemManager(LocalDataAccessManager[RelItem, RelItemCreate, RelItemUpdate, RelItemRead]):
    async def pid(self) -> int:
        """The worker process that ran the call (touches no database)."""
        return os.getpid()

    async def put(self, idempotency_key: str, tag: str, seconds: float = 0.0) -> int:
        """Sleep, then record one intended change idempotently; returns the worker's pid.

        At-least-once delivery may run this twice: the row is keyed by the caller's
        idempotency key, so a second run changes nothing (the README's pattern).
        """
        await asyncio.sleep(seconds)
        self.session.add(RelAttempt(idempotency_key=idempotency_key, tag=tag, pid=os.getpid()))
        await self.session.exec(
            insert(RelItem)
            .values(idempotency_key=idempotency_key, tag=tag, pid=os.getpid())
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
        )
        return os.getpid()

    async def write_then_fail(self, idempotency_key: str) -> None:
        """Writes a row, then raises: the transaction must be rolled back."""
        await self.put(idempotency_key, "fail")
        await self.session.flush()
        raise ValueError(f"failed after writing {idempotency_key}")

    async def write_then_sql_error(self, idempotency_key: str) -> None:
        """Writes a row, then PostgreSQL fails a statement (division by zero)."""
        await self.put(idempotency_key, "sql-error")
        await self.session.flush()
        await self.session.exec(text("SELECT 1 / 0"))

    async def write_then_lose_connection(self, idempotency_key: str) -> None:
        """Writes a row, then PostgreSQL kills this session's own connection."""
        await self.put(idempotency_key, "conn-lost")
        await self.session.flush()
        await self.session.exec(text("SELECT pg_terminate_backend(pg_backend_pid())"))
