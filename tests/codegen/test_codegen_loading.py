"""Loading a service whose code misbehaves at import: a clear ``path:line: error`` or success,
never a hang, a traceback or an "internal error" without detail."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from codegen_helpers import tool_env

MINI = ["cg_mini/registry_config.py", "-o", "cg_mini/_tasks.py"]
SHARED = "cg_mini/shared.py"


def run_bounded(
    args: list[str], cwd: Path, *, env: dict[str, str] | None = None, limit: float = 60
) -> subprocess.CompletedProcess[str]:
    """``dam-codegen ARGS``; a run that outlives ``limit`` is killed with its children."""
    process = subprocess.Popen(
        [sys.executable, "-m", "codegen.cli", *args],
        cwd=cwd,
        env=env or tool_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise AssertionError(f"dam-codegen {' '.join(args)} still ran after {limit} s") from None
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def _service(service_root: Callable[..., Path], code: str) -> tuple[Path, int]:
    """cg_mini with ``code`` appended to its shared.py; (root, line of the first added line)."""
    root = service_root("cg_mini")
    shared = root / SHARED
    before = shared.read_text()
    shared.write_text(before + code)
    return root, len(before.splitlines()) + 1


def test_a_non_daemon_thread_started_at_import_does_not_hang(
    service_root: Callable[..., Path],
) -> None:
    root, _ = _service(
        service_root,
        "import threading, time\nthreading.Thread(target=time.sleep, args=(3600,)).start()\n",
    )
    result = run_bounded(MINI, root)
    assert result.returncode == 0, result.stderr
    assert (root / "cg_mini" / "_tasks.py").is_file()


def test_an_import_that_blocks_is_stopped_after_the_timeout(
    service_root: Callable[..., Path],
) -> None:
    root, _ = _service(service_root, "import time\ntime.sleep(3600)\n")
    result = run_bounded(MINI, root, env=tool_env(DAM_CODEGEN_TIMEOUT="3"))
    assert result.returncode == 2
    assert result.stderr.startswith(
        "dam-codegen: error: loading cg_mini/registry_config.py did not finish within 3 s"
    ), result.stderr
    assert "DAM_CODEGEN_TIMEOUT=<seconds> allows longer" in result.stderr


def test_output_of_the_service_on_fd_1_does_not_corrupt_the_reply(
    service_root: Callable[..., Path],
) -> None:
    root, _ = _service(
        service_root, 'import os\nos.write(1, b"raw fd 1\\n")\nprint("printed", flush=True)\n'
    )
    result = run_bounded(MINI, root)
    assert result.returncode == 0, result.stderr
    assert (root / "cg_mini" / "_tasks.py").is_file()
    assert result.stdout == ""


def test_sys_exit_at_import_is_an_error_at_its_line(service_root: Callable[..., Path]) -> None:
    root, line = _service(service_root, "import sys\n\nsys.exit(0)\n")
    result = run_bounded(MINI, root)
    assert result.returncode == 2
    assert result.stderr == (
        f"{SHARED}:{line + 2}: error: importing cg_mini.registry_config failed: the service "
        "called sys.exit(0) while being imported\n"
    )


def test_a_process_that_ends_without_replying_is_explained(
    service_root: Callable[..., Path],
) -> None:
    root, _ = _service(service_root, 'import os\nprint("bye", flush=True)\nos._exit(3)\n')
    result = run_bounded(MINI, root)
    assert result.returncode == 2
    assert result.stderr.startswith(
        "dam-codegen: error: the generator process loading cg_mini/registry_config.py ended "
        "(exit status 3) without a reply: the service's code may have ended the process"
    ), result.stderr
    assert result.stderr.endswith("its last output:\nbye\n")


def test_an_exception_whose_str_raises(service_root: Callable[..., Path]) -> None:
    root, line = _service(
        service_root,
        "class Boom(Exception):\n    def __str__(self) -> str:\n        raise RuntimeError\n\n\n"
        "raise Boom()\n",
    )
    result = run_bounded(MINI, root)
    assert result.returncode == 2
    assert result.stderr == (
        f"{SHARED}:{line + 5}: error: importing cg_mini.registry_config failed: Boom: <the "
        "exception's str() raised RuntimeError>\n"
    )


def test_a_dam_file_that_is_not_utf8_is_an_error_not_a_traceback(
    service_root: Callable[..., Path],
) -> None:
    root = service_root("cg_mini")
    managers = root / "cg_mini" / "domain" / "managers.py"
    text = "# -*- coding: latin-1 -*-\n" + managers.read_text() + "\n# café\n"
    managers.write_bytes(text.encode("latin-1"))
    result = run_bounded(MINI, root)
    assert result.returncode == 2
    assert result.stderr == (
        f"cg_mini/domain/managers.py:{len(text.splitlines())}: error: the file is not UTF-8 "
        "(byte 0xe9 cannot be decoded); dam-codegen reads and writes UTF-8 files only: convert "
        "it to UTF-8, or run with --no-annotate to leave DAM files alone\n"
    )
    assert managers.read_bytes() == text.encode("latin-1")
    no_annotate = run_bounded([*MINI, "--no-annotate"], root)
    assert no_annotate.returncode == 0, no_annotate.stderr
