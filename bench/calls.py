"""Calls through a real worker: latency, throughput, Redis commands per call, Redis memory.

Runs in the bench process (the caller); the worker is a separate ``taskiq worker`` process.
The four paths, each for the trivial and the wide operation:

* ``typed``       ``await manager.broker.ping()`` through the generated proxy (pushed result)
* ``dynamic``     the same through ``BrokerTaskProxy`` (no generated module involved)
* ``raw``         ``await execute_dam_operation.kiq(...)`` + ``await task.wait_result()``
                  (taskiq's default: polls every 0.2 s)
* ``raw_1ms``     the same with ``wait_result(check_interval=0.001)``
* ``raw_push``    the same call written by hand: ``execute_dam_operation.kiq()`` of the same
                  objects (taskiq serialises them), core_sdk's pushed wait, and the wide result
                  validated by hand (``WideBatch.model_validate``): the transport and the
                  conversions of ``typed`` without the proxy, so ``typed - raw_push`` is what
                  the typed proxy adds
"""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis

PATHS = ("typed", "dynamic", "raw", "raw_1ms")
PAYLOADS = ("trivial", "wide")
PATH_LABELS = {
    "typed": "typed generated proxy",
    "dynamic": "dynamic BrokerTaskProxy",
    "raw": "raw kiq+wait_result()",
    "raw_1ms": "raw, check_interval=1ms",
    "raw_push": "by hand: kiq+push+validate",
}
POLL_COMMANDS = ("exists", "get")  # what wait_result() polling issues (GETDEL is not polling)

Call = Callable[[], Awaitable[Any]]


class RedisStats:
    """``INFO commandstats`` / ``INFO memory`` of the run's Redis (INFO itself is not counted)."""

    def __init__(self, url: str) -> None:
        self.client = Redis.from_url(url)

    async def commands(self) -> dict[str, int]:
        info: dict[str, Any] = await self.client.info("commandstats")
        counts: dict[str, int] = {}
        for key, value in info.items():
            name = key.removeprefix("cmdstat_")
            if name in ("info",):
                continue
            counts[name] = int(value["calls"])
        return counts

    async def memory(self) -> tuple[int, int]:
        """``used_memory`` and ``used_memory_dataset`` (the data without buffers/overhead)."""
        info: dict[str, Any] = await self.client.info("memory")
        return int(info["used_memory"]), int(info["used_memory_dataset"])

    async def close(self) -> None:
        await self.client.aclose()


def delta(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {
        name: after[name] - before.get(name, 0)
        for name in after
        if after[name] - before.get(name, 0) > 0
    }


def add(total: dict[str, int], more: dict[str, int]) -> None:
    for name, count in more.items():
        total[name] = total.get(name, 0) + count


class CpuMeter:
    """CPU seconds used so far by this process (the caller), the worker process trees and the
    private redis-server, from ``/proc`` (Linux; elsewhere only the caller is measured)."""

    def __init__(self, worker_pids: list[int], redis_pid: int | None) -> None:
        self.worker_pids = worker_pids
        self.redis_pid = redis_pid
        self.tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

    def _stat(self, pid: int) -> tuple[int, float] | None:
        try:
            with open(f"/proc/{pid}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except OSError:
            return None
        # fields[1] is ppid; utime and stime are fields 14 and 15 of the whole line
        return int(fields[1]), (int(fields[11]) + int(fields[12])) / self.tick

    def _tree(self, roots: list[int]) -> float:
        stats: dict[int, tuple[int, float]] = {}
        try:
            names = os.listdir("/proc")
        except OSError:
            return 0.0
        for name in names:
            if name.isdigit():
                stat = self._stat(int(name))
                if stat is not None:
                    stats[int(name)] = stat
        wanted, total = set(roots), 0.0
        changed = True
        while changed:
            changed = False
            for pid, (ppid, _) in stats.items():
                if ppid in wanted and pid not in wanted:
                    wanted.add(pid)
                    changed = True
        for pid in wanted:
            if pid in stats:
                total += stats[pid][1]
        return total

    def snapshot(self) -> tuple[float, float, float]:
        redis = 0.0
        if self.redis_pid is not None:
            stat = self._stat(self.redis_pid)
            redis = stat[1] if stat else 0.0
        return time.process_time(), self._tree(self.worker_pids), redis


@dataclass
class Latency:
    samples: list[float] = field(default_factory=list)
    commands: dict[str, int] = field(default_factory=dict)
    cpu: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])  # caller, worker, redis

    def cpu_per_call_ms(self, index: int) -> float:
        return self.cpu[index] / max(len(self.samples), 1) * 1e3

    def pct(self, fraction: float) -> float:
        ordered = sorted(self.samples)
        index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
        return ordered[index]

    @property
    def p50(self) -> float:
        return statistics.median(self.samples)

    @property
    def commands_per_call(self) -> float:
        return sum(self.commands.values()) / max(len(self.samples), 1)

    @property
    def polls_per_call(self) -> float:
        polls = sum(self.commands.get(name, 0) for name in POLL_COMMANDS)
        return polls / max(len(self.samples), 1)


