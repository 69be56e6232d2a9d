"""Latency smoke test: one awaited DAM call through Redis with one real taskiq worker.

Compares, in the same run and interleaved call by call:
  * core_sdk's path: ``await manager.broker.ping()`` (encode, XADD, pushed completion, GETDEL)
  * raw taskiq: ``await execute_dam_operation.kiq(...)`` + default ``await task.wait_result()``
    (polls every 200 ms)

Needs Redis on 127.0.0.1:6379 (override with DAM_BENCH_REDIS_URL). Uses a throw-away SQLite file
(the measured operation does not touch the database) and unique Redis names, removed at the end.

    .venv/bin/python bench/latency_smoke.py [--calls 200]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SERVICE_DIR = ROOT / "tests" / "core"  # the test service package `coresvc`
sys.path[:0] = [str(ROOT), str(SERVICE_DIR)]
os.environ.setdefault("ENV", "test")  # the import-time broker is not used here

import coresvc.registry_config  # noqa: E402, F401
import redis  # noqa: E402

from core_sdk.broker.setup import build_broker, set_broker  # noqa: E402
from core_sdk.broker.tasks import execute_dam_operation  # noqa: E402
from core_sdk.config import BaseAppSettings  # noqa: E402
from core_sdk.data_access import DataAccessManagerFactory  # noqa: E402
from core_sdk.exceptions import OperationTimeoutError  # noqa: E402


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def measure(calls: int, env: dict[str, str]) -> None:
    settings = BaseAppSettings(**{k: v for k, v in env.items() if k.isupper()})  # type: ignore[arg-type]
    broker = build_broker(settings)
    set_broker(broker)
    await broker.startup()
    manager = DataAccessManagerFactory().get_manager("Depot")
    for _ in range(100):  # wait for the worker
        try:
            await manager.broker.ping(_broker_timeout=1)
            break
        except OperationTimeoutError:
            continue
    for _ in range(20):  # warm-up
        await manager.broker.ping(_broker_timeout=10)
    kicker = execute_dam_operation.kicker().with_broker(broker)
    typed: list[float] = []
    raw: list[float] = []
    for _ in range(calls):
        start = time.perf_counter()
        assert await manager.broker.ping(_broker_timeout=10) == "pong"
        typed.append(time.perf_counter() - start)
        start = time.perf_counter()
        task = await kicker.kiq("Depot", "ping", [], {})
        result = await task.wait_result()
        assert result.return_value == "pong"
        raw.append(time.perf_counter() - start)
    await broker.shutdown()
    p50_typed, p50_raw = statistics.median(typed) * 1000, statistics.median(raw) * 1000
    print(f"calls per path: {calls} (interleaved), one worker process, Redis {env['REDIS_URL']}")
    print(
        f"core_sdk manager.broker.ping():         p50 {p50_typed:7.2f} ms   "
        f"p90 {percentile(typed, 0.9) * 1000:7.2f} ms"
    )
    print(
        f"raw execute_dam_operation.kiq()+wait_result(): p50 {p50_raw:7.2f} ms   "
        f"p90 {percentile(raw, 0.9) * 1000:7.2f} ms"
    )
    print(f"ratio raw/core_sdk p50: {p50_raw / p50_typed:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    tag = f"dam_bench_{uuid.uuid4().hex[:10]}"
    workdir = tempfile.mkdtemp(prefix="dam-bench-")
    env = {
        "ENV": "dev",
        "REDIS_URL": os.environ.get("DAM_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0"),
        "DATABASE_URL": f"sqlite+aiosqlite:///{workdir}/bench.db",
        "REDIS_QUEUE_NAME": f"{tag}:queue",
        "REDIS_KEY_PREFIX": tag,
        "REDIS_CONSUMER_GROUP": f"{tag}:workers",
    }
    worker = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("taskiq")),
            "worker",
            "coresvc.worker:broker",
            "--workers",
            "1",
            "--log-level",
            "WARNING",
        ],
        cwd=SERVICE_DIR,
        env={**os.environ, **env, "PYTHONPATH": os.pathsep.join([str(ROOT), str(SERVICE_DIR)])},
        start_new_session=True,
    )
    try:
        asyncio.run(measure(args.calls, env))
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
        client = redis.Redis.from_url(env["REDIS_URL"])
        keys = list(client.scan_iter(match=f"{tag}*"))
        keys += list(client.scan_iter(match=f"autoclaim:{tag}*"))
        if keys:
            client.delete(*keys)
        client.close()


if __name__ == "__main__":
    main()
