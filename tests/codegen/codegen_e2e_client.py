"""Caller side of the generator's end-to-end test (run as a script next to ``cg_shop``).

Creates the fixture service's tables, waits for the worker, then calls generated methods and
checks that every result comes back as the declared type. Prints ``ok <n>`` on success.
Environment: ``DATABASE_URL`` and the ``REDIS_*`` names of the worker under test.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import cg_shop.registry_config  # noqa: F401
from cg_shop._tasks import CrateBroker, get_dam_factory
from cg_shop.hidden import Receipt
from cg_shop.managers import CrateManager
from cg_shop.models import Crate, Tray, Unit
from cg_shop.schemas import Bundle, CrateCreate, CrateRead, Envelope, TrayCreate, UserId

from core_sdk.broker.setup import get_broker
from core_sdk.config import get_settings
from core_sdk.db.session import close_db, create_db_and_tables, init_db
from core_sdk.exceptions import CoreSDKError, OperationTimeoutError

checks = 0


def check(value: Any, expected_type: Any, expected: Any = None) -> None:
    global checks
    if not isinstance(value, expected_type):
        raise AssertionError(f"{value!r} is a {type(value).__name__}, not {expected_type}")
    if expected is not None and value != expected:
        raise AssertionError(f"{value!r} != {expected!r}")
    checks += 1


async def wait_for_worker(broker: CrateBroker) -> None:
    for _ in range(100):
        try:
            await broker.ping(_broker_timeout=0.5)
            return
        except OperationTimeoutError:
            await asyncio.sleep(0.1)
    raise SystemExit("the worker never answered")


async def scenario() -> None:
    factory = get_dam_factory()
    crates = factory.get_manager("Crate")
    assert type(crates.broker) is CrateBroker  # registered by importing the generated module
    await wait_for_worker(crates.broker)

    check(await crates.broker.ping(), str, "pong")
    crate = await crates.broker.create(CrateCreate(label="oak", weight=Decimal("2.5")))
    check(crate, Crate)
    check(crate.id, UUID)
    check(crate.weight, Decimal, Decimal("2.5"))
    check(await crates.broker.get(crate.id), Crate)
    assert await crates.broker.get(uuid4()) is None
    page = await crates.broker.list(limit=5)
    check(page.items[0], Crate)
    sealed = await crates.broker.seal(crate.id, "note", force=True, _broker_timeout=10)
    check(sealed, Crate)
    receipt = await crates.broker.receipt(crate.id)  # type hidden under TYPE_CHECKING
    check(receipt, Receipt)
    check(await crates.broker.search(CrateManager.Filter(label="x"), mode="exact"), list)
    weights = await crates.broker.weigh([crate.id], Unit.LB)
    check(next(iter(weights.values())), Decimal, Decimal("1.5"))
    check(next(iter(weights)), UUID, crate.id)
    envelope = await crates.broker.envelope(crate.id)
    check(envelope, Envelope)
    check(envelope.item, CrateRead)
    check(envelope.sent_at, datetime)
    check(await crates.broker.measure(5, "x"), Decimal, Decimal("0.005"))
    check(await crates.broker.since(), bool, True)  # DAM_DEFAULT: the DAM's defaults apply
    assert await crates.broker.maybe() is None
    check(await crates.broker.raw(b"\xff\x00not utf-8"), bytes, b"\xff\x00not utf-8")
    check(await crates.broker.part("sku"), Bundle.Part)
    check(await crates.broker.owner(UserId(7)), int, 7)
    history = await crates.broker.history(crate.id)
    check(history[0], Crate)
    check(await crates.broker.snapshot(crate), CrateRead)

    handle = await crates.broker.kick.get(crate.id)
    check(await handle.result(timeout=10), Crate)

    trays = factory.get_manager("Tray")
    tray = await trays.broker.create(TrayCreate(slots=4))
    check(tray, Tray)
    check(tray.slots, int, 4)

    try:
        await crates.broker.seal(uuid4())
    except CoreSDKError as exc:  # the remote LookupError, with its type name kept
        check(exc, CoreSDKError)
        assert "LookupError" in str(exc), exc
    else:
        raise AssertionError("a remote exception must come back as a CoreSDKError")


async def main() -> None:
    settings = get_settings()
    init_db(settings.DATABASE_URL, settings.engine_options())
    await create_db_and_tables()
    broker = get_broker()
    await broker.startup()
    try:
        await scenario()
    finally:
        await broker.shutdown()
        await close_db()
    print(f"ok {checks}")


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