@dataclass
class Throughput:
    calls: int
    seconds: float
    commands: dict[str, int]
    cpu: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])  # caller, worker, redis

    @property
    def per_second(self) -> float:
        return self.calls / self.seconds if self.seconds else 0.0

    def cpu_per_call_ms(self, index: int) -> float:
        return self.cpu[index] / max(self.calls, 1) * 1e3

    @property
    def commands_per_call(self) -> float:
        return sum(self.commands.values()) / max(self.calls, 1)


@dataclass
class MemoryResult:
    calls: int
    seconds: float
    before: int
    after: int
    dataset_before: int
    dataset_after: int
    keys_before: int
    keys_after: int
    stream_length: int
    pending: int


class Caller:
    """The call functions of every path, bound to one broker."""

    def __init__(self, broker: Any, timeout: float = 30.0) -> None:
        from benchsvc.models import sample_batch

        from core_sdk.broker.client import call_operation
        from core_sdk.broker.operations import register_dam_task
        from core_sdk.data_access import BrokerTaskProxy, DataAccessManagerFactory

        self.broker = broker
        self.timeout = timeout
        self.manager = DataAccessManagerFactory().get_manager("BenchItem")
        self.dynamic = BrokerTaskProxy("BenchItem", type(self.manager))
        self.task = register_dam_task(broker)
        self.call_operation = call_operation
        batch = sample_batch(100)
        self.batch = batch
        self.item, self.items = batch.item, batch.items

    def call(self, path: str, payload: str) -> Call:
        timeout = self.timeout
        item, items = self.item, self.items
        if path == "typed":
            manager = self.manager
            if payload == "trivial":
                return lambda: manager.broker.ping(_broker_timeout=timeout)
            return lambda: manager.broker.echo_wide(item, items, _broker_timeout=timeout)
        if path == "dynamic":
            dynamic = self.dynamic
            if payload == "trivial":
                return lambda: dynamic.ping(_broker_timeout=timeout)
            return lambda: dynamic.echo_wide(item, items, _broker_timeout=timeout)
        if path == "raw_push":
            call_operation, broker = self.call_operation, self.broker
            from benchsvc.models import WideBatch

            async def raw_push() -> Any:
                # the hand-written equivalent of the typed call: raw .kiq() of the same objects
                # (taskiq serialises them), core_sdk's pushed wait, the result validated by hand
                if payload == "trivial":
                    return await call_operation(
                        "BenchItem", "ping", [], {}, None, timeout, broker=broker
                    )
                data = await call_operation(
                    "BenchItem",
                    "echo_wide",
                    [],
                    {"item": item, "items": items},
                    None,
                    timeout,
                    broker=broker,
                )
                return WideBatch.model_validate(data)

            return raw_push
        interval = 0.2 if path == "raw" else 0.001
        task = self.task

        async def raw() -> Any:
            if payload == "trivial":
                sent = await task.kiq("BenchItem", "ping", [], {})
            else:
                sent = await task.kiq("BenchItem", "echo_wide", [], {"item": item, "items": items})
            result = await sent.wait_result(check_interval=interval, timeout=timeout)
            if result.is_err:
                raise RuntimeError(f"raw call failed: {result.error}")
            return result.return_value

        return raw

    async def check(self) -> None:
        """Every path returns the right thing (once, before measuring)."""
        for payload in PAYLOADS:
            for path in (*PATHS, "raw_push"):
                value = await self.call(path, payload)()
                if payload == "trivial":
                    assert value == "pong", (path, value)
                elif path in ("typed", "dynamic", "raw_push"):
                    assert value == self.batch, path
                else:
                    assert len(value["items"]) == len(self.items), path


async def wait_for_worker(caller: Caller, processes: list[Any], seconds: float = 60.0) -> None:
    from core_sdk.exceptions import OperationTimeoutError

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for process in processes:
            if process.poll() is not None:
                raise RuntimeError("a worker process exited during start-up")
        try:
            await caller.manager.broker.ping(_broker_timeout=1.0)
            return
        except OperationTimeoutError:
            continue
    raise RuntimeError(f"the worker did not answer within {seconds:g} s")


