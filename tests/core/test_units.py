"""Settings, broker selection, registry, codec, worker setup, LocalDataAccessManager details."""

from __future__ import annotations

import logging
import math
import sys
import textwrap
import types
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import httpx
import pytest
from coresvc.managers import DepotManager
from coresvc.models import Depot, DepotUpdate, Parcel
from fastapi import Depends, FastAPI
from sqlalchemy import event
from taskiq import InMemoryBroker
from taskiq.message import TaskiqMessage

from core_sdk.broker.codec import decode, encode
from core_sdk.broker.formatter import JSONOnlyFormatter
from core_sdk.broker.operations import runtime_operation
from core_sdk.broker.result_backend import InMemoryJSONResultBackend, RedisJSONResultBackend
from core_sdk.broker.setup import build_broker, set_broker
from core_sdk.broker.stream import DAMRedisStreamBroker
from core_sdk.config import BaseAppSettings
from core_sdk.data_access import (
    DataAccessManagerFactory,
    LocalDataAccessManager,
    Page,
    get_dam_factory,
)
from core_sdk.data_access.base import BaseDataAccessManager
from core_sdk.db.session import get_engine, init_db, managed_session
from core_sdk.exceptions import (
    ConfigurationError,
    IntegrityViolationError,
    InvalidQueryError,
    NotFoundError,
    PayloadTooLargeError,
)
from core_sdk.registry import ModelRegistry
from core_sdk.worker_setup import import_registry_config, initialize_worker_context

# -- settings ------------------------------------------------------------------------------


def test_malformed_setting_names_the_variable_without_echoing_urls(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REDIS_URL", "localhost:6379 with secret")
    monkeypatch.setenv("DB_POOL_SIZE", "many")
    with pytest.raises(ConfigurationError) as caught:
        BaseAppSettings()
    message = str(caught.value)
    assert "REDIS_URL" in message and "DB_POOL_SIZE" in message and "'many'" in message
    assert "secret" not in message


def test_settings_defaults_aliases_and_unknown_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENV", "Production")
    monkeypatch.setenv("SOMETHING_UNRELATED", "x")
    monkeypatch.delenv("REDIS_URL", raising=False)
    settings = BaseAppSettings()
    assert settings.ENV == "prod" and settings.REDIS_URL is None
    assert settings.BROKER_TIMEOUT_SECONDS == 30 and settings.RESULT_TTL_SECONDS == 3600
    assert settings.OPERATION_TIMEOUT_SECONDS == 3600


# -- broker selection ------------------------------------------------------------------------


def test_env_test_selects_inmemory_broker() -> None:
    broker = build_broker(BaseAppSettings(ENV="test", REDIS_URL="redis://127.0.0.1:6379/0"))
    assert isinstance(broker, InMemoryBroker)
    assert isinstance(broker.result_backend, InMemoryJSONResultBackend)
    assert isinstance(broker.formatter, JSONOnlyFormatter)


def test_no_redis_url_falls_back_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="core_sdk.broker"):
        broker = build_broker(BaseAppSettings(ENV="dev", REDIS_URL=None))
    assert isinstance(broker, InMemoryBroker)
    assert "REDIS_URL is not set" in caplog.text


def test_unreachable_redis_fails_in_prod_and_falls_back_elsewhere(
    caplog: pytest.LogCaptureFixture,
) -> None:
    unreachable = "redis://127.0.0.1:1/0"
    with pytest.raises(ConfigurationError, match="Redis is unreachable"):
        build_broker(BaseAppSettings(ENV="prod", REDIS_URL=unreachable))
    with caplog.at_level(logging.WARNING, logger="core_sdk.broker"):
        broker = build_broker(BaseAppSettings(ENV="dev", REDIS_URL=unreachable))
    assert isinstance(broker, InMemoryBroker)
    assert "unreachable" in caplog.text


def test_reachable_redis_selects_stream_broker_with_json_backend(redis_names: Any) -> None:
    broker = build_broker(
        BaseAppSettings(ENV="prod", REDIS_URL=redis_names.url, RESULT_TTL_SECONDS=120)
    )
    assert isinstance(broker, DAMRedisStreamBroker)
    assert isinstance(broker.result_backend, RedisJSONResultBackend)
    assert broker.result_backend.ttl_seconds == 120
    assert isinstance(broker.formatter, JSONOnlyFormatter)


