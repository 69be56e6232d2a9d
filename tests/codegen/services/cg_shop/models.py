"""Table models (SQLModel)."""

from __future__ import annotations

import enum
from decimal import Decimal
from uuid import UUID, uuid4

from sqlmodel import Field, SQLModel


class CrateStatus(enum.StrEnum):
    OPEN = "open"
    SEALED = "sealed"


class Unit(enum.Enum):
    KG = "kg"
    LB = "lb"


class Crate(SQLModel, table=True):
    __tablename__ = "cg_crate"

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    label: str
    status: CrateStatus = CrateStatus.OPEN
    weight: Decimal = Field(default=Decimal("0"), max_digits=10, decimal_places=3)


class Shelf(SQLModel, table=True):
    __tablename__ = "cg_shelf"

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    name: str


class Note(SQLModel, table=True):
    __tablename__ = "cg_note"

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    text: str


class Tray(SQLModel, table=True):
    __tablename__ = "cg_tray"

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    slots: int = 0