async def latency(
    caller: Caller,
    stats: RedisStats,
    configs: list[tuple[str, str, int]],
    blocks: int,
    warmup: int,
    cpu: CpuMeter,
) -> dict[tuple[str, str], Latency]:
    """Sequential awaited calls. ``configs``: (path, payload, calls). The calls of every
    configuration are split into ``blocks`` rounds, interleaved, so that drift of the machine
    affects all paths alike; commands are counted per block (INFO between blocks)."""
    results = {(path, payload): Latency() for path, payload, _ in configs}
    for path, payload, _ in configs:
        call = caller.call(path, payload)
        for _ in range(warmup if path != "raw" else max(warmup // 10, 1)):
            await call()
    for block in range(blocks):
        for path, payload, calls in configs:
            count = calls // blocks + (1 if block < calls % blocks else 0)
            if count == 0:
                continue
            call = caller.call(path, payload)
            result = results[(path, payload)]
            before = await stats.commands()
            cpu_before = cpu.snapshot()
            for _ in range(count):
                started = time.perf_counter()
                await call()
                result.samples.append(time.perf_counter() - started)
            cpu_after = cpu.snapshot()
            add(result.commands, delta(await stats.commands(), before))
            for index in range(3):
                result.cpu[index] += cpu_after[index] - cpu_before[index]
    return results


async def throughput(
    caller: Caller,
    stats: RedisStats,
    configs: list[tuple[str, str]],
    callers: int,
    seconds: float,
    rounds: int,
    cpu: CpuMeter,
) -> dict[tuple[str, str], Throughput]:
    """``callers`` concurrent callers, each awaiting one call after the other, per (path,
    payload). The ``seconds`` of each configuration are split into ``rounds`` interleaved
    rounds (each after a short warm-up at the same concurrency) so that drift of the machine
    affects all paths alike."""
    results = {config: Throughput(0, 0.0, {}) for config in configs}
    for _ in range(rounds):
        for path, payload in configs:
            measured = await _throughput_round(
                caller, stats, path, payload, callers, seconds / rounds, cpu
            )
            total = results[(path, payload)]
            total.calls += measured.calls
            total.seconds += measured.seconds
            add(total.commands, measured.commands)
            for index in range(3):
                total.cpu[index] += measured.cpu[index]
    return results


async def _throughput_round(
    caller: Caller,
    stats: RedisStats,
    path: str,
    payload: str,
    callers: int,
    seconds: float,
    cpu: CpuMeter,
) -> Throughput:
    call = caller.call(path, payload)
    done = 0
    stop = False

    async def loop() -> None:
        nonlocal done
        while not stop:
            await call()
            done += 1

    tasks = [asyncio.create_task(loop()) for _ in range(callers)]
    try:
        await asyncio.sleep(min(0.3, seconds))  # warm-up: every caller has a call in flight
        before = await stats.commands()
        cpu_before = cpu.snapshot()
        start_count, started = done, time.perf_counter()
        await asyncio.sleep(seconds)
        end_count, ended = done, time.perf_counter()
        cpu_after = cpu.snapshot()
        after = await stats.commands()
    finally:
        stop = True
        outcome = await asyncio.gather(*tasks, return_exceptions=True)
    errors = [item for item in outcome if isinstance(item, BaseException)]
    if errors:
        raise RuntimeError(f"{path}/{payload}: {len(errors)} callers failed: {errors[0]!r}")
    result = Throughput(end_count - start_count, ended - started, delta(after, before))
    result.cpu = [cpu_after[index] - cpu_before[index] for index in range(3)]
    return result


async def memory(
    caller: Caller, stats: RedisStats, total: int, callers: int, stream: str
) -> MemoryResult:
    """Redis ``used_memory`` before and after ``total`` typed calls whose results were read."""
    client = stats.client
    call = caller.call("typed", "trivial")
    for _ in range(50):
        await call()
    await asyncio.sleep(0.2)
    before, dataset_before = await stats.memory()
    keys_before = int(await client.dbsize())
    remaining = total
    started = time.perf_counter()

    async def loop() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await call()

    await asyncio.gather(*(loop() for _ in range(callers)))
    seconds = time.perf_counter() - started
    # the worker acknowledges (XACK + XDEL) right after storing the result: let it finish
    for _ in range(50):
        pending = await client.xpending(stream, caller.broker.consumer_group_name)
        if int(pending["pending"]) == 0 and int(await client.xlen(stream)) == 0:
            break
        await asyncio.sleep(0.1)
    after, dataset_after = await stats.memory()
    pending = await client.xpending(stream, caller.broker.consumer_group_name)
    return MemoryResult(
        calls=total,
        seconds=seconds,
        before=before,
        after=after,
        dataset_before=dataset_before,
        dataset_after=dataset_after,
        keys_before=keys_before,
        keys_after=int(await client.dbsize()),
        stream_length=int(await client.xlen(stream)),
        pending=int(pending["pending"]),
    )
