"""The pipeline: load -> inspect -> render -> (annotate) -> file updates. Writes nothing.

Runs in the process that loads the service (see :mod:`codegen.isolation`).
"""

from __future__ import annotations

from pathlib import Path

from codegen import ir
from codegen.annotate import BrokerAnnotation, ModuleContext, annotate_source
from codegen.config import Job
from codegen.errors import CodegenError
from codegen.inspection import OutputTarget, inspect_service
from codegen.isolation import Generation
from codegen.loading import display_path, loaded_registry, package_root, resolve_registry
from codegen.output import FileUpdate, read_current
from codegen.render import render_module
from codegen.style import discover_style


def generate(job: Job) -> Generation:
    """Load the service, render its module, compute the annotations; touches no file.

    This imports the service's code into the current process: :func:`generate_isolated`
    runs it in a fresh interpreter instead.
    """
    spec = resolve_registry(job.registry, job.base)
    if job.output.is_dir():
        raise CodegenError(
            f"output {display_path(job.output)} is a directory; give the module to write, "
            f"e.g. -o {display_path(job.output / '_tasks.py')}"
        )
    if not job.output.parent.is_dir():
        raise CodegenError(f"output directory {display_path(job.output.parent)} does not exist")
    _, output_module = package_root(job.output)
    with loaded_registry(spec) as loaded:
        service = inspect_service(loaded, OutputTarget(job.output, output_module))
    text = render_module(service, discover_style(job.output))
    module = FileUpdate(job.output, display_path(job.output), read_current(job.output), text)
    annotations = annotation_updates(service) if job.annotate else ()
    summary = tuple(
        f"{model.name}: {len(model.operations)} operations ({model.manager_label})"
        for model in service.models
    )
    return Generation((module, *annotations), tuple(_notes(service)), summary)


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
            raise CodegenError(f"{display_path(path)} does not exist any more")
        context = ModuleContext(
            path=display_path(path),
            package=targets[0].package,
            generated_module=service.output_module or "",
            style=discover_style(path),
        )
        wanted = annotate_source(
            current,
            [BrokerAnnotation(t.qualname, t.broker_class) for t in targets],
            context,
        )
        updates.append(FileUpdate(path, display_path(path), current, wanted))
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
