"""The typed proxy machinery the generated module uses: Operation, TypedBrokerProxy, TaskHandle,
register_generated_module, version-skew refusal and the manifest allowlist."""

from __future__ import annotations

import asyncio
import math
import uuid
from typing import Any

import pytest
from coresvc.managers import DepotManager
from coresvc.models import Depot
from taskiq import AsyncBroker

from core_sdk.broker.client import call_operation
from core_sdk.broker.setup import set_broker
from core_sdk.data_access import (
    DAM_DEFAULT,
    DataAccessManagerFactory,
    Operation,
    TaskHandle,
    TypedBrokerProxy,
    register_generated_module,
)
from core_sdk.data_access.signature import operation_fingerprint
from core_sdk.exceptions import ArgumentEncodingError, RemoteOperationError

RENAME_FP = operation_fingerprint(DepotManager, "rename")
_RENAME = Operation[Depot](
    "Depot", "rename", RENAME_FP, {"depot_id": uuid.UUID, "name": str}, Depot
)
_POSITIONAL = Operation[int](
    "Depot",
    "positional",
    operation_fingerprint(DepotManager, "positional"),
    {"a": int, "b": int},
    int,
    positional_only=("a",),
)
_STALE_RENAME = Operation[Depot](
    "Depot", "rename", "0123456789abcdef", {"depot_id": uuid.UUID, "name": str}, Depot
)


class DepotKicker:
    def __init__(self, proxy: DepotBroker) -> None:
        self._proxy = proxy

    async def rename(self, depot_id: uuid.UUID, name: str) -> TaskHandle[Depot]:
        return await self._proxy._kick(_RENAME, (), {"depot_id": depot_id, "name": name})


class DepotBroker(TypedBrokerProxy):
    """What dam-codegen renders, written by hand."""

    @property
    def kick(self) -> DepotKicker:
        return DepotKicker(self)

    async def rename(
        self, depot_id: uuid.UUID, name: str, *, _broker_timeout: float = 30.0
    ) -> Depot:
        return await self._call(_RENAME, (), {"depot_id": depot_id, "name": name}, _broker_timeout)

    async def positional(
        self, a: int, /, b: int = DAM_DEFAULT, *, _broker_timeout: float = 30.0
    ) -> int:
        return await self._call(_POSITIONAL, (a,), {"b": b}, _broker_timeout)

    async def stale_rename(
        self, depot_id: uuid.UUID, name: str, *, _broker_timeout: float = 30.0
    ) -> Depot:
        return await self._call(
            _STALE_RENAME, (), {"depot_id": depot_id, "name": name}, _broker_timeout
        )


MANIFEST = {("Depot", "rename"): RENAME_FP, ("Depot", "positional"): _POSITIONAL.fingerprint}


def depots() -> Any:
    return DataAccessManagerFactory().get_manager("Depot")


async def test_registered_proxy_is_what_manager_broker_returns(flow: AsyncBroker) -> None:
    register_generated_module(MANIFEST, {"depot": DepotBroker})
    manager = depots()
    assert isinstance(manager.broker, DepotBroker)

    depot = await manager.create({"name": f"typed-{uuid.uuid4().hex[:8]}"})
    renamed = await manager.broker.rename(depot.id, "typed-renamed-" + depot.name)
    assert type(renamed) is Depot and renamed.name == "typed-renamed-" + depot.name

    assert await manager.broker.positional(3) == 32  # DAM_DEFAULT: the DAM's own default
    assert await manager.broker.positional(3, 5) == 35

    handle = await manager.broker.kick.rename(depot.id, "kicked-" + depot.name)
    assert isinstance(handle, TaskHandle)
    kicked = await handle.result(timeout=10)
    assert type(kicked) is Depot and kicked.name == "kicked-" + depot.name
    with pytest.raises(RuntimeError, match="already awaited"):
        await handle.result(timeout=1)


