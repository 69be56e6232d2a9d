"""A manager module without ``from __future__ import annotations`` (runtime annotations)."""

import typing
from typing import List, Optional  # noqa: UP035
from uuid import UUID

from core_sdk.data_access import LocalDataAccessManager

from .models import Shelf
from .schemas import ShelfCreate, ShelfRead, ShelfUpdate


class ShelfManager(LocalDataAccessManager[Shelf, ShelfCreate, ShelfUpdate, ShelfRead]):
    async def rename(self, shelf_id: UUID, names: List[str]) -> Optional["ShelfRead"]:  # noqa: UP006
        """typing.List, Optional and a string forward reference."""
        return None

    async def count(self, ids: typing.Sequence[UUID]) -> int:
        return len(ids)
