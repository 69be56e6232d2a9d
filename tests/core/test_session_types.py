"""The DB layer hands out SQLModel's AsyncSession, so ``self.session.exec(select(...))`` works
at run time and type-checks under ``mypy --strict`` and pyright (strict) in a user's DAM."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
import warnings
from pathlib import Path

from coresvc.models import Depot, DepotCreate, DepotRead, DepotUpdate
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from core_sdk.data_access import LocalDataAccessManager
from core_sdk.db.session import get_current_session, managed_session

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


class ExecDepots(LocalDataAccessManager[Depot, DepotCreate, DepotUpdate, DepotRead]):
    async def names_in(self, city: str) -> list[str]:
        result = await self.session.exec(select(Depot).where(Depot.city == city))
        return sorted(depot.name for depot in result.all())


async def test_sessions_are_sqlmodel_async_sessions_with_exec(database: str) -> None:
    manager = ExecDepots("Depot", Depot)
    city = f"city-{uuid.uuid4().hex[:8]}"
    await manager.create({"name": f"exec-{uuid.uuid4().hex[:8]}", "city": city})
    async with managed_session() as session:
        assert isinstance(session, AsyncSession)
        assert get_current_session() is session and manager.session is session
        with warnings.catch_warnings():
            # SQLModel deprecates execute() on its session: the SDK itself must not use it
            warnings.simplefilter("error", DeprecationWarning)
            names = await manager.names_in(city)
            page = await manager.list(filters={"city": city})
    assert len(names) == 1 and [depot.name for depot in page.items] == names


USER_DAM = '''\
"""A user's DAM written the SQLModel way."""

from __future__ import annotations

from sqlmodel import Field, SQLModel, select

from core_sdk.data_access import LocalDataAccessManager
from core_sdk.db.session import get_current_session, managed_session


class Crate(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    label: str


class CrateManager(LocalDataAccessManager[Crate, Crate, Crate, Crate]):
    async def labels(self) -> list[str]:
        crates = (await self.session.exec(select(Crate))).all()
        return [crate.label for crate in crates]

    async def first_label(self) -> str | None:
        async with managed_session() as session:
            crate = (await session.exec(select(Crate))).first()
        return None if crate is None else crate.label

    async def count(self) -> int:
        session = get_current_session()
        if session is None:
            return 0
        return len((await session.exec(select(Crate.id))).all())
'''


def _user_dam(tmp_path: Path) -> Path:
    (tmp_path / "userdam.py").write_text(USER_DAM)
    return tmp_path


def _env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    env.update(extra)
    return env


def test_session_exec_passes_mypy_strict(tmp_path: Path) -> None:
    root = _user_dam(tmp_path)
    result = subprocess.run(
        [str(BIN / "mypy"), "--strict", "--no-incremental", "--cache-dir=/dev/null", "userdam.py"],
        cwd=root,
        env=_env(MYPYPATH=str(REPO_ROOT)),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_session_exec_passes_pyright_strict(tmp_path: Path) -> None:
    root = _user_dam(tmp_path)
    (root / "pyrightconfig.json").write_text(
        json.dumps(
            {
                "include": ["userdam.py"],
                "extraPaths": [str(REPO_ROOT)],
                "pythonVersion": "3.11",
                "typeCheckingMode": "strict",
            }
        )
    )
    result = subprocess.run(
        [str(BIN / "pyright"), "--outputjson", "--pythonpath", sys.executable],
        cwd=root,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    report = json.loads(result.stdout)
    errors = [d for d in report["generalDiagnostics"] if d["severity"] == "error"]
    assert errors == [], json.dumps(errors, indent=1)
