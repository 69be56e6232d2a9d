"""The custom manager: one method per type form (dam-codegen fixture)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Literal, Optional, Union
from uuid import UUID

from annotated_types import Gt
from pydantic import AfterValidator, Base64Bytes, BaseModel, Field

from .base import AuditedManager
from .models import Crate, CrateStatus, Unit
from .schemas import Bundle, CrateCreate, CrateRead, CrateUpdate, Envelope, UserId

if TYPE_CHECKING:
    from .hidden import Receipt

EPOCH = datetime(2020, 1, 1)


def _positive(value: int) -> int:
    if value <= 0:
        raise ValueError("must be positive")
    return value


class CrateManager(AuditedManager[Crate, CrateCreate, CrateUpdate, CrateRead]):
    """Crates: every operation below is typed on the generated proxy."""

    class Filter(BaseModel):
        label: str | None = None

    async def seal(self, crate_id: UUID, /, note: str = "", *, force: bool = False) -> Crate:
        """Seal a crate (positional-only id, a default, a keyword-only flag)."""
        crate = await self.get(crate_id)
        if crate is None:
            raise LookupError(crate_id)
        return crate

    async def receipt(self, crate_id: UUID) -> Receipt | None:
        """A type imported only under TYPE_CHECKING."""
        from .hidden import Receipt

        return Receipt(crate_id=crate_id, total=3)

    async def search(
        self, query: Filter, mode: Literal["fast", "exact"] = "fast"
    ) -> list[CrateRead]:
        """A nested class and a Literal with a default."""
        return []

    async def weigh(self, ids: Sequence[UUID], unit: Unit = Unit.KG) -> Mapping[UUID, Decimal]:
        """An enum default; collections.abc types."""
        return {item: Decimal("1.5") for item in ids}

    async def stats(
        self, since: datetime, day: date, at: time, window: timedelta
    ) -> dict[str, float]:
        """datetime, date, time, timedelta."""
        return {"days": window.total_seconds() / 86400}

    async def tag(
        self,
        tags: set[str],
        frozen: frozenset[int],
        pair: tuple[int, str],
        many: tuple[int, ...],
        nothing: tuple[()],
    ) -> Iterable[str]:
        """set, frozenset, fixed and variadic tuples."""
        return sorted(tags)

    async def maybe(
        self,
        first: Optional[int] = None,  # noqa: UP045
        second: Union[int, str] = 0,  # noqa: UP007
        third: int | None = None,
    ) -> None:
        """Optional, Union and X | Y."""

    async def envelope(self, crate_id: UUID) -> Envelope[CrateRead]:
        """A generic pydantic model."""
        return Envelope[CrateRead](
            item=CrateRead(id=crate_id, label="x", status=CrateStatus.OPEN), sent_at=EPOCH
        )

    async def measure(
        self,
        grams: Annotated[int, Gt(0)],
        label: Annotated[str, Field(max_length=20)] = "",
    ) -> Annotated[Decimal, "kilograms"]:
        """Annotated metadata that can be written as source is kept."""
        return Decimal(grams) / 1000

    async def checked(self, value: Annotated[int, AfterValidator(_positive)]) -> int:
        """Annotated metadata that cannot be written as source is dropped (with a note)."""
        return value

    async def since(self, when: datetime = EPOCH, floor: Decimal = Decimal("0.5")) -> bool:
        """Defaults that are not literals: the proxy leaves them to the DAM (DAM_DEFAULT)."""
        return when >= EPOCH and floor >= 0

    async def ping(self) -> Literal["pong"]:
        return "pong"

    async def raw(
        self, payload: Base64Bytes = b"x", ratio: float = 0.5, flag: bool = True
    ) -> Base64Bytes:
        """Bytes go as base64 (plain bytes are refused: JSON carries them as UTF-8 text)."""
        return payload

    async def part(self, sku: str) -> Bundle.Part:
        """A nested class of another module."""
        return Bundle.Part(sku=sku, count=1)

    async def anything(self, data: dict[str, Any]) -> Any:
        """An explicit Any is kept (it is not a silent one)."""
        return data

    async def owner(self, uid: UserId) -> UserId:
        """A NewType."""
        return uid

    async def recheck(self, crate_id: UUID) -> bool:
        """Calls another operation through its own broker (typed by the codemod)."""
        crate = await self.broker.get(crate_id)
        return crate is not None

    def describe(self) -> str:
        """Not async: not an operation (reported as skipped)."""
        return "crates"

    async def _secret(self) -> None:
        """Private: not an operation."""

    @property
    def size(self) -> int:
        return 0

    @classmethod
    async def build(cls) -> int:
        return 0

    @staticmethod
    async def helper() -> int:
        return 0
