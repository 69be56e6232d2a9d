from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from uuid import UUID, uuid4

from pydantic import BaseModel
from sqlalchemy import DateTime
from sqlmodel import Field, SQLModel


class Depot(SQLModel, table=True):
    __tablename__ = "coretest_depot"

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    name: str = Field(unique=True)
    city: str = "nowhere"
    capacity: int = 0
    created_at: datetime = Field(
        default_factory=lambda: datetime.now(UTC), sa_type=DateTime(timezone=True)
    )


class DepotCreate(SQLModel):
    name: str
    city: str = "nowhere"
    capacity: int = 0


class DepotUpdate(SQLModel):
    name: str | None = None
    city: str | None = None
    capacity: int | None = None


class DepotRead(SQLModel):
    id: UUID
    name: str
    city: str
    capacity: int


class Parcel(SQLModel, table=True):
    __tablename__ = "coretest_parcel"

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    depot_id: UUID = Field(foreign_key="coretest_depot.id")
    weight: Decimal = Field(default=Decimal("0"), max_digits=14, decimal_places=6)
    label: str = ""


class ParcelCreate(SQLModel):
    depot_id: UUID
    weight: Decimal
    label: str = ""


class ParcelRead(SQLModel):
    id: UUID
    depot_id: UUID
    weight: Decimal
    label: str


class Reading(BaseModel):
    value: float
    note: str | None = None


class Payload(BaseModel):
    id: UUID
    code: str
    when: datetime
    amount: Decimal
    tags: list[str]
    counts: dict[str, int]
