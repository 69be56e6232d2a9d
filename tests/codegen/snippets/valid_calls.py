"""Calls that must type-check with zero errors (mypy --strict and pyright strict)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, Literal, assert_type
from uuid import UUID

from cg_shop._tasks import (
    CrateBroker,
    DataAccessManagerFactory,
    NoteManager,
    TrayManager,
    get_dam_factory,
)
from cg_shop.hidden import Receipt
from cg_shop.legacy import ShelfManager
from cg_shop.managers import CrateManager
from cg_shop.models import Crate, Note, Shelf, Tray, Unit
from cg_shop.schemas import Bundle, CrateCreate, CrateRead, Envelope, ShelfRead, TrayCreate, UserId

from core_sdk.data_access import Page, TaskHandle


async def every_operation(crate_id: UUID) -> None:
    factory: DataAccessManagerFactory = get_dam_factory()
    crates = factory.get_manager("Crate")
    assert_type(crates, CrateManager)
    broker = crates.broker
    assert_type(broker, CrateBroker)

    assert_type(await broker.get(crate_id), Crate | None)
    assert_type(await broker.get(crate_id, _broker_timeout=5), Crate | None)
    assert_type(await broker.list(limit=10, cursor=None), Page[Crate])
    assert_type(await broker.create(CrateCreate(label="a")), Crate)
    assert_type(await broker.create({"label": "a"}), Crate)
    assert_type(await broker.delete(crate_id), bool)
    assert_type(await broker.seal(crate_id), Crate)
    assert_type(await broker.seal(crate_id, "note", force=True), Crate)
    assert_type(await broker.receipt(crate_id), Receipt | None)
    assert_type(await broker.search(CrateManager.Filter(label="x")), list[CrateRead])
    assert_type(await broker.search(CrateManager.Filter(), mode="exact"), list[CrateRead])
    assert_type(await broker.weigh([crate_id], Unit.LB), Mapping[UUID, Decimal])
    assert_type(await broker.weigh((crate_id,)), Mapping[UUID, Decimal])
    moment = datetime(2024, 1, 1)
    stats = await broker.stats(moment, date(2024, 1, 1), time(12), timedelta(days=1))
    assert_type(stats, dict[str, float])
    tagged = await broker.tag({"a"}, frozenset({1}), (1, "x"), (1, 2, 3), ())
    assert_type(tagged, Iterable[str])
    assert_type(await broker.maybe(), None)
    assert_type(await broker.maybe(1, "two", None), None)
    assert_type(await broker.envelope(crate_id), Envelope[CrateRead])
    assert_type(await broker.measure(5, "label"), Decimal)
    assert_type(await broker.checked(3), int)
    assert_type(await broker.since(), bool)
    assert_type(await broker.since(moment, Decimal("1")), bool)
    assert_type(await broker.ping(), Literal["pong"])
    assert_type(await broker.raw(b"y", 1.5, flag=False), bytes)
    assert_type(await broker.part("sku"), Bundle.Part)
    assert_type(await broker.anything({"k": 1}), Any)
    assert_type(await broker.owner(UserId(7)), UserId)
    assert_type(await broker.history(crate_id, limit=3), list[Crate])
    assert_type(await broker.snapshot(Crate(label="x")), CrateRead | None)

    handle = await broker.kick.get(crate_id)
    assert_type(handle, TaskHandle[Crate | None])
    assert_type(await handle.result(timeout=5), Crate | None)
    assert_type(await handle.is_ready(), bool)
    sealing = await crates.broker.kick.seal(crate_id, force=True)
    assert_type(await sealing.result(), Crate)


async def default_managers(item_id: UUID) -> None:
    factory = DataAccessManagerFactory()
    trays = factory.get_manager("Tray")
    assert_type(trays, TrayManager)
    assert_type(await trays.broker.create(TrayCreate(slots=2)), Tray)
    assert_type(await trays.broker.get(item_id), Tray | None)
    notes = factory.get_manager("Note")
    assert_type(notes, NoteManager)
    assert_type(await notes.broker.create({"text": "hi"}), Note)
    shelves = factory.get_manager("Shelf")
    assert_type(shelves, ShelfManager)
    assert_type(await shelves.broker.rename(item_id, ["a"]), ShelfRead | None)
    assert_type(await shelves.broker.count([item_id]), int)
    assert_type(await shelves.broker.get(item_id), Shelf | None)


async def through_the_dam_class(manager: CrateManager, crate_id: UUID) -> Crate:
    """A variable annotated with the DAM class itself: its broker is typed (codemod)."""
    return await manager.broker.seal(crate_id, note="ok")