def test_formatter_writes_json_and_enforces_the_size_limit() -> None:
    formatter = JSONOnlyFormatter(max_message_bytes=2048)
    message = TaskiqMessage(
        task_id="t1", task_name="x", labels={}, args=[1, "a"], kwargs={"k": [True, None]}
    )
    encoded = formatter.dumps(message)
    assert encoded.message.startswith(b"{")
    assert formatter.loads(encoded.message) == message
    big = message.model_copy(update={"args": ["x" * 5000]})
    with pytest.raises(PayloadTooLargeError, match="MAX_MESSAGE_BYTES"):
        formatter.dumps(big)
    with pytest.raises(PayloadTooLargeError):
        formatter.loads(b"[" + b"1," * 5000 + b"1]")


async def test_oversized_call_is_refused_before_sending(database: str) -> None:
    broker = build_broker(BaseAppSettings(ENV="test", MAX_MESSAGE_BYTES=4096))
    previous = set_broker(broker)
    try:
        manager: Any = DataAccessManagerFactory().get_manager("Depot")
        with pytest.raises(PayloadTooLargeError):
            await manager.broker.echo_str("x" * 10_000, _broker_timeout=5)
    finally:
        set_broker(previous)


# -- registry --------------------------------------------------------------------------------


def test_registry_is_case_insensitive_and_lists_known_names() -> None:
    assert ModelRegistry.get_model_info("dEpOt").model_cls is Depot
    assert ModelRegistry.get_model_info("parcel").manager_cls is LocalDataAccessManager
    with pytest.raises(NotFoundError, match="Registered models: Depot, Parcel"):
        ModelRegistry.get_model_info("Truck")
    assert ModelRegistry.is_configured()


def test_registry_rejects_clashes_and_non_managers() -> None:
    with pytest.raises(ConfigurationError, match="already registered"):
        ModelRegistry.register_local(model_cls=Parcel, model_name="DEPOT")
    with pytest.raises(ConfigurationError, match="subclass of BaseDataAccessManager"):
        ModelRegistry.register_local(model_cls=Parcel, model_name="Other", manager_cls=dict)  # type: ignore[arg-type]
    ModelRegistry.clear()
    assert not ModelRegistry.is_configured()


def test_factory_caches_per_factory() -> None:
    factory = DataAccessManagerFactory()
    first = factory.get_manager("Depot")
    assert isinstance(first, DepotManager) and factory.get_manager("depot") is first
    assert DataAccessManagerFactory().get_manager("Depot") is not first


# -- codec and operation types ---------------------------------------------------------------


def test_codec_validates_table_models_inside_generic_pages() -> None:
    depot = Depot(name="codec", capacity=3)
    data = encode(Page[Depot], Page[Depot](items=[depot]))
    assert data["items"][0]["id"] == str(depot.id)
    back = decode(Page[Depot], data)
    assert isinstance(back.items[0], Depot) and back.items[0].id == depot.id
    assert isinstance(back.items[0].id, uuid.UUID)


def test_default_manager_types_come_from_the_registration() -> None:
    op = runtime_operation(ModelRegistry.get_model_info("Parcel"), "get")
    assert op.returns == Parcel | None
    listed = runtime_operation(ModelRegistry.get_model_info("Parcel"), "list")
    assert listed.returns == Page[Parcel]


def test_unresolvable_hint_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    runtime_operation.cache_clear()
    info = ModelRegistry.get_model_info("Depot")
    with caplog.at_level(logging.WARNING, logger="core_sdk.worker"):
        op = runtime_operation(info, "untyped_hint")
        runtime_operation(info, "untyped_hint")
    assert op.unresolved == ("data",) and op.params["n"] is int
    warnings = [r for r in caplog.records if "cannot be resolved" in r.getMessage()]
    assert len(warnings) == 1 and "Depot.untyped_hint" in warnings[0].getMessage()


def test_generated_module_types_fill_unresolvable_hints() -> None:
    from coresvc.managers import DepotManager
    from coresvc.typing_only import OnlyForTyping

    from core_sdk.data_access import Operation, TypedBrokerProxy, register_generated_module
    from core_sdk.data_access.signature import operation_fingerprint
    from core_sdk.data_access.typed_proxy import clear_generated_registrations

    info = ModelRegistry.get_model_info("Depot")
    fingerprint = operation_fingerprint(DepotManager, "untyped_hint")
    module = types.ModuleType("coresvc_generated_for_test")
    module.OP = Operation[dict[str, Any]](  # type: ignore[attr-defined]
        "Depot",
        "untyped_hint",
        fingerprint,
        {"data": OnlyForTyping, "n": int},
        dict[str, Any],
    )
    proxy = type("DepotBroker", (TypedBrokerProxy,), {"__module__": module.__name__})
    sys.modules[module.__name__] = module
    runtime_operation.cache_clear()
    try:
        register_generated_module({("Depot", "untyped_hint"): fingerprint}, {"Depot": proxy})
        op = runtime_operation(info, "untyped_hint")
        assert op.unresolved == ()
        assert op.params["data"] is OnlyForTyping
        assert op.adapter("data").validate_python({"x": "3"}) == OnlyForTyping(x=3)
    finally:
        clear_generated_registrations()
        del sys.modules[module.__name__]
        runtime_operation.cache_clear()


