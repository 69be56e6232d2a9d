"""Run the benchmarks and print the report: every figure next to its same-run baseline.

    .venv/bin/python -m bench                 # the full run (about 4 minutes)
    .venv/bin/python -m bench --tiny          # everything in a tiny configuration (smoke test)
    .venv/bin/python -m bench --only latency,throughput --calls 1000

The run starts its own private ``redis-server`` on a free port (clean ``INFO`` statistics;
``--redis-url`` uses a running Redis instead, with unique names), creates a database
``dam_bench_<hex>`` on the local PostgreSQL (``DAM_BENCH_PG_ADMIN_DSN``), copies the bench
service (``bench/benchsvc``) to a temporary directory, generates its ``_tasks.py`` with
``dam-codegen`` and starts ``taskiq worker benchsvc.worker:broker`` processes. Everything is
removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

SECTIONS = ("latency", "throughput", "memory", "codec", "codegen")


@dataclass
class Options:
    calls: int
    raw_calls: int
    blocks: int
    warmup: int
    callers: int
    seconds: float
    rounds: int
    memory_calls: int
    memory_callers: int
    models: int
    methods: int
    repeats: int
    workers: int
    codec_budget: float
    redis_url: str | None
    sections: tuple[str, ...]
    json_path: str | None
    tiny: bool


def parse(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument("--tiny", action="store_true", help="tiny sizes (a smoke run, seconds)")
    parser.add_argument("--calls", type=int, help="sequential calls per path and payload [200]")
    parser.add_argument(
        "--raw-calls", type=int, help="sequential calls of the 200 ms-polling raw path [40]"
    )
    parser.add_argument("--callers", type=int, help="concurrent callers for throughput [64]")
    parser.add_argument(
        "--seconds",
        type=float,
        help="measured seconds per throughput configuration, in 3 interleaved rounds [2.4]",
    )
    parser.add_argument("--memory-calls", type=int, help="calls of the memory run [100000]")
    parser.add_argument("--models", type=int, help="models of the synthetic service [300]")
    parser.add_argument("--methods", type=int, help="operations per synthetic model [15]")
    parser.add_argument("--workers", type=int, default=1, help="worker processes [1]")
    parser.add_argument("--redis-url", help="use this Redis instead of a private redis-server")
    parser.add_argument(
        "--only", help=f"comma-separated sections to run (default all: {','.join(SECTIONS)})"
    )
    parser.add_argument("--json", dest="json_path", help="also write the results as JSON here")
    args = parser.parse_args(argv)
    tiny = bool(args.tiny)

    def pick(value: Any, full: Any, small: Any) -> Any:
        return value if value is not None else (small if tiny else full)

    sections = tuple(SECTIONS)
    if args.only:
        sections = tuple(part.strip() for part in args.only.split(",") if part.strip())
        unknown = [part for part in sections if part not in SECTIONS]
        if unknown:
            parser.error(f"unknown section(s) {unknown}; choose from {', '.join(SECTIONS)}")
    return Options(
        calls=pick(args.calls, 200, 6),
        raw_calls=pick(args.raw_calls, 40, 2),
        blocks=2 if tiny else 20,
        warmup=3 if tiny else 30,
        callers=pick(args.callers, 64, 4),
        seconds=pick(args.seconds, 2.4, 0.3),
        rounds=1 if tiny else 3,
        memory_calls=pick(args.memory_calls, 100_000, 200),
        memory_callers=4 if tiny else 64,
        models=pick(args.models, 300, 2),
        methods=pick(args.methods, 15, 6),
        repeats=1,
        workers=args.workers,
        codec_budget=0.01 if tiny else 0.25,
        redis_url=args.redis_url,
        sections=sections,
        json_path=args.json_path,
        tiny=tiny,
    )


def note(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass
class Results:
    environment: dict[str, Any] = field(default_factory=dict)
    latency: dict[str, dict[str, Any]] = field(default_factory=dict)
    throughput: dict[str, dict[str, Any]] = field(default_factory=dict)
    memory: dict[str, Any] | None = None
    codec: list[dict[str, Any]] = field(default_factory=list)
    codegen: dict[str, Any] | None = None
    targets: list[dict[str, Any]] = field(default_factory=list)


# --------------------------------------------------------------------------------------------
# running


async def run_calls(
    options: Options,
    redis_url: str,
    redis_pid: int | None,
    env: dict[str, str],
    results: Results,
    processes: Any,
) -> None:
    from bench import calls
    from core_sdk.broker.setup import build_broker, set_broker
    from core_sdk.config import BaseAppSettings

    settings = BaseAppSettings(**{**env, "ENV": "dev", "LOGGING_LEVEL": "WARNING"})  # type: ignore[arg-type]
    broker = build_broker(settings)
    set_broker(broker)
    await broker.startup()
    stats = calls.RedisStats(redis_url)
    try:
        caller = calls.Caller(broker)
        note("waiting for the worker")
        await calls.wait_for_worker(caller, processes)
        await caller.check()
        # memory first: the wide-payload sections leave large client buffers in Redis that it
        # shrinks only later, which would make "before" larger than the steady state
        if "memory" in options.sections:
            note(f"memory: {options.memory_calls} typed calls")
            mem = await calls.memory(
                caller,
                stats,
                options.memory_calls,
                options.memory_callers,
                env["REDIS_QUEUE_NAME"],
            )
            results.memory = asdict(mem)
        if "latency" in options.sections:
            configs = [
                (path, payload, options.raw_calls if path == "raw" else options.calls)
                for payload in calls.PAYLOADS
                for path in (*calls.PATHS, "raw_push")
            ]
            note(f"latency: {len(configs)} configurations")
            meter = calls.CpuMeter([p.pid for p in processes], redis_pid)
            measured = await calls.latency(
                caller, stats, configs, blocks=options.blocks, warmup=options.warmup, cpu=meter
            )
            for (path, payload), result in measured.items():
                results.latency[f"{payload}/{path}"] = {
                    "calls": len(result.samples),
                    "p50_ms": result.p50 * 1e3,
                    "p95_ms": result.pct(0.95) * 1e3,
                    "p99_ms": result.pct(0.99) * 1e3,
                    "commands_per_call": result.commands_per_call,
                    "polls_per_call": result.polls_per_call,
                    # answered before the first 200 ms poll interval ended (raw default path)
                    "fast_share": sum(1 for x in result.samples if x < 0.1)
                    / max(len(result.samples), 1),
                    "cpu_ms": {
                        name: result.cpu_per_call_ms(index)
                        for index, name in enumerate(("caller", "worker", "redis"))
                    },
                    "commands": {
                        name: count / max(len(result.samples), 1)
                        for name, count in sorted(result.commands.items())
                    },
                }
        if "throughput" in options.sections:
            configs = [
                (path, payload) for payload in calls.PAYLOADS for path in (*calls.PATHS, "raw_push")
            ]
            note(f"throughput: {len(configs)} configurations x {options.rounds} rounds")
            meter = calls.CpuMeter([p.pid for p in processes], redis_pid)
            measured_tp = await calls.throughput(
                caller,
                stats,
                configs,
                callers=options.callers,
                seconds=options.seconds,
                rounds=options.rounds,
                cpu=meter,
            )
            for (path, payload), result_tp in measured_tp.items():
                results.throughput[f"{payload}/{path}"] = {
                    "calls": result_tp.calls,
                    "seconds": result_tp.seconds,
                    "per_second": result_tp.per_second,
                    "commands_per_call": result_tp.commands_per_call,
                    "cpu_ms": {
                        name: result_tp.cpu_per_call_ms(index)
                        for index, name in enumerate(("caller", "worker", "redis"))
                    },
                }
    finally:
        await stats.close()
        await broker.shutdown()


def run(options: Options) -> Results:
    os.environ["ENV"] = "test"  # the import-time broker of core_sdk stays in-process
    from bench import services

    results = Results()
    workdir = Path(tempfile.mkdtemp(prefix="dam-bench-"))
    redis_server = None
    database = None
    names = services.RunNames()
    started = time.perf_counter()
    try:
        needs_worker = any(s in options.sections for s in ("latency", "throughput", "memory"))
        needs_service = needs_worker or "codec" in options.sections
        service = None
        if needs_service:
            note("generating the bench service's _tasks.py with dam-codegen")
            service = services.BenchService.prepare(workdir)
            sys.path.insert(0, str(service.root))
            import benchsvc._tasks
            import benchsvc.registry_config  # noqa: F401
        if needs_worker:
            assert service is not None
            redis_server = services.RedisServer.start(options.redis_url)
            database = services.Database.create()
            env = {
                **names.env(redis_server.url),
                "ENV": "dev",
                "DATABASE_URL": database.url,
                "LOGGING_LEVEL": "WARNING",
            }
            results.environment["redis"] = (
                "private redis-server"
                if redis_server.dedicated
                else "shared Redis (INFO figures include other clients' commands and data)"
            )
            with services.workers(service, env, options.workers, workdir) as processes:
                try:
                    asyncio.run(
                        run_calls(
                            options,
                            redis_server.url,
                            redis_server.process.pid if redis_server.process else None,
                            env,
                            results,
                            processes,
                        )
                    )
                except Exception:
                    print(services.worker_logs(workdir), file=sys.stderr)
                    raise
        if "codec" in options.sections:
            note("codec: encode/decode cost")
            from bench import codec_cost

            results.codec = [asdict(row) for row in codec_cost.measure(options.codec_budget)]
        if "codegen" in options.sections:
            note(f"codegen: synthetic service {options.models} x {options.methods}")
            from bench import codegen_scale

            scale = codegen_scale.measure(
                workdir, options.models, options.methods, repeats=options.repeats
            )
            results.codegen = asdict(scale)
            for run in results.codegen.values():  # every Run: its output is not a figure
                if isinstance(run, dict):
                    run.pop("output", None)
    finally:
        if redis_server is not None:
            redis_server.stop([names.tag])
        if database is not None:
            database.drop()
        shutil.rmtree(workdir, ignore_errors=True)
    results.environment.update(environment(options, time.perf_counter() - started))
    return results


def environment(options: Options, seconds: float) -> dict[str, Any]:
    from importlib.metadata import version

    return {
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "taskiq": version("taskiq"),
        "taskiq-redis": version("taskiq-redis"),
        "pydantic": version("pydantic"),
        "workers": options.workers,
        "seconds": seconds,
    }


# --------------------------------------------------------------------------------------------
# table


def ratio(value: float | None, base: float | None) -> float | None:
    if value is None or base is None or base == 0:
        return None
    return value / base


def fmt_ratio(value: float | None) -> str:
    if value is None:
        return "-"
    if value == 0:
        return "0"
    if value < 0.1:
        return f"1/{1 / value:.0f}"
    return f"{value:.2f}x"


def fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def share(us: float, p50_ms: float | None) -> str:
    return "-" if not p50_ms else f"{us / 1e3 / p50_ms:.1%}"


def evaluate(results: Results) -> None:
    from bench.calls import PAYLOADS

    targets = results.targets
    lat, tp = results.latency, results.throughput
    for payload in PAYLOADS:
        typed = lat.get(f"{payload}/typed")
        raw = lat.get(f"{payload}/raw")
        fast = lat.get(f"{payload}/raw_1ms")
        push = lat.get(f"{payload}/raw_push")
        if typed and raw and fast:
            r_raw = typed["p50_ms"] / raw["p50_ms"]
            r_fast = typed["p50_ms"] / fast["p50_ms"]
            ok = r_raw <= 1 / 50 and r_fast <= 1.0 and typed["polls_per_call"] == 0
            targets.append(
                {
                    "target": f"{payload}: typed p50 <= 1/50 raw default, <= raw 1ms, no polling",
                    "measured": f"{fmt_ratio(r_raw)} of raw default; {r_fast:.2f}x raw 1ms; "
                    f"{typed['polls_per_call']:.2f} polls/call",
                    "ok": ok,
                }
            )
        if typed and push:
            overhead = typed["p50_ms"] - push["p50_ms"]
            share_ = overhead / typed["p50_ms"]
            caller = [
                row
                for row in results.codec
                if row["payload"] == payload and row["step"].startswith("caller")
            ]
            # conversions the proxy makes beyond what the hand-written call makes
            extra_us = sum(row["typed_us"] - (row["hand_us"] or 0.0) for row in caller)
            codec_share = extra_us / 1e3 / typed["p50_ms"] if caller else None
            targets.append(
                {
                    "target": f"{payload}: typed proxy overhead over raw .kiq() <= 10% of p50",
                    "measured": f"p50 typed {typed['p50_ms']:.2f} - by hand {push['p50_ms']:.2f} "
                    f"ms = {overhead:+.2f} ms ({share_:+.1%})"
                    + (
                        f"; caller conversions beyond by-hand, in process {codec_share:+.1%}"
                        if codec_share is not None
                        else ""
                    ),
                    "ok": share_ <= 0.10 and (codec_share is None or codec_share <= 0.10),
                }
            )
    for payload in PAYLOADS:
        typed_tp = tp.get(f"{payload}/typed")
        raw_tp = tp.get(f"{payload}/raw")
        if typed_tp and raw_tp:
            r = typed_tp["per_second"] / raw_tp["per_second"]
            targets.append(
                {
                    "target": f"{payload}: typed throughput >= 1.2x raw default",
                    "measured": f"{r:.2f}x ({typed_tp['per_second']:.0f} vs "
                    f"{raw_tp['per_second']:.0f} calls/s)",
                    "ok": r >= 1.2,
                }
            )
    if results.memory:
        mem = results.memory
        grown = (mem["after"] - mem["before"]) / 1e6
        ok = (
            abs(grown) <= 5.0
            and mem["stream_length"] == 0
            and mem["pending"] == 0
            and mem["keys_after"] == mem["keys_before"]
        )
        targets.append(
            {
                "target": f"Redis memory after {mem['calls']} calls within 5 MB of before",
                "measured": f"{grown:+.2f} MB; keys {mem['keys_before']} -> {mem['keys_after']}; "
                f"stream length {mem['stream_length']}, pending {mem['pending']}",
                "ok": ok,
            }
        )
    if results.codegen:
        cg = results.codegen
        base = cg["bare_import"]["seconds"]
        for key, label in (("codegen", "dam-codegen"), ("check", "dam-codegen --check")):
            r = cg[key]["seconds"] / base
            targets.append(
                {
                    "target": f"{label} of {cg['models']}x{cg['methods']} <= 1.5x bare import"
                    + (" (first run, annotating every DAM)" if key == "codegen" else ""),
                    "measured": f"{r:.2f}x ({cg[key]['seconds']:.2f} s vs {base:.2f} s)",
                    "ok": r <= 1.5,
                }
            )


def render(results: Results, options: Options) -> str:
    from bench.calls import PATH_LABELS, PATHS, PAYLOADS

    out: list[str] = []
    env = results.environment
    out.append(
        f"DAM SDK benchmark  {time.strftime('%Y-%m-%d %H:%M')}  Python {env['python']} on "
        f"{env['machine']}  taskiq {env['taskiq']}  taskiq-redis {env['taskiq-redis']}  "
        f"pydantic {env['pydantic']}"
    )
    out.append(
        f"worker processes: {env['workers']}  Redis: {env.get('redis', '-')}  "
        f"PostgreSQL: fresh database  run time {env['seconds']:.0f} s"
        + ("  [TINY CONFIGURATION: figures are not meaningful]" if options.tiny else "")
    )
    out.append(
        "payloads: trivial = ping() -> str;  wide = echo_wide(item: Wide, items: list[Wide]) "
        "-> WideBatch, Wide has 50 fields, 100 items (both ways)"
    )
    out.append("ratios: value / baseline of the same run (1/N when below 0.1)")
    if results.latency:
        out.append("")
        out.append(
            "LATENCY  sequential awaited calls, ms   baseline: raw kiq+wait_result() default "
            "(polls every 200 ms)"
        )
        head = (
            f"{'payload':8} {'path':26} {'n':>5} {'p50':>8} {'ratio':>6} {'p95':>8} "
            f"{'ratio':>6} {'p99':>8} {'ratio':>6} {'p50/raw_1ms':>11} {'cmds/call':>9} "
            f"{'ratio':>6} {'polls/call':>10}  {'CPU ms/call caller+worker+redis':>31}"
        )
        out.append(head)
        out.append("-" * len(head))
        for payload in PAYLOADS:
            base = results.latency.get(f"{payload}/raw")
            fast = results.latency.get(f"{payload}/raw_1ms")
            for path in (*PATHS, "raw_push"):
                row = results.latency.get(f"{payload}/{path}")
                if row is None:
                    continue
                cells = [f"{payload:8}", f"{PATH_LABELS[path]:26}", f"{row['calls']:>5}"]
                for key in ("p50_ms", "p95_ms", "p99_ms"):
                    cells.append(f"{fmt(row[key]):>8}")
                    cells.append(f"{fmt_ratio(ratio(row[key], base and base[key])):>6}")
                cells.append(f"{fmt_ratio(ratio(row['p50_ms'], fast and fast['p50_ms'])):>11}")
                cells.append(f"{fmt(row['commands_per_call'], 1):>9}")
                base_cmds = base and base["commands_per_call"]
                cells.append(f"{fmt_ratio(ratio(row['commands_per_call'], base_cmds)):>6}")
                cells.append(f"{fmt(row['polls_per_call'], 1):>10}")
                cpu = row["cpu_ms"]
                cells.append(
                    f" {cpu['caller']:>9.2f} + {cpu['worker']:>6.2f} + {cpu['redis']:>6.2f}"
                )
                out.append(" ".join(cells))
        for payload in PAYLOADS:
            raw_row = results.latency.get(f"{payload}/raw")
            if raw_row is not None and raw_row.get("fast_share"):
                out.append(
                    f"  {payload} raw kiq+wait_result(): {raw_row['fast_share']:.0%} of the "
                    "calls were answered by the first poll (the worker finished before the "
                    "caller's first EXISTS), the rest after 200 ms"
                )
        typed = results.latency.get("trivial/typed")
        fast = results.latency.get("trivial/raw_1ms")
        if typed and fast:
            out.append(
                "  Redis commands per trivial call: typed "
                + ", ".join(f"{k} {v:.2f}" for k, v in typed["commands"].items())
            )
            out.append(
                "                                   raw 1ms "
                + ", ".join(f"{k} {v:.2f}" for k, v in fast["commands"].items())
            )
    if results.throughput:
        out.append("")
        out.append(
            f"THROUGHPUT  {options.callers} concurrent callers, {options.seconds:g} s each "
            f"({options.rounds} interleaved rounds), "
            f"{env['workers']} worker process(es)   baseline: raw kiq+wait_result() default"
        )
        head = (
            f"{'payload':8} {'path':26} {'calls/s':>9} {'ratio':>6} {'vs raw_1ms':>10} "
            f"{'cmds/call':>9} {'ratio':>6}  {'CPU ms/call caller+worker+redis':>31}"
        )
        out.append(head)
        out.append("-" * len(head))
        for payload in PAYLOADS:
            base = results.throughput.get(f"{payload}/raw")
            fast = results.throughput.get(f"{payload}/raw_1ms")
            for path in (*PATHS, "raw_push"):
                row = results.throughput.get(f"{payload}/{path}")
                if row is None:
                    continue
                vs_base = ratio(row["per_second"], base and base["per_second"])
                vs_fast = ratio(row["per_second"], fast and fast["per_second"])
                cmds = ratio(row["commands_per_call"], base and base["commands_per_call"])
                cpu = row["cpu_ms"]
                out.append(
                    f"{payload:8} {PATH_LABELS[path]:26} {row['per_second']:>9.0f} "
                    f"{fmt_ratio(vs_base):>6} {fmt_ratio(vs_fast):>10} "
                    f"{row['commands_per_call']:>9.1f} {fmt_ratio(cmds):>6}  "
                    f" {cpu['caller']:>9.2f} + {cpu['worker']:>6.2f} + {cpu['redis']:>6.2f}"
                )
    if results.memory:
        mem = results.memory
        out.append("")
        out.append(
            f"REDIS MEMORY  {mem['calls']} typed trivial calls ({options.memory_callers} "
            f"callers, {mem['seconds']:.1f} s, {mem['calls'] / mem['seconds']:.0f} calls/s), "
            "results read   baseline: before the calls"
        )
        out.append(
            f"used_memory {mem['before'] / 1e6:.2f} MB -> {mem['after'] / 1e6:.2f} MB "
            f"({(mem['after'] - mem['before']) / 1e6:+.2f} MB, "
            f"{fmt_ratio(ratio(mem['after'], mem['before']))});  keys {mem['keys_before']} -> "
            f"{mem['keys_after']};  stream length {mem['stream_length']};  "
            f"pending entries {mem['pending']}"
        )
        out.append(
            f"used_memory_dataset {mem['dataset_before'] / 1e6:.2f} MB -> "
            f"{mem['dataset_after'] / 1e6:.2f} MB "
            f"({(mem['dataset_after'] - mem['dataset_before']) / 1e6:+.2f} MB; the data without "
            "client buffers and allocator overhead)"
        )
    if results.codec:
        out.append("")
        typed_p50 = {
            payload: results.latency[f"{payload}/typed"]["p50_ms"]
            for payload in PAYLOADS
            if f"{payload}/typed" in results.latency
        }
        out.append(
            "ENCODE/DECODE per call (in process, us)   baseline: the same conversion by hand "
            "(model_dump(mode='json') + to_json / from_json + model_validate)"
        )
        head = (
            f"{'payload':8} {'step':14} {'TypeAdapter':>11} {'by hand':>9} {'ratio':>6} "
            f"{'of typed p50':>12}"
        )
        out.append(head)
        out.append("-" * len(head))
        for payload in PAYLOADS:
            rows = [row for row in results.codec if row["payload"] == payload]
            for row in rows:
                p50 = typed_p50.get(payload)
                vs_hand = fmt_ratio(ratio(row["typed_us"], row["hand_us"]))
                out.append(
                    f"{payload:8} {row['step']:14} {row['typed_us']:>11.1f} "
                    f"{fmt(row['hand_us'], 1):>9} {vs_hand:>6} {share(row['typed_us'], p50):>12}"
                )
            total = sum(row["typed_us"] for row in rows)
            hand = [row["hand_us"] for row in rows if row["hand_us"] is not None]
            hand_total = sum(hand) if len(hand) == len(rows) else None
            p50 = typed_p50.get(payload)
            out.append(
                f"{payload:8} {'all four':14} {total:>11.1f} {fmt(hand_total, 1):>9} "
                f"{fmt_ratio(ratio(total, hand_total)):>6} "
                f"{share(total, p50):>12}"
            )
    if results.codegen:
        cg = results.codegen
        out.append("")
        out.append(
            f"CODEGEN AT SCALE  synthetic service {cg['models']} models x {cg['methods']} "
            f"operations = {cg['models'] * cg['methods']} ({cg['generated_lines']} generated "
            "lines); fresh processes"
        )
        head = (
            f"{'measure':44} {'wall s':>7} {'ratio':>6} {'peak RSS MB':>11} {'ratio':>6}  baseline"
        )
        out.append(head)
        out.append("-" * len(head))
        imp = cg["bare_import"]
        rows_cg = [
            ("bare import of registry_config", imp, imp, "-"),
            ("dam-codegen, first run (annotates all DAMs)", cg["codegen"], imp, "bare import"),
            (
                "import registry_config + generated module",
                cg["import_generated"],
                imp,
                "bare import",
            ),
            ("dam-codegen --check (unchanged tree)", cg["check"], imp, "bare import"),
            ("dam-codegen after one DAM change", cg["regenerate"], imp, "bare import"),
            ("mypy --strict registry_config (service)", cg["mypy_service"], None, "-"),
            (
                "mypy --strict generated module",
                cg["mypy_generated"],
                cg["mypy_service"],
                "mypy of the service",
            ),
        ]
        for label, run_, base_, base_label in rows_cg:
            out.append(
                f"{label:44} {run_['seconds']:>7.2f} "
                f"{fmt_ratio(ratio(run_['seconds'], base_ and base_['seconds'])):>6} "
                f"{run_['peak_rss_mb']:>11.0f} "
                f"{fmt_ratio(ratio(run_['peak_rss_mb'], base_ and base_['peak_rss_mb'])):>6}  "
                f"{base_label}"
            )
        out.append(
            "  (bytecode cache on, as Python's default; mypy figures use a cache already holding "
            "core_sdk and the libraries)"
        )
    if results.targets:
        out.append("")
        out.append("TARGETS (issue 5)")
        for target in results.targets:
            verdict = "PASS" if target["ok"] else "MISS"
            out.append(f"  {verdict}  {target['target']}: {target['measured']}")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    options = parse(argv)
    results = run(options)
    evaluate(results)
    print(render(results, options), flush=True)
    if options.json_path:
        Path(options.json_path).write_text(json.dumps(asdict(results), indent=2, default=str))
    return 0
