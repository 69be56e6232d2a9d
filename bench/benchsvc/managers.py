"""The benchmark DAM: a trivial operation and one that takes and returns a wide payload."""

from __future__ import annotations

from core_sdk.data_access import LocalDataAccessManager

from .models import BenchItem, BenchItemCreate, BenchItemRead, BenchItemUpdate, Wide, WideBatch


class BenchManager(
    LocalDataAccessManager[BenchItem, BenchItemCreate, BenchItemUpdate, BenchItemRead]
):
    async def ping(self) -> str:
        """Trivial operation: no arguments, a short string back, no database access."""
        return "pong"

    async def echo_wide(self, item: Wide, items: list[Wide]) -> WideBatch:
        """A 50-field model and a list of them in, the same back (validated both ways)."""
        return WideBatch(item=item, items=items)
