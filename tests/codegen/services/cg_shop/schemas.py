"""Pydantic schemas, a generic envelope and a nested class."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Generic, NewType, TypeVar
from uuid import UUID

from pydantic import BaseModel

from .models import CrateStatus

ItemT = TypeVar("ItemT")
UserId = NewType("UserId", int)


class CrateCreate(BaseModel):
    label: str
    weight: Decimal = Decimal("0")


class CrateUpdate(BaseModel):
    label: str | None = None
    status: CrateStatus | None = None


class CrateRead(BaseModel):
    id: UUID
    label: str
    status: CrateStatus


class ShelfCreate(BaseModel):
    name: str


class ShelfUpdate(BaseModel):
    name: str | None = None


class ShelfRead(BaseModel):
    id: UUID
    name: str


class Envelope(BaseModel, Generic[ItemT]):
    """A generic pydantic model (like a page type)."""

    item: ItemT
    sent_at: datetime


class Bundle(BaseModel):
    class Part(BaseModel):
        """A nested class, referenced as ``Bundle.Part``."""

        sku: str
        count: int

    name: str


class TrayCreate(BaseModel):
    slots: int = 0


class TrayUpdate(BaseModel):
    slots: int | None = None


class TrayRead(BaseModel):
    id: UUID
    slots: int
