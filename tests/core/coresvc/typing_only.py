from __future__ import annotations

from pydantic import BaseModel


class OnlyForTyping(BaseModel):
    """Imported by managers.py only under TYPE_CHECKING: its hint cannot resolve at run time."""

    x: int
