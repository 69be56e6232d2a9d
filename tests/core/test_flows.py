"""End-to-end flows, each run twice: ENV=test InMemoryBroker, and Redis + a real taskiq worker."""

from __future__ import annotations

import asyncio
import math
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from coresvc.models import Depot, DepotRead, Parcel, Payload, Reading
from taskiq import AsyncBroker

from core_sdk.broker.client import call_operation
from core_sdk.data_access import DataAccessManagerFactory, Operation, TypedBrokerProxy
from core_sdk.exceptions import (
    ArgumentEncodingError,
    CoreSDKError,
    OperationTimeoutError,
    RemoteOperationError,
)


def depots() -> Any:
    return DataAccessManagerFactory().get_manager("depot")


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def test_method_changes_row_and_returns_declared_type(flow: AsyncBroker) -> None:
    manager = depots()
    created = await manager.create({"name": unique("before"), "city": "Lyon"})
    new_name = unique("after")

    renamed = await manager.broker.rename(created.id, new_name, _broker_timeout=10)

    assert type(renamed) is Depot
    assert isinstance(renamed.id, uuid.UUID) and renamed.id == created.id
    assert renamed.name == new_name and renamed.city == "Lyon"
    assert isinstance(renamed.created_at, datetime) and renamed.created_at.tzinfo is not None
    stored = await manager.get(created.id)
    assert stored is not None and stored.name == new_name

    read = await manager.broker.find_read(created.id, _broker_timeout=10)
    assert type(read) is DepotRead and read.name == new_name
    assert await manager.broker.find_read(uuid.uuid4(), _broker_timeout=10) is None


async def test_values_round_trip_exactly(flow: AsyncBroker) -> None:
    broker = depots().broker
    uuid_looking = str(uuid.uuid4())
    echoed = await broker.echo_str(uuid_looking, _broker_timeout=10)
    assert type(echoed) is str and echoed == uuid_looking

    moment = datetime(
        2024, 2, 29, 23, 59, 58, 123456, tzinfo=timezone(timedelta(hours=5, minutes=30))
    )
    back = await broker.echo_datetime(moment, _broker_timeout=10)
    assert back == moment and back.utcoffset() == moment.utcoffset()
    assert back.microsecond == 123456

    amount = Decimal("12345678901234567890.000100")
    exact = await broker.echo_decimal(amount, _broker_timeout=10)
    assert type(exact) is Decimal and str(exact) == str(amount)

    payload = Payload(
        id=uuid.uuid4(),
        code=str(uuid.uuid4()),
        when=moment,
        amount=Decimal("0.10"),
        tags=["a", "b"],
        counts={"x": 1, "y": 2},
    )
    payload_back = await broker.echo_payload(payload, _broker_timeout=10)
    assert type(payload_back) is Payload and payload_back == payload
    assert type(payload_back.code) is str and str(payload_back.amount) == "0.10"

    items = [{"a": Decimal("1.50")}, {}, {"b": Decimal("-0.000001")}]
    items_back = await broker.echo_list(items, _broker_timeout=10)
    assert items_back == items and [str(v) for d in items_back for v in d.values()] == [
        "1.50",
        "-0.000001",
    ]
    mapping = {"k": [uuid.uuid4(), uuid.uuid4()], "empty": []}
    assert await broker.echo_mapping(mapping, _broker_timeout=10) == mapping

    # non-finite floats inside models come back as themselves, not as null (nor refused)
    readings = [Reading(value=math.nan), Reading(value=-math.inf, note="low"), Reading(value=1.5)]
    back_readings = await broker.echo_readings(readings, _broker_timeout=10)
    assert math.isnan(back_readings[0].value) and back_readings[0].note is None
    assert back_readings[1:] == readings[1:]


async def test_positional_only_parameters(flow: AsyncBroker) -> None:
    broker = depots().broker
    assert await broker.positional(4, _broker_timeout=10) == 42
    assert await broker.positional(4, b=7, _broker_timeout=10) == 47


