# ruff: noqa
# mypy: ignore-errors
# Every line marked "error:" below must be reported by dam-codegen with this file:line.
from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import TYPE_CHECKING, Literal, Self, TypeVar, overload

from pydantic import BaseModel

from core_sdk.data_access import LocalDataAccessManager

from .models import Thing

if TYPE_CHECKING:
    from .nowhere import Ghost

T = TypeVar("T")
Odd = Enum("Odd", {"a b": 1, "class": 2})


def _make() -> type[BaseModel]:
    class Local(BaseModel):
        x: int

    return Local


Local = _make()


class ThingManager(LocalDataAccessManager):
    async def star(self, *ids: int) -> None:  # error: *ids is not supported
        pass

    async def keywords(self, **extra: int) -> None:  # error: **extra is not supported
        pass

    async def timeout(self, _broker_timeout: float) -> None:  # error: reserved
        pass

    async def untyped(self, value) -> None:  # error: has no type annotation
        pass

    async def no_return(self, value: int):  # error: the return type is not annotated
        pass

    async def typo(self, value: Strr) -> None:  # error: name 'Strr' is not defined
        pass

    async def ghost(self, value: Ghost) -> None:  # error: imported under TYPE_CHECKING but
        pass

    async def generic(self, value: T) -> T:  # error: type variable T
        return value

    async def bare(self, values: list) -> None:  # error: has no type arguments
        pass

    async def callback(self, fn: Callable[[int], int]) -> None:  # error: callables
        pass

    async def me(self) -> Self:  # error: Self cannot be expressed
        return self

    async def local(self) -> Local:  # error: is defined inside a function
        return Local(x=1)

    async def bad_default(self, value: int = None) -> None:  # error: the default is None
        pass

    async def kick(self) -> None:  # error: collides with the generated proxy's own 'kick'
        pass

    async def odd(self) -> Literal[Odd["class"]]:  # error: enum member name 'class' is not
        return Odd["class"]

    async def blob(self, data: bytes) -> None:  # error: bytes cannot be sent faithfully
        pass

    async def klass(self, kind: type[BaseModel]) -> None:  # error: classes (type[...])
        pass

    async def ThingKicker(self) -> None:  # error: named like the generated class ThingKicker
        pass

    @overload
    async def over(self, x: int) -> int: ...  # error: is overloaded (@overload)
    @overload
    async def over(self, x: str) -> str: ...
    async def over(self, x: int | str) -> int | str:
        return x

    async def box_open(self) -> None:
        pass


class BoxManager(LocalDataAccessManager):
    async def open(self) -> None:  # error: generated name _THING_BOX_OPEN
        pass


class ThingOnlyManager(LocalDataAccessManager[Thing, BaseModel, BaseModel, BaseModel]):
    async def ping(self) -> None:
        pass