# -- worker setup ------------------------------------------------------------------------------


def test_registry_config_path_is_imported_as_a_package_module(tmp_path: Path) -> None:
    package = tmp_path / "svcpkg_core_test" / "app"
    package.mkdir(parents=True)
    (tmp_path / "svcpkg_core_test" / "__init__.py").write_text("")
    (package / "__init__.py").write_text("")
    (package / "names.py").write_text("VALUE = 'relative import works'\n")
    (package / "registry_config.py").write_text(
        textwrap.dedent(
            """
            from .names import VALUE
            LOADED = VALUE
            """
        )
    )
    module = import_registry_config(package / "registry_config.py")
    assert module.__name__ == "svcpkg_core_test.app.registry_config"
    assert module.LOADED == "relative import works"
    with pytest.raises(ConfigurationError, match="does not exist"):
        import_registry_config(tmp_path / "missing" / "registry_config.py")
    with pytest.raises(ConfigurationError, match="Cannot import the registry config"):
        import_registry_config("no_such_module_for_core_tests.registry_config")


async def test_worker_context_requires_registered_models() -> None:
    ModelRegistry.clear()
    with pytest.raises(ConfigurationError, match="No model is registered"):
        await initialize_worker_context(BaseAppSettings(ENV="test"), None)


# -- LocalDataAccessManager ------------------------------------------------------------------


@pytest.fixture
def statements(database: str) -> Iterator[list[str]]:
    captured: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        captured.append(statement)

    sync_engine = get_engine().sync_engine
    event.listen(sync_engine, "before_cursor_execute", record)
    yield captured
    event.remove(sync_engine, "before_cursor_execute", record)


async def test_list_is_keyset_paginated_without_offset(statements: list[str]) -> None:
    manager: DepotManager = DataAccessManagerFactory().get_manager("Depot")
    city = f"keyset-{uuid.uuid4().hex[:8]}"
    ids = {(await manager.create({"name": f"k{i}-{city}", "city": city})).id for i in range(7)}
    seen: list[uuid.UUID] = []
    cursor = None
    pages = 0
    while True:
        page = await manager.list(filters={"city": city}, cursor=cursor, limit=3)
        pages += 1
        seen.extend(item.id for item in page.items)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert pages == 3 and seen == sorted(ids) and set(seen) == ids
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert selects and not any("OFFSET" in s.upper() for s in selects)


async def test_list_rejects_unknown_filters_bad_cursors_and_limits(database: str) -> None:
    manager: DepotManager = DataAccessManagerFactory().get_manager("Depot")
    with pytest.raises(InvalidQueryError, match=r"unknown filter column 'colour'.*capacity"):
        await manager.list(filters={"colour": "red"})
    with pytest.raises(InvalidQueryError, match="invalid cursor"):
        await manager.list(cursor="!!!not-a-cursor")
    with pytest.raises(InvalidQueryError, match="limit must be between 1 and 1000"):
        await manager.list(limit=0)


async def test_partial_update_and_delete(database: str) -> None:
    manager: DepotManager = DataAccessManagerFactory().get_manager("Depot")
    depot = await manager.create({"name": f"upd-{uuid.uuid4().hex[:8]}", "city": "Oslo"})
    updated = await manager.update(depot.id, DepotUpdate(capacity=12))
    assert updated.capacity == 12 and updated.city == "Oslo" and updated.name == depot.name
    with pytest.raises(InvalidQueryError, match="unknown field"):
        await manager.update(depot.id, {"colour": "red"})
    with pytest.raises(NotFoundError):
        await manager.update(uuid.uuid4(), {"capacity": 1})
    assert await manager.delete(depot.id) is True
    assert await manager.get(depot.id) is None


async def test_foreign_key_violation_names_model_and_constraint(database: str) -> None:
    parcels: LocalDataAccessManager[Any, Any, Any, Any] = DataAccessManagerFactory().get_manager(
        "Parcel"
    )
    with pytest.raises(IntegrityViolationError) as caught:
        await parcels.create({"depot_id": uuid.uuid4(), "weight": Decimal("1.5")})
    assert caught.value.kind == "foreign_key" and caught.value.model_name == "Parcel"
    assert caught.value.constraint == "coretest_parcel_depot_id_fkey"
    assert "Parcel: foreign-key constraint 'coretest_parcel_depot_id_fkey'" in str(caught.value)


