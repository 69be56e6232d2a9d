"""The wheel: contents, a non-editable install in a fresh venv, dam-codegen outside the repo."""

from __future__ import annotations

import filecmp
import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest
from example_support import EXAMPLE_DIR, REPO_ROOT, TASKS_MODULE, subprocess_env

BUILD_IGNORE = shutil.ignore_patterns(
    ".git", ".venv", "__pycache__", "build", "dist", "*.egg-info", ".*_cache", "tests", "bench"
)


def run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = subprocess_env(**env)
    environment.pop("PYTHONPATH", None)
    result = subprocess.run(
        args, cwd=cwd, env=environment, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``pip wheel --no-deps`` of a copy of the source tree (keeps build/ out of the repo)."""
    source = tmp_path_factory.mktemp("source") / "dam-sdk"
    shutil.copytree(REPO_ROOT, source, ignore=BUILD_IGNORE)
    out = tmp_path_factory.mktemp("wheel")
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--disable-pip-version-check",
            "-q",
            "-w",
            str(out),
            str(source),
        ],
        cwd=out,
    )
    (built,) = out.glob("dam_sdk-*.whl")
    return built


def test_wheel_contents(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for package in ("core_sdk", "codegen"):
        assert f"{package}/py.typed" in names
        for source in (REPO_ROOT / package).rglob("*.py"):
            if "__pycache__" not in source.parts:
                assert source.relative_to(REPO_ROOT).as_posix() in names
    templates = [p for p in (REPO_ROOT / "templates").iterdir() if p.suffix in {".jinja", ".j2"}]
    assert templates, "no templates found in the source tree"
    for template in templates:
        assert template.relative_to(REPO_ROOT).as_posix() in names
    (entry_points,) = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
    text = zipfile.ZipFile(wheel).read(entry_points).decode()
    assert "dam-codegen = codegen.cli:main" in text
    assert not any(name.startswith(("tests/", "examples/", "bench/")) for name in names)


def test_installed_wheel_generates_the_example_outside_the_repo(
    wheel: Path, tmp_path: Path
) -> None:
    # A fresh venv with the wheel installed normally (not editable). Its dependencies are
    # borrowed from the project's venv through a .pth line, so the test needs no download;
    # `pip check` then verifies that the wheel's declared ranges accept those versions.
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--no-deps",
            "--disable-pip-version-check",
            "-q",
            str(wheel),
        ],
        cwd=tmp_path,
    )
    site = Path(
        run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            cwd=tmp_path,
        ).stdout.strip()
    )
    (site / "zz_project_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    run([str(python), "-m", "pip", "check", "--disable-pip-version-check"], cwd=tmp_path)
    where = run(
        [
            str(python),
            "-c",
            "import codegen, core_sdk, templates; "
            "print(codegen.__file__); print(core_sdk.__file__); print(templates.__file__)",
        ],
        cwd=tmp_path,
    ).stdout.split()
    assert all(Path(path).is_relative_to(site) for path in where), where

    service = tmp_path / "service"
    shutil.copytree(EXAMPLE_DIR, service, ignore=shutil.ignore_patterns("__pycache__"))
    (service / "app" / "_tasks.py").unlink()
    assert not service.resolve().is_relative_to(REPO_ROOT)
    run([str(env_dir / "bin" / "dam-codegen")], cwd=service)  # reads [tool.dam-codegen]

    assert (service / "app" / "_tasks.py").read_text() == TASKS_MODULE.read_text()
    assert filecmp.cmp(
        service / "app" / "managers.py", EXAMPLE_DIR / "app" / "managers.py", shallow=False
    ), "the broker annotation step changed managers.py"
    run([str(env_dir / "bin" / "dam-codegen"), "--check"], cwd=service)
