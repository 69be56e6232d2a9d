from __future__ import annotations

from uuid import UUID, uuid4

from sqlmodel import Field, SQLModel


class Gadget(SQLModel, table=True):
    __tablename__ = "cg_gadget"

    id: UUID = Field(default_factory=uuid4, primary_key=True)
    name: str
    price: int = 0


class Widget(SQLModel, table=True):
    __tablename__ = "cg_widget"

    id: UUID = Field(default_factory=uuid4, primary_key=True)
