from __future__ import annotations

from uuid import UUID

from core_sdk.data_access import LocalDataAccessManager
from core_sdk.data_access.base import CreateT, ModelT, ReadT, UpdateT

from ..shared import GadgetCreate, Money
from .models import Gadget


class GadgetManager(LocalDataAccessManager[Gadget, GadgetCreate, GadgetCreate, Money]):
    # a comment that must survive the codemod
    async def price(self, gadget_id: UUID) -> Money:  # trailing comment
        """The price of a gadget."""
        gadget = await self.get(gadget_id)
        return Money(amount=0 if gadget is None else gadget.price)


class TrackedManager(LocalDataAccessManager[ModelT, CreateT, UpdateT, ReadT]):
    """A generic manager: the generator types it through a generated view class."""

    async def touch(self, item_id: UUID) -> ModelT | None:
        return await self.get(item_id)