async def test_handle_is_ready(flow: AsyncBroker) -> None:
    depot = await depots().create({"name": f"ready-{uuid.uuid4().hex[:8]}"})
    handle = await DepotBroker().kick.rename(depot.id, "ready2-" + depot.name)
    for _ in range(200):
        if await handle.is_ready():
            break
        await asyncio.sleep(0.05)
    assert await handle.is_ready() is True
    result = await handle.result(timeout=10)
    assert result.id == depot.id and result.name == "ready2-" + depot.name


async def test_stale_stub_is_refused_with_both_fingerprints(flow: AsyncBroker) -> None:
    depot = await depots().create({"name": f"skew-{uuid.uuid4().hex[:8]}"})
    with pytest.raises(RemoteOperationError) as caught:
        await DepotBroker().stale_rename(depot.id, "never")
    message = caught.value.message
    assert caught.value.remote_type == "VersionSkewError"
    assert "Depot.rename" in message and "0123456789abcdef" in message and RENAME_FP in message
    assert "Regenerate the stubs with dam-codegen" in message
    assert "the stub is stale" in message
    stored = await depots().get(depot.id)
    assert stored is not None and stored.name == depot.name


async def test_manifest_allowlists_operations(inmemory_broker: AsyncBroker) -> None:
    previous = set_broker(inmemory_broker)
    try:
        register_generated_module(MANIFEST, {"Depot": DepotBroker})
        with pytest.raises(RemoteOperationError) as caught:
            await call_operation("Depot", "ping", [], {}, None, 10)
        assert caught.value.remote_type == "OperationRefusedError"
        assert "not in the generated operation manifest" in caught.value.message
        assert "positional, rename" in caught.value.message
        assert await DepotBroker().positional(1) == 12
    finally:
        set_broker(previous)


async def test_wrong_argument_type_is_rejected_before_sending(flow: AsyncBroker) -> None:
    with pytest.raises(ArgumentEncodingError, match=r"Depot.rename\(depot_id\)"):
        await DepotBroker().rename("not-a-uuid", "x")  # type: ignore[arg-type]
    with pytest.raises(ArgumentEncodingError, match="unexpected keyword argument 'nope'"):
        await DepotBroker()._call(_RENAME, (), {"nope": 1}, 5)


def test_typed_operations_are_strict_dynamic_ones_lax() -> None:
    depot_id = uuid.uuid4()
    with pytest.raises(ArgumentEncodingError, match="Input should be an instance of UUID"):
        _RENAME.encode_arguments((), {"depot_id": str(depot_id), "name": "x"})
    lax = Operation[Depot](
        "Depot", "rename", None, {"depot_id": uuid.UUID, "name": str}, Depot, lax=True
    )
    assert lax.encode_arguments((), {"depot_id": str(depot_id), "name": "x"}) == (
        [],
        {"depot_id": str(depot_id), "name": "x"},
    )
    assert _POSITIONAL.encode_arguments((3,), {"b": 4}) == ([3], {"b": 4})


def test_operation_is_immutable() -> None:
    with pytest.raises(AttributeError):
        _RENAME.method_name = "other"  # type: ignore[misc]


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, 0, -1.0])
async def test_invalid_broker_timeout_is_refused_before_sending(
    inmemory_broker: AsyncBroker, bad: float
) -> None:
    previous = set_broker(inmemory_broker)
    try:
        with pytest.raises(ValueError, match="_broker_timeout must be a finite number"):
            await asyncio.wait_for(DepotBroker().rename(uuid.uuid4(), "x", _broker_timeout=bad), 5)
        with pytest.raises(ValueError, match="_broker_timeout"):  # the dynamic proxy
            await asyncio.wait_for(depots().broker.ping(_broker_timeout=bad), 5)
        with pytest.raises(ValueError, match="_broker_timeout"):
            await asyncio.wait_for(call_operation("Depot", "ping", [], {}, None, bad), 5)
        with pytest.raises(ValueError, match="timeout must be a finite number"):
            await asyncio.wait_for(TaskHandle(_RENAME, "no-such-task").result(timeout=bad), 5)
    finally:
        set_broker(previous)
