from __future__ import annotations

from uuid import UUID, uuid4

from pydantic import BaseModel
from sqlmodel import Field, SQLModel


class Thing(SQLModel, table=True):
    __tablename__ = "cg_thing"

    id: UUID = Field(default_factory=uuid4, primary_key=True)


class Box(SQLModel, table=True):
    __tablename__ = "cg_box"

    id: UUID = Field(default_factory=uuid4, primary_key=True)


class Plain(BaseModel):
    id: UUID
