from __future__ import annotations

import enum
from uuid import UUID, uuid4

from pydantic import Base64Bytes, BaseModel
from sqlmodel import Field, SQLModel


class Edge(SQLModel, table=True):
    __tablename__ = "cg_edge"

    id: UUID = Field(default_factory=uuid4, primary_key=True)


class Perm(enum.IntFlag):
    READ = 1
    WRITE = 2


class EdgeIn(BaseModel):
    name: str = ""


# member names that are not identifiers: ``Odd.a b`` cannot be written
Odd = enum.Enum("Odd", {"a b": 1, "class": 2, "ok": 3})

Raw = Base64Bytes  # bytes as base64 on the wire (plain bytes are refused)
