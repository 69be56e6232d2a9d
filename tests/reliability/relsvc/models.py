from __future__ import annotations

from uuid import UUID, uuid4

from sqlmodel import Field, SQLModel


class RelItem(SQLModel, table=True):
    """One intended database change, keyed by the caller's idempotency key."""

    __tablename__ = "rel_item"

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    idempotency_key: str = Field(unique=True)
    tag: str = Field(index=True)
    pid: int = 0


class RelAttempt(SQLModel, table=True):
    """One committed execution of ``RelItemManager.put`` (duplicates show redeliveries)."""

    __tablename__ = "rel_attempt"

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    idempotency_key: str = Field(index=True)
    tag: str = Field(index=True)
    pid: int = 0


class RelItemCreate(SQLModel):
    idempotency_key: str
    tag: str
    pid: int = 0


class RelItemUpdate(SQLModel):
    tag: str | None = None


class RelItemRead(SQLModel):
    id: UUID
    idempotency_key: str
    tag: str
    pid: int