async def test_remote_exception_reaches_caller_and_worker_keeps_serving(flow: AsyncBroker) -> None:
    broker = depots().broker
    with pytest.raises(RemoteOperationError) as caught:
        await broker.boom("kaput 42", _broker_timeout=10)
    error = caught.value
    assert isinstance(error, CoreSDKError)
    assert error.remote_type == "ValueError" and error.message == "kaput 42"
    assert error.model_name == "Depot" and error.method_name == "boom"
    assert "Depot.boom" in str(error)
    assert await broker.ping(_broker_timeout=10) == "pong"


async def test_timeout_reaches_caller_and_worker_keeps_serving(flow: AsyncBroker) -> None:
    broker = depots().broker
    with pytest.raises(OperationTimeoutError) as caught:
        await broker.slow(3.0, _broker_timeout=0.3)
    assert isinstance(caught.value, TimeoutError) and isinstance(caught.value, CoreSDKError)
    assert "Depot.slow" in str(caught.value)
    assert await broker.ping(_broker_timeout=10) == "pong"


@pytest.mark.parametrize(
    ("model", "method", "expected"),
    [
        ("Depot", "_private", "Depot._private: private and dunder methods"),
        ("Depot", "__init__", "Depot.__init__: private and dunder methods"),
        ("Depot", "sync_helper", "Depot.sync_helper: it is not an async method"),
        ("Depot", "session", "Depot.session: it is not a public async method"),
        ("Depot", "nope", "Depot.nope: DepotManager has no such method"),
        ("Warehouse", "get", "Unknown model 'Warehouse'. Registered models: Depot, Parcel"),
    ],
)
async def test_refused_operations(
    flow: AsyncBroker, model: str, method: str, expected: str
) -> None:
    with pytest.raises(RemoteOperationError) as caught:
        await call_operation(model, method, [], {}, None, 10)
    assert caught.value.remote_type == "OperationRefusedError"
    assert expected in caught.value.message
    if model == "Depot":
        assert "Operations of Depot:" in caught.value.message and "rename" in caught.value.message
    assert await depots().broker.ping(_broker_timeout=10) == "pong"


async def test_dynamic_proxy_refuses_private_and_unknown_locally(flow: AsyncBroker) -> None:
    broker = depots().broker
    with pytest.raises(AttributeError, match="no operation '_private'"):
        broker._private  # noqa: B018
    with pytest.raises(AttributeError, match=r"no operation 'sync_helper'.*rename"):
        broker.sync_helper  # noqa: B018
    with pytest.raises(TypeError, match="missing a required argument: 'name'"):
        await broker.rename(uuid.uuid4())


async def test_unique_violation_rolls_back_the_whole_operation(flow: AsyncBroker) -> None:
    manager = depots()
    taken = unique("taken")
    await manager.create({"name": taken})
    fresh = unique("fresh")

    with pytest.raises(RemoteOperationError) as caught:
        await manager.broker.create_pair(fresh, taken, _broker_timeout=10)
    assert caught.value.remote_type == "IntegrityViolationError"
    assert "Depot: unique constraint 'coretest_depot_name_key' violated" in caught.value.message
    page = await manager.list(filters={"name": fresh})
    assert page.items == []  # the first insert of the same operation was rolled back

    with pytest.raises(RemoteOperationError, match="IntegrityViolationError"):
        await manager.broker.create({"name": taken}, _broker_timeout=10)
    assert len((await manager.list(filters={"name": taken})).items) == 1


