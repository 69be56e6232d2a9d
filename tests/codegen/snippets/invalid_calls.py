"""The line after each ``# E:`` comment must fail with exactly the listed error codes."""

from __future__ import annotations

from uuid import UUID

from cg_shop._tasks import DataAccessManagerFactory
from cg_shop.managers import CrateManager
from cg_shop.models import Crate
from cg_shop.schemas import CrateCreate

factory = DataAccessManagerFactory()
crates = factory.get_manager("Crate")
trays = factory.get_manager("Tray")


async def unknown_method() -> None:
    # E: mypy[attr-defined] pyright[reportAttributeAccessIssue,reportUnknownMemberType]
    await crates.broker.nope()


async def wrong_argument_type() -> None:
    # E: mypy[arg-type] pyright[reportArgumentType]
    await crates.broker.get("not-a-uuid")


async def missing_argument() -> None:
    # E: mypy[call-arg] pyright[reportCallIssue]
    await crates.broker.get()


async def keyword_only_used_positionally() -> None:
    # E: mypy[call-arg] pyright[reportCallIssue]
    await crates.broker.list(None)


async def literal_outside_the_allowed_set() -> None:
    # E: mypy[arg-type] pyright[reportArgumentType]
    await crates.broker.search(CrateManager.Filter(), mode="bogus")


async def wrong_timeout_type(crate_id: UUID) -> None:
    # E: mypy[arg-type] pyright[reportArgumentType]
    await crates.broker.get(crate_id, _broker_timeout="5")


async def optional_result_to_non_optional(crate_id: UUID) -> Crate:
    # E: mypy[assignment] pyright[reportAssignmentType]
    found: Crate = await crates.broker.get(crate_id)
    return found


async def private_method() -> None:
    # E: mypy[attr-defined] pyright[reportAttributeAccessIssue,reportUnknownMemberType]
    await crates.broker._secret()


async def non_async_method() -> None:
    # E: mypy[attr-defined] pyright[reportAttributeAccessIssue,reportUnknownMemberType]
    await crates.broker.describe()


async def custom_method_on_default_manager(crate_id: UUID) -> None:
    # E: mypy[attr-defined] pyright[reportAttributeAccessIssue,reportUnknownMemberType]
    await trays.broker.seal(crate_id)


async def wrong_create_schema() -> None:
    # E: mypy[arg-type] pyright[reportArgumentType]
    await trays.broker.create(CrateCreate(label="x"))


def unknown_model_name() -> None:
    # E: mypy[call-overload] pyright[reportCallIssue,reportArgumentType]
    factory.get_manager("Nope")


async def handle_result_has_the_declared_type(crate_id: UUID) -> int:
    handle = await crates.broker.kick.get(crate_id)
    # E: mypy[assignment] pyright[reportAssignmentType]
    number: int = await handle.result()
    return number


async def through_the_dam_class(manager: CrateManager, crate_id: UUID) -> None:
    # E: mypy[arg-type] pyright[reportArgumentType]
    await manager.broker.seal(crate_id, note=3)


async def timeout_is_not_a_kick_parameter(crate_id: UUID) -> None:
    # E: mypy[call-arg] pyright[reportCallIssue]
    await crates.broker.kick.get(crate_id, _broker_timeout=1)
