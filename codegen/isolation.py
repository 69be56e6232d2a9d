"""Run one service's generation in a fresh interpreter.

Loading a service imports its code: its modules, its SQLModel tables (registered in a
process-wide metadata), its registrations. A fresh ``python -m codegen.isolation`` per service
keeps services (and repeated runs in one process, as in tests) from seeing each other. The
child receives the job and returns the result as JSON on stdin/stdout.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codegen.config import Job
from codegen.errors import CodegenError, CodegenErrors, flatten
from codegen.ir import SourceLocation
from codegen.output import FileUpdate


@dataclass(frozen=True)
class Generation:
    """Everything one service's run wants on disk, and what to tell the user."""

    updates: tuple[FileUpdate, ...]  # the generated module first, then annotated DAM files
    notes: tuple[str, ...]  # always shown (skipped methods, dropped metadata)
    summary: tuple[str, ...]  # shown with -v


def _job_to_json(job: Job) -> dict[str, Any]:
    return {
        "registry": job.registry,
        "output": str(job.output),
        "base": str(job.base),
        "annotate": job.annotate,
        "cwd": str(Path.cwd()),
    }


def _generation_to_json(generation: Generation) -> dict[str, Any]:
    return {
        "updates": [
            {
                "path": str(update.path),
                "display": update.display,
                "current": update.current,
                "wanted": update.wanted,
            }
            for update in generation.updates
        ],
        "notes": list(generation.notes),
        "summary": list(generation.summary),
    }


def _generation_from_json(data: dict[str, Any]) -> Generation:
    updates = tuple(
        FileUpdate(Path(u["path"]), u["display"], u["current"], u["wanted"])
        for u in data["updates"]
    )
    return Generation(updates, tuple(data["notes"]), tuple(data["summary"]))


TIMEOUT_VARIABLE = "DAM_CODEGEN_TIMEOUT"
DEFAULT_TIMEOUT = 300.0  # seconds; a 300-model service takes about 10


def _timeout() -> float:
    text = os.environ.get(TIMEOUT_VARIABLE, "")
    try:
        value = float(text) if text.strip() else DEFAULT_TIMEOUT
    except ValueError:
        raise CodegenError(f"{TIMEOUT_VARIABLE}={text!r} is not a number of seconds") from None
    if not value > 0:
        raise CodegenError(f"{TIMEOUT_VARIABLE}={text!r} must be a positive number of seconds")
    return value


def _loader_environment() -> dict[str, str]:
    """The loader's environment: ``ENV=test`` and no ``REDIS_URL``, so a service that builds
    the broker at import (``core_sdk.broker.setup``) gets the in-process broker and never
    needs Redis (nor a valid ``REDIS_URL``), whatever the shell's settings."""
    env = {**os.environ, "ENV": "test"}
    env.pop("REDIS_URL", None)
    return env


def generate_isolated(job: Job) -> Generation:
    """:func:`codegen.pipeline.generate` in a child interpreter; its errors are raised here."""
    timeout = _timeout()
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "codegen.isolation"],
            input=json.dumps(_job_to_json(job)),
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
            env=_loader_environment(),
        )
    except subprocess.TimeoutExpired:
        raise CodegenError(
            f"loading {job.registry} did not finish within {timeout:g} s (does importing the "
            "service block: a network call, a lock, a thread it waits for?); the generator "
            f"process was stopped. {TIMEOUT_VARIABLE}=<seconds> allows longer"
        ) from None
    try:
        reply = json.loads(completed.stdout)
    except json.JSONDecodeError:
        output = completed.stderr.strip().splitlines()[-20:]
        raise CodegenError(
            f"the generator process loading {job.registry} ended (exit status "
            f"{completed.returncode}) without a reply: the service's code may have ended the "
            "process while being loaded (os._exit(), a signal, a crash in an extension)"
            + ("; its last output:\n" + "\n".join(output) if output else "")
        ) from None
    if "errors" in reply:
        errors = [
            CodegenError(e["message"], SourceLocation(e["path"], e["line"]) if e["path"] else None)
            for e in reply["errors"]
        ]
        raise errors[0] if len(errors) == 1 else CodegenErrors(errors)
    return _generation_from_json(reply)


def _child() -> None:
    """Read the job on stdin, write the reply on stdout, exit at once.

    The reply goes to a private copy of fd 1; fd 1 itself is pointed at stderr, so whatever the
    service prints or writes to fd 1 while loading (``print``, ``os.write(1, ...)``, a C
    library) cannot corrupt it. ``os._exit`` ends the process even when the service's code
    left non-daemon threads running.
    """
    reply_fd = os.dup(1)
    os.dup2(2, 1)
    from codegen.pipeline import generate

    data = json.loads(sys.stdin.read())
    os.chdir(data["cwd"])
    job = Job(data["registry"], Path(data["output"]), Path(data["base"]), data["annotate"])
    reply: dict[str, Any]
    try:
        reply = _generation_to_json(generate(job))
    except CodegenError as error:
        errors = flatten(error)
        reply = {"errors": [_error_to_json(e) for e in errors]}
    except SystemExit as exc:  # the service's code, called after the import
        message = f"the service's code called sys.exit({exc.code!r}) while being inspected"
        reply = {"errors": [_error_to_json(CodegenError(message))]}
    except Exception:  # an internal bug: report it with its traceback
        reply = {"errors": [_error_to_json(CodegenError(traceback.format_exc()))]}
    with os.fdopen(reply_fd, "w", encoding="utf-8") as out:
        out.write(json.dumps(reply))
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(0)


def _error_to_json(error: CodegenError) -> dict[str, Any]:
    location = error.location
    return {
        "message": error.message,
        "path": location.path if location else None,
        "line": location.line if location else 0,
    }


if __name__ == "__main__":
    _child()
