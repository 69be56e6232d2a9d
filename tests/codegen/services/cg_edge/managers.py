"""Signatures at the edges of what the generator can render."""

from __future__ import annotations

from decimal import Decimal

from core_sdk.data_access import LocalDataAccessManager

from .models import Edge, EdgeIn, Odd, Perm, Raw

HALF = Decimal("0.5")
LONG = "x" * 100
SIZES = tuple(range(30))


class EdgeManager(LocalDataAccessManager[Edge, EdgeIn, EdgeIn, EdgeIn]):
    async def flags(self, perm: Perm = Perm.READ | Perm.WRITE) -> int:
        """A composite flag default is not a member: DAM_DEFAULT."""
        return int(perm)

    async def odd(self, value: Odd = Odd["a b"]) -> Odd:
        """An enum member whose name is not an identifier: DAM_DEFAULT."""
        return value

    async def float(self) -> int:
        """Named like the builtin of ``_broker_timeout: float``."""
        return 1

    async def builtins(self, ids: list[int]) -> int:
        """Named like the module that spells the shadowed ``list``."""
        return len(ids)

    async def posonly(self, a: Decimal = HALF, b: int = 1, /) -> int:
        """``b`` follows a DAM_DEFAULT positional-only one: DAM_DEFAULT."""
        return int(a) + b

    async def quotes(self, raw: Raw = b"'\"") -> int:
        """A bytes default with both quotes, as ruff format writes it."""
        return len(raw)

    async def l(self, l: int, O: int = 0) -> int:  # noqa: E741, E743
        """Ambiguous names (E741/E743): the module exempts itself from them."""
        return l + O

    async def long_default(self, text: str = LONG) -> str:
        """A default longer than a line: DAM_DEFAULT."""
        return text

    async def long_tuple(self, sizes: tuple[int, ...] = SIZES) -> int:
        """A tuple default longer than a line: DAM_DEFAULT."""
        return len(sizes)

    async def long_name(
        self,
        a_parameter_name_that_is_long_enough_to_overflow: int,
    ) -> int:
        """``"name": name`` cannot be split: ``# noqa: E501``."""
        return a_parameter_name_that_is_long_enough_to_overflow
