"""Models of the benchmark service: a table for the registry and a 50-field payload."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID, uuid4

from pydantic import BaseModel
from sqlmodel import Field, SQLModel


class BenchItem(SQLModel, table=True):
    __tablename__ = "bench_item"

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    name: str = ""


class BenchItemCreate(SQLModel):
    name: str = ""


class BenchItemUpdate(SQLModel):
    name: str | None = None


class BenchItemRead(SQLModel):
    id: UUID
    name: str


class Wide(BaseModel):
    """50 fields of the usual kinds (text, numbers, flags, timestamps, ids, money, lists)."""

    f00: str
    f01: str
    f02: str
    f03: str
    f04: str
    f05: str
    f06: str
    f07: str
    f08: str
    f09: str
    f10: int
    f11: int
    f12: int
    f13: int
    f14: int
    f15: int
    f16: int
    f17: int
    f18: float
    f19: float
    f20: float
    f21: float
    f22: float
    f23: float
    f24: float
    f25: float
    f26: bool
    f27: bool
    f28: bool
    f29: bool
    f30: datetime
    f31: datetime
    f32: datetime
    f33: datetime
    f34: UUID
    f35: UUID
    f36: UUID
    f37: UUID
    f38: Decimal
    f39: Decimal
    f40: Decimal
    f41: Decimal
    f42: str | None
    f43: str | None
    f44: str | None
    f45: list[int]
    f46: list[int]
    f47: list[int]
    f48: date
    f49: date


class WideBatch(BaseModel):
    """One wide model and a list of them (the wide operation's argument and result)."""

    item: Wide
    items: list[Wide]


def sample_wide() -> Wide:
    """A fully populated :class:`Wide`."""
    return Wide(
        f00="text-0",
        f01="text-1",
        f02="text-2",
        f03="text-3",
        f04="text-4",
        f05="text-5",
        f06="text-6",
        f07="text-7",
        f08="text-8",
        f09="text-9",
        f10=10,
        f11=11,
        f12=12,
        f13=13,
        f14=14,
        f15=15,
        f16=16,
        f17=17,
        f18=18.5,
        f19=19.5,
        f20=20.5,
        f21=21.5,
        f22=22.5,
        f23=23.5,
        f24=24.5,
        f25=25.5,
        f26=True,
        f27=True,
        f28=True,
        f29=True,
        f30=datetime(2026, 1, 1, 12, 0, 30, tzinfo=UTC),
        f31=datetime(2026, 1, 1, 12, 0, 31, tzinfo=UTC),
        f32=datetime(2026, 1, 1, 12, 0, 32, tzinfo=UTC),
        f33=datetime(2026, 1, 1, 12, 0, 33, tzinfo=UTC),
        f34=UUID(int=34),
        f35=UUID(int=35),
        f36=UUID(int=36),
        f37=UUID(int=37),
        f38=Decimal("38.25"),
        f39=Decimal("39.25"),
        f40=Decimal("40.25"),
        f41=Decimal("41.25"),
        f42="maybe-42",
        f43="maybe-43",
        f44="maybe-44",
        f45=[45, 45, 45],
        f46=[46, 46, 46],
        f47=[47, 47, 47],
        f48=date(2026, 1, 1),
        f49=date(2026, 1, 1),
    )


def sample_batch(count: int = 100) -> WideBatch:
    """One wide model plus a list of ``count`` of them."""
    item = sample_wide()
    return WideBatch(item=item, items=[item.model_copy() for _ in range(count)])
