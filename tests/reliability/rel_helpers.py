"""Helpers of the fault-injection suite: private Redis servers, real worker processes, calls."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis
from taskiq import AsyncBroker

from core_sdk.broker.client import call_operation
from core_sdk.config import BaseAppSettings
from core_sdk.exceptions import BrokerConnectionError, OperationTimeoutError

REL_DIR = Path(__file__).resolve().parent
REPO_ROOT = REL_DIR.parents[1]
MODEL = "RelItem"


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port(*, cluster_bus: bool = False) -> int:
    """A port nothing listens on; with ``cluster_bus`` also port + 10000 (a cluster node's bus)."""
    while True:
        port = random.randrange(20_000, 55_000)
        if _bindable(port) and (not cluster_bus or _bindable(port + 10_000)):
            return port


def wait_redis(
    port: int,
    process: subprocess.Popen[bytes],
    timeout: float = 10.0,
    log: Callable[[], str] = lambda: "",
) -> None:
    """Until the redis-server (or Sentinel) ``process`` answers PING on ``port``."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"redis-server on {port} exited:\n{log()}")
        try:
            client = redis.Redis(port=port, socket_connect_timeout=0.5)
            try:
                if client.ping():
                    return
            finally:
                client.close()
        except redis.RedisError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"redis-server on {port} did not start:\n{log()}")
        time.sleep(0.05)


class RedisServer:
    """A private ``redis-server`` (no persistence) on a free port; never the shared one."""

    def __init__(self, port: int | None = None, *extra_args: str) -> None:
        self.port = port or free_port()
        self.extra_args = extra_args
        self.dir = Path(tempfile.mkdtemp(prefix="rel-redis-"))
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        log = (self.dir / "redis.log").open("ab")
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--dir",
                str(self.dir),
                *self.extra_args,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 10.0) -> None:
        assert self.process is not None
        wait_redis(self.port, self.process, timeout, self.log)

    def kill(self) -> None:
        """SIGKILL: the server vanishes with everything it held (no persistence)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)

    def log(self) -> str:
        path = self.dir / "redis.log"
        return path.read_text(errors="replace") if path.exists() else ""


@dataclass
class Names:
    """Redis names of one test (unique queue, key prefix and consumer group)."""

    url: str
    tag: str = field(default_factory=lambda: f"rel_{uuid.uuid4().hex[:10]}")

    @property
    def queue_name(self) -> str:
        return f"{self.tag}:queue"

    @property
    def key_prefix(self) -> str:
        return self.tag

    @property
    def consumer_group(self) -> str:
        return f"{self.tag}:workers"

    def env(self) -> dict[str, str]:
        return {
            "REDIS_URL": self.url,
            "REDIS_QUEUE_NAME": self.queue_name,
            "REDIS_KEY_PREFIX": self.key_prefix,
            "REDIS_CONSUMER_GROUP": self.consumer_group,
        }

    def settings(self, database_url: str, **extra: Any) -> BaseAppSettings:
        return BaseAppSettings(
            ENV="dev",
            DATABASE_URL=database_url,
            REDIS_URL=self.url,
            REDIS_QUEUE_NAME=self.queue_name,
            REDIS_KEY_PREFIX=self.key_prefix,
            REDIS_CONSUMER_GROUP=self.consumer_group,
            REDIS_XREAD_BLOCK_MS=500,
            **extra,
        )


class Worker:
    """A real ``taskiq worker relsvc.worker:broker`` process group (stock CLI)."""

    def __init__(self, env: dict[str, str], args: Iterable[str] = ()) -> None:
        full_env = {
            **os.environ,
            "ENV": "dev",
            "REDIS_XREAD_BLOCK_MS": "500",
            "LOGGING_LEVEL": "INFO",
            "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), str(REL_DIR)]),
            **env,
        }
        handle, path = tempfile.mkstemp(prefix="rel-worker-", suffix=".log")
        self.log_path = Path(path)
        taskiq = Path(sys.executable).with_name("taskiq")
        self.process = subprocess.Popen(
            [str(taskiq), "worker", "relsvc.worker:broker", "--workers", "1", *args],
            cwd=REL_DIR,
            env=full_env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        os.close(handle)

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def children(self) -> list[int]:
        """Pids of the worker processes the taskiq main process started."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                if ppid == self.pid:
                    found.append(int(entry.name))
        return sorted(found)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def signal_group(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, sig)

    def kill(self) -> None:
        """SIGKILL the whole process group (no cleanup of any kind)."""
        self.signal_group(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)

    def wait_exit(self, timeout: float) -> int | None:
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None


async def call(broker: AsyncBroker, method: str, timeout: float = 10.0, /, **kwargs: Any) -> Any:
    return await call_operation(MODEL, method, [], kwargs, None, timeout, broker=broker)


async def wait_serving(broker: AsyncBroker, workers: list[Worker], timeout: float = 60) -> None:
    """Until a worker answers (every listed worker must still be running)."""
    deadline = time.monotonic() + timeout
    while True:
        for worker in workers:
            if not worker.alive():
                raise AssertionError(f"worker exited early:\n{worker.log()}")
        try:
            await call(broker, "pid", 1.0)
            return
        except (OperationTimeoutError, BrokerConnectionError):
            if time.monotonic() > deadline:
                logs = "\n".join(w.log() for w in workers)
                raise AssertionError(f"no worker answered:\n{logs}") from None
            await asyncio.sleep(0.1)


async def wait_for(predicate: Any, timeout: float, what: str, interval: float = 0.05) -> None:
    """Poll ``predicate`` (sync or async) until it is true."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(interval)


async def wait_stream(names: Names, length: int, pending: int, timeout: float = 10.0) -> None:
    """Until the test's stream holds ``length`` entries, ``pending`` of them taken by a worker.

    Acknowledged entries are deleted, so ``(0, 0)`` means every earlier call was acknowledged,
    and ``(n, n)`` that the n entries now in the stream were all taken.
    """
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(names.url)
    try:

        async def reached() -> bool:
            size = await client.xlen(names.queue_name)
            info = await client.xpending(names.queue_name, names.consumer_group)
            return bool((size, info["pending"]) == (length, pending))

        await wait_for(reached, timeout, f"{length} stream entries, {pending} taken")
    finally:
        await client.aclose()
