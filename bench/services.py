"""Processes and resources one benchmark run owns: a Redis server, a database, workers.

Everything is unique to the run (free port, ``dam_bench_<hex>`` database, ``dam_bench_<hex>``
stream/key names) and removed at the end, so runs never disturb each other or the test suite.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = ROOT / "bench"
BIN = Path(sys.executable).parent

PG_ADMIN_DSN = os.environ.get(
    "DAM_BENCH_PG_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def kill_group(process: subprocess.Popen[Any], grace: float = 3.0) -> None:
    """SIGTERM the process group of ``process`` (started with a new session), then SIGKILL."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    else:  # the leader is gone; children of the group may not be
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)


@dataclass
class RedisServer:
    """The Redis the run uses: a private ``redis-server`` (clean INFO stats) or a given URL."""

    url: str
    dedicated: bool
    process: subprocess.Popen[bytes] | None = None
    workdir: str | None = None

    @classmethod
    def start(cls, url: str | None = None) -> RedisServer:
        if url is not None:
            return cls(url=url, dedicated=False)
        binary = shutil.which("redis-server")
        if binary is None:
            raise SystemExit(
                "redis-server is not on PATH; install it, or pass --redis-url to use a running "
                "Redis (its INFO statistics then include other clients)."
            )
        workdir = tempfile.mkdtemp(prefix="dam-bench-redis-")
        for _ in range(5):
            port = free_port()
            process = subprocess.Popen(
                [
                    binary,
                    "--port",
                    str(port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    workdir,
                    "--loglevel",
                    "warning",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
            server = cls(f"redis://127.0.0.1:{port}/0", True, process, workdir)
            if server._wait_ready(process):
                return server
            kill_group(process)
        shutil.rmtree(workdir, ignore_errors=True)
        raise SystemExit("could not start a private redis-server")

    def _wait_ready(self, process: subprocess.Popen[bytes]) -> bool:
        import redis

        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.2)
        try:
            for _ in range(100):
                if process.poll() is not None:
                    return False
                with contextlib.suppress(redis.RedisError):
                    if client.ping():
                        return True
                time.sleep(0.05)
            return False
        finally:
            client.close()

    def stop(self, tags: list[str]) -> None:
        if self.process is not None:
            kill_group(self.process)
        elif tags:  # a shared server: remove what this run created
            import redis

            client = redis.Redis.from_url(self.url)
            try:
                for tag in tags:
                    keys = list(client.scan_iter(match=f"{tag}*", count=1000))
                    keys += list(client.scan_iter(match=f"autoclaim:{tag}*", count=1000))
                    if keys:
                        client.delete(*keys)
            finally:
                client.close()
        if self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)


@dataclass
class Database:
    """A fresh PostgreSQL database for the run, dropped at the end."""

    name: str
    url: str

    @classmethod
    def create(cls) -> Database:
        import asyncio

        import asyncpg

        name = f"dam_bench_{uuid.uuid4().hex[:12]}"

        async def create() -> None:
            admin = await asyncpg.connect(PG_ADMIN_DSN)
            try:
                await admin.execute(f'CREATE DATABASE "{name}"')
            finally:
                await admin.close()

        asyncio.run(create())
        base = PG_ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
        return cls(name, f"{base}/{name}")

    def drop(self) -> None:
        import asyncio

        import asyncpg

        async def drop() -> None:
            admin = await asyncpg.connect(PG_ADMIN_DSN)
            try:
                await admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            finally:
                await admin.close()

        asyncio.run(drop())


@dataclass
class BenchService:
    """A copy of ``bench/benchsvc`` with its ``_tasks.py`` generated by ``dam-codegen``."""

    root: Path  # directory that contains the ``benchsvc`` package
    codegen_seconds: float

    @classmethod
    def prepare(cls, workdir: Path) -> BenchService:
        root = workdir / "service"
        shutil.copytree(
            BENCH_DIR / "benchsvc",
            root / "benchsvc",
            ignore=shutil.ignore_patterns("__pycache__", "_tasks.py"),
        )
        started = time.perf_counter()
        completed = subprocess.run(
            [
                str(BIN / "dam-codegen"),
                "benchsvc/registry_config.py",
                "-o",
                "benchsvc/_tasks.py",
            ],
            cwd=root,
            env={**os.environ, "PYTHONPATH": python_path(root)},
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode != 0:
            raise SystemExit(f"dam-codegen failed on the bench service:\n{completed.stderr}")
        return cls(root, time.perf_counter() - started)


def python_path(*extra: Path) -> str:
    parts = [str(path) for path in extra] + [str(ROOT)]
    if os.environ.get("PYTHONPATH"):
        parts.append(os.environ["PYTHONPATH"])
    return os.pathsep.join(parts)


@dataclass
class RunNames:
    """Unique Redis names of one run (stream, consumer group, key prefix)."""

    tag: str = field(default_factory=lambda: f"dam_bench_{uuid.uuid4().hex[:10]}")

    def env(self, redis_url: str) -> dict[str, str]:
        return {
            "REDIS_URL": redis_url,
            "REDIS_QUEUE_NAME": f"{self.tag}:queue",
            "REDIS_KEY_PREFIX": self.tag,
            "REDIS_CONSUMER_GROUP": f"{self.tag}:workers",
        }


@contextlib.contextmanager
def workers(
    service: BenchService, env: dict[str, str], count: int, log_dir: Path
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """``count`` stock ``taskiq worker benchsvc.worker:broker --workers 1`` processes."""
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for index in range(count):
            log = open(log_dir / f"worker-{index}.log", "wb")  # noqa: SIM115
            process = subprocess.Popen(
                [
                    str(BIN / "taskiq"),
                    "worker",
                    "benchsvc.worker:broker",
                    "--workers",
                    "1",
                    "--log-level",
                    "WARNING",
                ],
                cwd=service.root,
                env={**os.environ, **env, "PYTHONPATH": python_path(service.root)},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            log.close()
            processes.append(process)
        yield processes
    finally:
        for process in processes:
            kill_group(process)


def worker_logs(log_dir: Path) -> str:
    return "\n".join(
        f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}"
        for path in sorted(log_dir.glob("worker-*.log"))
    )
