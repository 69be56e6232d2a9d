"""Helpers of the example-service tests (fixtures are in conftest.py).

The example's package is called ``app``; it is never imported into the pytest process (other
test areas register their own models), so everything that imports it runs in a subprocess
with the example directory as its working directory.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_DIR = REPO_ROOT / "examples" / "warehouse"
TASKS_MODULE = EXAMPLE_DIR / "app" / "_tasks.py"
VENV_BIN = Path(sys.executable).parent
PG_ADMIN_DSN = os.environ.get(
    "DAM_TEST_PG_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("DAM_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def tool(name: str) -> str:
    """A console script of the running interpreter's environment (the project's .venv)."""
    return str(VENV_BIN / name)


def subprocess_env(**extra: str) -> dict[str, str]:
    """The environment for example subprocesses: no ENV=test leaking in from conftest."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    for key in ("ENV", "REDIS_URL", "DATABASE_URL", "REDIS_QUEUE_NAME", "REDIS_KEY_PREFIX"):
        env.pop(key, None)
    env["PYTHONHASHSEED"] = env.get("PYTHONHASHSEED", "0")
    env.update(extra)
    return env


@dataclass(frozen=True)
class ExampleServices:
    """A private PostgreSQL database and private Redis names for the example's worker."""

    database_url: str
    tag: str

    def env(self) -> dict[str, str]:
        return {
            "ENV": "dev",
            "DATABASE_URL": self.database_url,
            "REDIS_URL": REDIS_URL,
            "REDIS_QUEUE_NAME": f"{self.tag}:queue",
            "REDIS_KEY_PREFIX": self.tag,
            "REDIS_CONSUMER_GROUP": f"{self.tag}:workers",
            "REDIS_XREAD_BLOCK_MS": "500",
            "LOGGING_LEVEL": "INFO",
        }


class Worker:
    """A ``taskiq worker app.worker:broker`` process (the stock CLI) in its own process group."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.log_path = log_path
        with log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [tool("taskiq"), "worker", "app.worker:broker", "--workers", "1"],
                cwd=EXAMPLE_DIR,
                env=subprocess_env(**env),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the example worker exited early:\n{self.log()}")
            if "Listening started" in self.log():
                return
            time.sleep(0.1)
        pytest.fail(f"the example worker did not start within {timeout}s:\n{self.log()}")

    def stop(self) -> None:
        """SIGTERM the group, SIGKILL it when it does not exit promptly."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):  # stragglers of the group
            os.killpg(self.process.pid, signal.SIGKILL)
