"""Imported by managers.py only under TYPE_CHECKING."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel


class Receipt(BaseModel):
    crate_id: UUID
    total: int
