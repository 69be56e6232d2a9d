"""A generic intermediate manager: its methods use the base type variables."""

from __future__ import annotations

from uuid import UUID

from core_sdk.data_access import LocalDataAccessManager
from core_sdk.data_access.base import CreateT, ModelT, ReadT, UpdateT


class AuditedManager(LocalDataAccessManager[ModelT, CreateT, UpdateT, ReadT]):
    async def history(self, item_id: UUID, *, limit: int = 10) -> list[ModelT]:
        """Versions of a row (here: the row itself)."""
        row = await self.get(item_id)
        return [] if row is None else [row][:limit]

    async def snapshot(self, item: ModelT) -> ReadT | None:
        """The read schema of ``item``, when one is registered."""
        if self.read_schema_cls is None:
            return None
        return self.read_schema_cls.model_validate(item, from_attributes=True)
