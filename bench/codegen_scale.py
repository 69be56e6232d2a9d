"""Codegen at scale: a synthetic service of N models x M operations (default 300 x 15).

Each figure is measured in a fresh process, with wall time and the peak RSS of the process tree
(``wait4``; ``dam-codegen`` runs the service in a child interpreter, counted too):

* bare ``import`` of the service's registry config (the baseline; best of ``repeats + 1``)
* ``dam-codegen REGISTRY -o OUT`` on a tree without the module (writes it and the annotations)
* ``import`` of the registry config and the generated module (what every API process and
  worker pays at start-up; best of ``repeats + 1``)
* ``dam-codegen REGISTRY -o OUT --check`` on the unchanged tree (must exit 0; best of ``repeats``)

Python writes and uses its bytecode cache as it does by default (``PYTHONDONTWRITEBYTECODE`` is
dropped for these processes), so "best of" figures are warm-cache figures.
* ``mypy --strict`` of the generated module next to ``mypy --strict`` of the registry config
  alone (the service's own code), both on a cache already holding the libraries (core_sdk,
  sqlmodel, pydantic, ...), so each figure is the cost of the service's modules
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from bench.services import BIN, ROOT, python_path
from bench.synth import write_service


@dataclass
class Run:
    seconds: float
    peak_rss_mb: float
    returncode: int
    output: str


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> Run:
    """Run ``command``; wall time and the peak RSS of its process tree."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert process.stdout is not None
    output = process.stdout.read().decode(errors="replace")
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    return Run(seconds, usage.ru_maxrss / 1024.0, process.returncode, output)


def best(runs: list[Run]) -> Run:
    return min(runs, key=lambda run: run.seconds)


@dataclass
class CodegenScale:
    models: int
    methods: int
    generated_lines: int
    bare_import: Run
    import_generated: Run
    codegen: Run
    check: Run
    regenerate: Run  # after one DAM signature changed: new module, annotations already current
    mypy_service: Run
    mypy_generated: Run


def measure(workdir: Path, models: int, methods: int, repeats: int = 2) -> CodegenScale:
    root = workdir / "synth"
    root.mkdir()
    registry = write_service(root, models, methods)
    relative = str(registry.relative_to(root))
    output = "synthsvc/_tasks.py"
    env = {**os.environ, "PYTHONPATH": python_path(root), "MYPYPATH": str(ROOT)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    python = str(BIN / "python")

    def fail(what: str, run: Run) -> None:
        raise RuntimeError(f"{what} failed (exit {run.returncode}):\n{run.output[-4000:]}")

    imports = [
        timed([python, "-c", "import synthsvc.registry_config"], root, env)
        for _ in range(repeats + 1)
    ]
    for run in imports:
        if run.returncode != 0:
            fail("import of the synthetic registry", run)
    codegen = timed([str(BIN / "dam-codegen"), relative, "-o", output], root, env)
    if codegen.returncode != 0:
        fail("dam-codegen", codegen)
    module = output.removesuffix(".py").replace("/", ".")
    with_generated = [
        timed([python, "-c", f"import synthsvc.registry_config, {module}"], root, env)
        for _ in range(repeats + 1)
    ]
    for run in with_generated:
        if run.returncode != 0:
            fail("import of the generated module", run)
    checks = [
        timed([str(BIN / "dam-codegen"), relative, "-o", output, "--check"], root, env)
        for _ in range(repeats)
    ]
    for run in checks:
        if run.returncode != 0:
            fail("dam-codegen --check on an unchanged tree", run)
    lines = (root / output).read_text().count("\n")

    # the everyday run: one DAM signature changed since the last generation
    managers = root / "synthsvc" / "d00" / "managers.py"
    before = (root / output).read_text()
    changed = managers.read_text().replace("(self, name: str)", "(self, name: str = 'x')", 1)
    managers.write_text(changed)
    regenerate = timed([str(BIN / "dam-codegen"), relative, "-o", output], root, env)
    if regenerate.returncode != 0:
        fail("dam-codegen after a DAM change", regenerate)
    if (root / output).read_text() == before:
        fail("dam-codegen after a DAM change (the module did not change)", regenerate)

    # mypy: warm a cache with the libraries only, then check service / generated module on copies
    probe = root / "deps_probe.py"
    probe.write_text(
        "import core_sdk.data_access\nimport core_sdk.exceptions\nimport core_sdk.registry\n"
        "import pydantic\nimport sqlmodel\n"
    )
    mypy = [str(BIN / "mypy"), "--strict", "--no-error-summary"]
    warm = timed([*mypy, "--cache-dir", str(workdir / "mypy-deps"), str(probe)], root, env)
    if warm.returncode != 0:
        fail("mypy on the library probe", warm)
    for name in ("mypy-service", "mypy-generated"):
        shutil.copytree(workdir / "mypy-deps", workdir / name)
    mypy_service = timed([*mypy, "--cache-dir", str(workdir / "mypy-service"), relative], root, env)
    mypy_generated = timed(
        [*mypy, "--cache-dir", str(workdir / "mypy-generated"), output], root, env
    )
    for what, run in (("mypy (service)", mypy_service), ("mypy (generated)", mypy_generated)):
        if run.returncode != 0:
            fail(what, run)
    return CodegenScale(
        models=models,
        methods=methods,
        generated_lines=lines,
        bare_import=best(imports),
        import_generated=best(with_generated),
        codegen=codegen,
        check=best(checks),
        regenerate=regenerate,
        mypy_service=mypy_service,
        mypy_generated=mypy_generated,
    )