async def test_unique_violation_inside_a_session_leaves_no_partial_write(database: str) -> None:
    manager: DepotManager = DataAccessManagerFactory().get_manager("Depot")
    taken = f"uniq-{uuid.uuid4().hex[:8]}"
    await manager.create({"name": taken})
    fresh = f"fresh-{uuid.uuid4().hex[:8]}"
    with pytest.raises(IntegrityViolationError):
        async with managed_session():
            await manager.create({"name": fresh})
            await manager.create({"name": taken})
    assert (await manager.list(filters={"name": fresh})).items == []


def test_base_manager_session_outside_a_scope_is_a_clear_error() -> None:
    manager = BaseDataAccessManager("Depot", Depot)
    with pytest.raises(ConfigurationError, match="managed_session"):
        _ = manager.session


async def test_setup_worker_hooks_run_on_worker_events(database: str) -> None:
    from taskiq import TaskiqEvents

    from core_sdk.db.session import close_db, get_current_session
    from core_sdk.worker_setup import setup_worker

    broker = build_broker(BaseAppSettings(ENV="test", DATABASE_URL=database))
    setup_worker(
        "coresvc.registry_config",
        broker=broker,
        settings=BaseAppSettings(ENV="test", DATABASE_URL=database),
    )
    setup_worker(
        "coresvc.registry_config",
        broker=broker,
        settings=BaseAppSettings(ENV="test", DATABASE_URL=database),
    )
    assert len(broker.event_handlers[TaskiqEvents.WORKER_STARTUP]) == 1
    await close_db()
    await broker.startup()  # InMemoryBroker fires WORKER_STARTUP in-process
    try:
        async with managed_session() as session:
            assert get_current_session() is session
    finally:
        await broker.shutdown()  # WORKER_SHUTDOWN closes the engine
    with pytest.raises(ConfigurationError, match="not initialised"):
        get_engine()
    init_db(database)  # the session-scoped fixture's engine, back for later tests


class DepotsByCapacity(DepotManager):
    cursor_column = "capacity"


async def test_keyset_on_a_non_unique_cursor_column_breaks_ties_by_primary_key(
    statements: list[str],
) -> None:
    manager = DepotsByCapacity("Depot", Depot)
    city = f"ties-{uuid.uuid4().hex[:8]}"
    made = [
        await manager.create({"name": f"t{i}-{city}", "city": city, "capacity": i % 3})
        for i in range(8)
    ]
    seen: list[Depot] = []
    cursor = None
    while True:
        page = await manager.list(filters={"city": city}, cursor=cursor, limit=3)
        seen.extend(page.items)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert [d.id for d in seen] == [
        d.id for d in sorted(made, key=lambda d: (d.capacity, d.id.bytes))
    ]
    assert not any("OFFSET" in s.upper() for s in statements)


async def test_get_dam_factory_works_as_a_fastapi_dependency(database: str) -> None:
    app = FastAPI()

    @app.get("/depots/{depot_id}")
    async def read_depot(
        depot_id: uuid.UUID, factory: Annotated[DataAccessManagerFactory, Depends(get_dam_factory)]
    ) -> dict[str, str]:
        depot = await factory.get_manager("Depot").get(depot_id)
        return {"name": depot.name if depot else "missing"}

    depot = (
        await DataAccessManagerFactory()
        .get_manager("Depot")
        .create({"name": f"api-{uuid.uuid4().hex[:8]}"})
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get(f"/depots/{depot.id}")
    assert response.status_code == 200 and response.json() == {"name": depot.name}


def test_unprintable_exception_still_makes_a_result_document() -> None:
    from taskiq import TaskiqResult

    from core_sdk.broker.result_backend import decode_result, encode_result

    class Unprintable(Exception):
        def __str__(self) -> str:
            raise RuntimeError("no")

    for exc, expected in (
        (Unprintable(), "<Unprintable whose message could not be printed>"),
        (ValueError("bad \udcff byte"), "bad ? byte"),
    ):
        document = encode_result(
            TaskiqResult(is_err=True, return_value=None, execution_time=0.1, error=exc)
        )
        stored = decode_result(document, "t1")
        assert stored.is_err
        assert stored.to_exception().message == expected


def test_non_finite_floats_round_trip_instead_of_becoming_null() -> None:
    from core_sdk.broker.codec import dumps_any, loads
    from core_sdk.data_access import Operation

    op = Operation[float]("M", "m", None, {"x": float | None, "xs": list[float]}, float)
    _, kwargs = op.encode_arguments((), {"x": float("nan"), "xs": [float("inf"), -float("inf")]})
    wire = loads(dumps_any(kwargs))
    assert math.isnan(wire["x"])
    assert wire["xs"] == [math.inf, -math.inf]
    assert op.decode_result(loads(dumps_any(float("-inf")))) == -math.inf