async def test_local_dam_operations_through_the_broker(flow: AsyncBroker) -> None:
    manager = depots()
    city = unique("city")
    made = [
        await manager.broker.create(
            {"name": unique("d"), "city": city, "capacity": i}, _broker_timeout=10
        )
        for i in range(5)
    ]
    assert all(type(d) is Depot for d in made)
    seen: list[uuid.UUID] = []
    cursor = None
    while True:
        page = await manager.broker.list(
            filters={"city": city}, cursor=cursor, limit=2, _broker_timeout=10
        )
        assert all(type(item) is Depot for item in page.items)
        seen.extend(item.id for item in page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert sorted(seen) == sorted(d.id for d in made) and len(seen) == 5

    updated = await manager.broker.update(made[0].id, {"capacity": 99}, _broker_timeout=10)
    assert updated.capacity == 99 and updated.name == made[0].name
    assert await manager.broker.delete(made[1].id, _broker_timeout=10) is True
    assert await manager.broker.delete(made[1].id, _broker_timeout=10) is False
    with pytest.raises(RemoteOperationError) as caught:
        await manager.broker.update(uuid.uuid4(), {"capacity": 1}, _broker_timeout=10)
    assert caught.value.remote_type == "NotFoundError"


async def test_unresolvable_hint_degrades_to_plain_json(flow: AsyncBroker) -> None:
    result = await depots().broker.untyped_hint({"x": 5}, "7", _broker_timeout=10)
    # the TYPE_CHECKING-only hint travels as plain JSON; the resolvable one is still converted
    assert result == {"data": {"x": 5}, "n": 7, "n_type": "int"}


async def test_default_manager_model_through_the_broker(flow: AsyncBroker) -> None:
    depot = await depots().create({"name": unique("parcel-home")})
    parcels: Any = DataAccessManagerFactory().get_manager("Parcel")
    parcel = await parcels.broker.create(
        {"depot_id": depot.id, "weight": Decimal("1.234567"), "label": str(depot.id)},
        _broker_timeout=10,
    )
    assert type(parcel) is Parcel and type(parcel.depot_id) is uuid.UUID
    assert parcel.weight == Decimal("1.234567") and type(parcel.label) is str
    fetched = await parcels.broker.get(parcel.id, _broker_timeout=10)
    assert type(fetched) is Parcel and fetched.id == parcel.id

    with pytest.raises(RemoteOperationError) as caught:
        await parcels.broker.create(
            {"depot_id": uuid.uuid4(), "weight": Decimal("1")}, _broker_timeout=10
        )
    assert caught.value.remote_type == "IntegrityViolationError"
    assert "Parcel: foreign-key constraint 'coretest_parcel_depot_id_fkey'" in caught.value.message


async def test_many_concurrent_calls_each_get_their_own_result(flow: AsyncBroker) -> None:
    broker = depots().broker
    values = [f"{uuid.uuid4()}-{i}" for i in range(60)]
    results = await asyncio.gather(*(broker.echo_str(v, _broker_timeout=20) for v in values))
    assert results == values


def nested(depth: int) -> list[Any]:
    value: list[Any] = []
    for _ in range(depth):
        value = [value]
    return value


async def test_unencodable_arguments_are_argument_encoding_errors(flow: AsyncBroker) -> None:
    # the raw path: JSON-ready arguments that JSON cannot carry (used to be reported as
    # BrokerConnectionError "Could not send ... to the broker")
    for value in ("lone \ud800 surrogate", nested(2000)):
        with pytest.raises(ArgumentEncodingError, match=r"Depot\.echo_str: the call cannot be"):
            await call_operation("Depot", "echo_str", [], {"value": value}, None, 10)
    # the typed path (used to be a bare ValueError for deep nesting)
    op = Operation[Any]("Depot", "echo_str", None, {"value": Any}, Any)
    with pytest.raises(ArgumentEncodingError, match=r"Depot\.echo_str\(value\): list value"):
        await TypedBrokerProxy()._call(op, (), {"value": nested(2000)}, 10)
    with pytest.raises(ArgumentEncodingError, match="cannot be encoded as JSON"):
        await depots().broker.echo_str("lone \ud800 surrogate", _broker_timeout=10)
    assert await depots().broker.ping(_broker_timeout=10) == "pong"


async def test_result_of_the_wrong_type_is_a_result_encoding_error(flow: AsyncBroker) -> None:
    name = unique("wrong-return")
    with pytest.raises(RemoteOperationError) as caught:
        await depots().broker.create_then_return_wrong_type(name, _broker_timeout=10)
    assert caught.value.remote_type == "ResultEncodingError"
    assert caught.value.message.startswith(
        "Depot.create_then_return_wrong_type return value: str value does not match the "
        "declared type int"
    )
    assert (await depots().list(filters={"name": name})).items == []  # rolled back
