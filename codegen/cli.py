"""``dam-codegen``: the command line.

    dam-codegen REGISTRY -o OUT [--check] [--no-annotate] [-v]
    dam-codegen [--check] [--no-annotate] [-v]      # services from [tool.dam-codegen]

Exit codes: 0 everything is up to date (or was written), 1 ``--check`` found a difference
(a unified diff is printed), 2 a usage error or a problem in the service's code.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from codegen.config import Job, find_pyproject, jobs_from_pyproject
from codegen.errors import CodegenError, flatten
from codegen.isolation import generate_isolated

EXIT_OK, EXIT_DIFFERENT, EXIT_ERROR = 0, 1, 2


def run(job: Job, *, check: bool, verbose: bool, out: TextIO, err: TextIO) -> int:
    if verbose:
        print(f"dam-codegen: loading {job.registry}", file=err)
    generation = generate_isolated(job)
    for note in generation.notes:
        print(f"note: {note}", file=err)
    if verbose:
        for line in generation.summary:
            print(f"  {line}", file=err)
    status = EXIT_OK
    for update in generation.updates:
        if not update.changed:
            if verbose:
                print(f"dam-codegen: {update.display} is up to date", file=err)
            continue
        if check:
            out.write(update.diff())
            what = "missing" if update.current is None else "out of date"
            print(f"dam-codegen: {update.display} is {what}", file=err)
            status = EXIT_DIFFERENT
        else:
            update.write()
            print(f"dam-codegen: wrote {update.display}", file=err)
    return status


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dam-codegen",
        description="Generate typed broker proxies for a service's DataAccessManagers.",
        epilog="Without REGISTRY, the services listed in [tool.dam-codegen] of the nearest "
        "pyproject.toml are generated. Exit codes: 0 ok, 1 --check found a difference, "
        "2 usage or user-code error.",
    )
    parser.add_argument(
        "registry",
        nargs="?",
        metavar="REGISTRY",
        help="path to the service's registry_config.py, or its dotted module name",
    )
    parser.add_argument("-o", "--output", metavar="OUT", help="the module to write")
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; print a diff and exit 1 when a file is not up to date",
    )
    parser.add_argument(
        "--no-annotate",
        action="store_true",
        help="do not add the typed `broker` property to custom DAM classes",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="say what is done")
    return parser


def _jobs(args: argparse.Namespace, parser: argparse.ArgumentParser) -> list[Job]:
    if args.registry is not None:
        if args.output is None:
            parser.error(
                "-o/--output is required with REGISTRY (or run dam-codegen with no arguments "
                "to use [tool.dam-codegen] in pyproject.toml)"
            )
        cwd = Path.cwd()
        return [
            Job(args.registry, (cwd / args.output).resolve(), cwd, annotate=not args.no_annotate)
        ]
    if args.output is not None:
        parser.error("-o/--output needs REGISTRY")
    pyproject = find_pyproject(Path.cwd())
    if pyproject is None:
        parser.error(
            "no REGISTRY given and no pyproject.toml with [tool.dam-codegen] found in "
            f"{Path.cwd()} or above"
        )
    return jobs_from_pyproject(pyproject, annotate=not args.no_annotate)


def _report(error: CodegenError, err: TextIO) -> None:
    """``path:line: error: message`` per error (compiler style), or ``dam-codegen: error: ...``."""
    errors = flatten(error)
    for each in errors:
        prefix = f"{each.location}: error:" if each.location else "dam-codegen: error:"
        print(f"{prefix} {each.message}", file=err)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    out, err = sys.stdout, sys.stderr
    try:
        jobs = _jobs(args, parser)
    except CodegenError as error:
        _report(error, err)
        return EXIT_ERROR
    status = EXIT_OK
    for job in jobs:
        try:
            status = max(status, run(job, check=args.check, verbose=args.verbose, out=out, err=err))
        except CodegenError as error:
            _report(error, err)
            status = EXIT_ERROR
    return status


if __name__ == "__main__":
    sys.exit(main())
