"""Sentinel and Cluster for real: private ``redis-server --sentinel`` / three cluster nodes on free
ports, a real worker and client selected by ``redis+sentinel://`` / ``redis+cluster://``."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import redis
from rel_helpers import (
    Names,
    RedisServer,
    Worker,
    call,
    free_port,
    wait_for,
    wait_redis,
    wait_serving,
)

from core_sdk.broker.stream import DAMRedisStreamClusterBroker, DAMRedisStreamSentinelBroker
from core_sdk.broker.topology import ClusterJSONResultBackend, SentinelJSONResultBackend
from core_sdk.exceptions import BrokerConnectionError, OperationTimeoutError


@dataclass
class SentinelSetup:
    master: RedisServer
    replica: RedisServer
    port: int

    @property
    def url(self) -> str:
        return f"redis+sentinel://127.0.0.1:{self.port}/relmaster/0"

    def master_port(self) -> int:
        client = redis.Redis(port=self.port)
        try:
            _host, port = client.execute_command("SENTINEL", "get-master-addr-by-name", "relmaster")
            return int(port)
        finally:
            client.close()


@pytest.fixture
def sentinel() -> Iterator[SentinelSetup]:
    """A master, its replica and one Sentinel (quorum 1, fail-over after 1 s), all private."""
    master = RedisServer()
    replica = RedisServer(None, "--replicaof", "127.0.0.1", str(master.port))
    process: subprocess.Popen[bytes] | None = None
    try:
        master.start()
        replica.start()
        port = free_port()
        config = master.dir / "sentinel.conf"
        config.write_text(
            f"port {port}\nbind 127.0.0.1\ndaemonize no\ndir {master.dir}\n"
            f"sentinel monitor relmaster 127.0.0.1 {master.port} 1\n"
            "sentinel down-after-milliseconds relmaster 1000\n"
            "sentinel failover-timeout relmaster 3000\n"
        )
        process = subprocess.Popen(
            ["redis-server", str(config), "--sentinel"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        setup = SentinelSetup(master, replica, port)
        wait_redis(port, process)
        assert setup.master_port() == master.port
        yield setup
    finally:
        if process is not None:
            process.kill()
            process.wait(timeout=10)
        replica.stop()
        master.stop()


@pytest.fixture
def cluster_url() -> Iterator[str]:
    nodes: list[RedisServer] = []
    try:
        for _ in range(3):
            node = RedisServer(
                free_port(cluster_bus=True),
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                "nodes.conf",
                "--cluster-node-timeout",
                "2000",
            )
            nodes.append(node)
            node.start()
        created = subprocess.run(
            [
                "redis-cli",
                "--cluster",
                "create",
                *(f"127.0.0.1:{node.port}" for node in nodes),
                "--cluster-replicas",
                "0",
                "--cluster-yes",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert created.returncode == 0, created.stdout + created.stderr
        for node in nodes:
            client = redis.Redis(port=node.port)
            try:
                deadline = time.monotonic() + 20
                while b"cluster_state:ok" not in client.execute_command("CLUSTER", "INFO"):
                    assert time.monotonic() < deadline, f"cluster not ok:\n{node.log()}"
                    time.sleep(0.05)
            finally:
                client.close()
        yield "redis+cluster://" + ",".join(f"127.0.0.1:{node.port}" for node in nodes[:2])
    finally:
        for node in nodes:
            node.stop()


async def serve_some_calls(
    url: str,
    start_worker: Callable[..., Worker],
    make_client: Callable[..., Any],
    db: Any,
) -> Any:
    names = Names(url)
    worker = start_worker(names, REDIS_IDLE_TIMEOUT_MS="1000")
    broker = await make_client(names, REDIS_IDLE_TIMEOUT_MS=1000)
    await wait_serving(broker, [worker])
    tag = f"topo-{uuid.uuid4().hex[:8]}"
    pids = await asyncio.gather(
        *(call(broker, "put", 20, idempotency_key=f"{tag}-{n}", tag=tag) for n in range(20))
    )
    assert set(pids) == set(worker.children())
    assert await db.fetchval("SELECT count(*) FROM rel_item WHERE tag = $1", tag) == 20
    assert "Traceback" not in worker.log(), worker.log()
    return broker, names


async def test_sentinel_url_end_to_end_and_fail_over(
    sentinel: SentinelSetup,
    start_worker: Callable[..., Worker],
    make_client: Callable[..., Any],
    db: Any,
) -> None:
    broker, names = await serve_some_calls(sentinel.url, start_worker, make_client, db)
    assert isinstance(broker, DAMRedisStreamSentinelBroker)
    assert isinstance(broker.result_backend, SentinelJSONResultBackend)
    client = broker.client

    async def acknowledged() -> bool:
        return bool(await client.xlen(names.queue_name) == 0)

    await wait_for(acknowledged, 10, "acknowledged entries to be deleted")
    pid = await call(broker, "pid")
    await wait_for(
        lambda: (
            redis.Redis(port=sentinel.replica.port).info("replication")["master_link_status"]
            == "up"
        ),
        10,
        "the replica to be in sync",
    )

    # the master dies; the Sentinel promotes the replica; worker and client follow it
    sentinel.master.kill()
    tag = f"failover-{uuid.uuid4().hex[:8]}"
    errors: list[Exception] = []
    deadline = time.monotonic() + 40
    while True:
        started = time.monotonic()
        try:
            result = await call(broker, "put", 3.0, idempotency_key=f"{tag}-{len(errors)}", tag=tag)
            break
        except (BrokerConnectionError, OperationTimeoutError) as exc:
            assert time.monotonic() - started < 3.0 + 2.0
            errors.append(exc)
            assert time.monotonic() < deadline, [str(e) for e in errors[-3:]]
    if os.environ.get("REL_DEBUG"):
        print(f"\nfail-over: {len(errors)} failed call(s) first: {[repr(e) for e in errors]}")
    assert result == pid  # the same worker process, never restarted
    assert sentinel.master_port() == sentinel.replica.port
    assert await call(broker, "pid", 10.0) == pid


async def test_cluster_url_end_to_end(
    cluster_url: str,
    start_worker: Callable[..., Worker],
    make_client: Callable[..., Any],
    db: Any,
) -> None:
    broker, names = await serve_some_calls(cluster_url, start_worker, make_client, db)
    assert isinstance(broker, DAMRedisStreamClusterBroker)
    assert isinstance(broker.result_backend, ClusterJSONResultBackend)

    async def acknowledged() -> bool:
        return bool(await broker.redis.xlen(names.queue_name) == 0)

    await wait_for(acknowledged, 10, "acknowledged entries to be deleted")
