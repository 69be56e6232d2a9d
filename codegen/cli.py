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
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from codegen import ir
from codegen.annotate import BrokerAnnotation, ModuleContext, annotate_source
from codegen.config import Job, find_pyproject, jobs_from_pyproject
from codegen.errors import CodegenError
from codegen.inspection import OutputTarget, inspect_service
from codegen.loading import loaded_registry, package_root, resolve_registry
from codegen.output import FileUpdate, read_current
from codegen.render import render_module
from codegen.style import discover_style

EXIT_OK, EXIT_DIFFERENT, EXIT_ERROR = 0, 1, 2


@dataclass(frozen=True)
class Generation:
    """Everything one service's run wants on disk, and what to tell the user."""

    service: ir.Service
    module: FileUpdate
    annotations: tuple[FileUpdate, ...]

    @property
    def updates(self) -> tuple[FileUpdate, ...]:
        return (self.module, *self.annotations)


def _display(path: Path) -> str:
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.resolve().as_posix()


def generate(job: Job) -> Generation:
    """Load the service, render its module, compute the annotations; touches no file."""
    spec = resolve_registry(job.registry, job.base)
    if not job.output.parent.is_dir():
        raise CodegenError(f"output directory {_display(job.output.parent)} does not exist")
    _, output_module = package_root(job.output)
    with loaded_registry(spec) as loaded:
        service = inspect_service(loaded, OutputTarget(job.output, output_module))
    text = render_module(service, discover_style(job.output))
    module = FileUpdate(job.output, _display(job.output), read_current(job.output), text)
    annotations = annotation_updates(service) if job.annotate else ()
    return Generation(service, module, annotations)


def annotation_updates(service: ir.Service) -> tuple[FileUpdate, ...]:
    """The codemod's result for every DAM file with a custom manager class."""
    by_path: dict[Path, list[ir.AnnotationTarget]] = {}
    for model in service.models:
        if model.annotation_target is not None:
            by_path.setdefault(model.annotation_target.path, []).append(model.annotation_target)
    updates = []
    for path, targets in sorted(by_path.items()):
        current = read_current(path)
        if current is None:
            raise CodegenError(f"{_display(path)} does not exist any more")
        context = ModuleContext(
            path=_display(path),
            package=targets[0].package,
            generated_module=service.output_module or "",
            style=discover_style(path),
        )
        wanted = annotate_source(
            current,
            [BrokerAnnotation(t.qualname, t.broker_class) for t in targets],
            context,
        )
        updates.append(FileUpdate(path, _display(path), current, wanted))
    return tuple(updates)


def _notes(service: ir.Service) -> list[str]:
    notes = []
    for model in service.models:
        if model.skipped:
            notes.append(
                f"{model.name} ({model.manager_label}): not async, so not operations "
                f"(skipped): {', '.join(model.skipped)}"
            )
    return notes + list(service.notes)


def run(job: Job, *, check: bool, verbose: bool, out: TextIO, err: TextIO) -> int:
    if verbose:
        print(f"dam-codegen: loading {job.registry}", file=err)
    generation = generate(job)
    for note in _notes(generation.service):
        print(f"note: {note}", file=err)
    if verbose:
        for model in generation.service.models:
            print(
                f"  {model.name}: {len(model.operations)} operations ({model.manager_label})",
                file=err,
            )
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
            parser.error("-o/--output is required with REGISTRY")
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


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    out, err = sys.stdout, sys.stderr
    try:
        jobs = _jobs(args, parser)
    except CodegenError as error:
        print(f"dam-codegen: error: {error}", file=err)
        return EXIT_ERROR
    status = EXIT_OK
    for job in jobs:
        try:
            status = max(status, run(job, check=args.check, verbose=args.verbose, out=out, err=err))
        except CodegenError as error:
            for line in str(error).splitlines():
                print(f"{line}" if ":" in line.split(" ")[0] else f"error: {line}", file=err)
            status = EXIT_ERROR
    return status


if __name__ == "__main__":
    sys.exit(main())
