"""`valueprint annotate ...`: curators create projects, import corpora, fix flagged units and export."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from valueprint.cli.common import ReportingGroup, app, console, current_settings

annotate_app = typer.Typer(
    cls=ReportingGroup, no_args_is_help=True, help="Annotation projects: import, curate and export labelled text."
)
app.add_typer(annotate_app, name="annotate")

ProjectRef = Annotated[str, typer.Argument(help="The project's id or name.")]


def _services():
    from valueprint.services import Services

    return Services.build(current_settings())


@annotate_app.command("curator")
def create_curator() -> None:
    """Create a curator account and print its resume code (sign in with it on /resume)."""
    from valueprint.accounts.roles import Role

    created = _services().accounts.create(role=Role.CURATOR)
    typer.echo(f"curator {created.id}\nresume code: {created.resume_code}")


@annotate_app.command("create")
def create_project(
    name: str,
    instructions: Annotated[str, typer.Option(help="Shown to annotators.")] = "",
    dimension: Annotated[
        list[str] | None, typer.Option(help="Repeat: value dimensions to label (default all).")
    ] = None,
    custom_label: Annotated[list[str] | None, typer.Option(help="Repeat: extra labels annotators may tick.")] = None,
    overlap: Annotated[int, typer.Option(help="Annotators per unit (k).")] = 1,
    gold_share: Annotated[float, typer.Option(help="Share of units marked gold (0-0.5).")] = 0.0,
    segmentation: Annotated[str, typer.Option(help="sentences, turns or posts.")] = "sentences",
    no_why: Annotated[bool, typer.Option("--no-why", help="Do not offer the free-text why.")] = False,
) -> None:
    """Create an annotation project and print it as JSON."""
    schema = {"dimensions": dimension or [], "custom_labels": custom_label or [], "why": not no_why}
    fields = {
        "name": name,
        "instructions": instructions,
        "label_schema": schema,
        "overlap": overlap,
        "gold_share": gold_share,
        "segmentation": segmentation,
    }
    created = _services().annotate.create_project(None, fields)
    typer.echo(created.model_dump_json(indent=2))


@annotate_app.command("projects")
def list_projects() -> None:
    """List the annotation projects."""
    for project in _services().annotate.projects():
        console.print(f"{project.id}  {project.name}  k={project.overlap}  {project.segmentation}", markup=False)


@annotate_app.command("import")
def import_documents(
    project: ProjectRef,
    path: Path,
    fmt: Annotated[
        str | None, typer.Option("--format", help="jsonl, csv, lines, files, hf or labelstudio (default: by name).")
    ] = None,
    text_field: Annotated[str, typer.Option(help="The field holding the text.")] = "text",
    id_field: Annotated[str, typer.Option(help="The field holding a document's own id.")] = "id",
    licence: Annotated[str | None, typer.Option(help="Licence of documents without a licence field.")] = None,
    source: Annotated[str | None, typer.Option(help="Source of documents without a source field.")] = None,
    job: Annotated[
        bool | None,
        typer.Option(
            "--job/--now",
            help="Run as a resumable job with a progress bar (default: for files of more than 200 documents).",
        ),
    ] = None,
    batch: Annotated[
        int | None, typer.Option(help="Documents sanitised per committed chunk of a job (default 200).")
    ] = None,
) -> None:
    """Import a file or folder: every row checked first (nothing stored if one is bad), then segmented,
    near-duplicates dropped, sanitised and stored; annotators see its units only once all are stored.
    A large import runs as a job: killed or interrupted, it carries on with `annotate resume-import`."""
    from valueprint.annotate.import_job import SYNCHRONOUS_MAX
    from valueprint.annotate.jobs import IMPORT_BATCH
    from valueprint.annotate.readers import Fields, read_records

    services = _services()
    annotate = services.annotate
    project_id = annotate.resolve(project)
    records = read_records(path, fmt, Fields(text=text_field, id=id_field, source=source, licence=licence))
    if not (job if job is not None else len(records) > SYNCHRONOUS_MAX):
        typer.echo(json.dumps(annotate.import_records(project_id, records).model_dump()))
        return
    import_id = annotate.stage_records(project_id, records, path.name)
    _finish_import(services, services.start_import(project_id, import_id, batch or IMPORT_BATCH))


@annotate_app.command("resume-import")
def resume_import(job_id: Annotated[str, typer.Argument(help="The import job (import-...).")]) -> None:
    """Carry on with an import job that a kill or Ctrl-C stopped, from its last committed chunk."""
    services = _services()
    _finish_import(services, services.resume_import(job_id))


@annotate_app.command("imports")
def list_imports(project: ProjectRef) -> None:
    """The project's job imports, newest first: pending (running or waiting to be resumed) or done."""
    annotate = _services().annotate
    for row in annotate.imports(annotate.resolve(project)):
        typer.echo(row.model_dump_json())


@annotate_app.command("cancel")
def cancel(job_id: Annotated[str, typer.Argument(help="The job's id.")]) -> None:
    """Cancel a job; a cancelled import deletes every document and unit it stored."""
    typer.echo(json.dumps(_services().annotate_jobs.cancel(job_id)))


def _finish_import(services: Any, started: dict[str, Any]) -> None:
    """Follow an import job to its end; the final status and counts as one JSON line (exit 1 unless done)."""
    try:
        final = _follow(services.annotate_jobs, started)
    except KeyboardInterrupt:
        console.print(
            f"[yellow]stopped[/]: nothing of it is visible yet; carry on with "
            f"`valueprint annotate resume-import {started['job_id']}` or drop it with `valueprint annotate cancel`",
            highlight=False,
        )
        raise typer.Exit(130) from None
    summary = {key: final.get(key) for key in ("job_id", "import_id", "state", "error", "note")}
    typer.echo(json.dumps(summary | (final.get("imported") or {})))
    if final["state"] != "done":
        raise typer.Exit(1)


@annotate_app.command("flagged")
def flagged(project: ProjectRef) -> None:
    """Units hidden because an annotator reported personal data in them."""
    annotate = _services().annotate
    for unit in annotate.flagged(annotate.resolve(project)):
        typer.echo(json.dumps(unit.model_dump(), ensure_ascii=False))


@annotate_app.command("raw")
def raw(project: ProjectRef, unit_id: int) -> None:
    """A unit's original, unsanitised text."""
    annotate = _services().annotate
    typer.echo(annotate.raw_unit(annotate.resolve(project), unit_id).raw)


@annotate_app.command("fix")
def fix(project: ProjectRef, unit_id: int, text: str) -> None:
    """Replace a flagged unit's text (sanitised once more); annotators see it again."""
    annotate = _services().annotate
    annotate.fix_unit(annotate.resolve(project), unit_id, text)
    typer.echo(f"unit {unit_id} fixed")


@annotate_app.command("export")
def export(
    project: ProjectRef,
    fmt: Annotated[str, typer.Option("--format", help="jsonl or labelstudio.")] = "jsonl",
    out: Annotated[Path | None, typer.Option(help="The file to write (default: standard output).")] = None,
) -> None:
    """Export the project's units with their annotations (JSONL with aggregates, or Label Studio JSON)."""
    from valueprint.errors import InputFileError

    annotate = _services().annotate
    project_id = annotate.resolve(project)
    if fmt not in ("jsonl", "labelstudio"):
        raise InputFileError(f"unknown export format {fmt!r}; choose jsonl or labelstudio")
    chunks = annotate.export_jsonl(project_id) if fmt == "jsonl" else annotate.export_labelstudio(project_id)
    stream = out.open("w", encoding="utf-8") if out else sys.stdout
    try:
        for chunk in chunks:
            stream.write(chunk)
    finally:
        if out:
            stream.close()
    if out:
        console.print(f"[green]written[/] {out}")


@annotate_app.command("label-config")
def label_config(project: ProjectRef) -> None:
    """The Label Studio labelling config (XML) for the project's exports."""
    annotate = _services().annotate
    typer.echo(annotate.labelstudio_config(annotate.resolve(project)))


def _follow(jobs: Any, status: dict[str, Any]) -> dict[str, Any]:
    """Wait for a job, showing its progress as a rich bar (done of total, with the job's own ETA); the final
    status."""
    import time

    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    job_id = status["job_id"]
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[eta]}"))
    with Progress(*columns, console=Console(stderr=True)) as progress:  # stdout: the final JSON
        bar = progress.add_task(f"{job_id} ({status.get('engine')})", total=None, eta="")
        while (status := jobs.status(job_id))["state"] in ("queued", "running"):
            eta = f"eta {status['eta_s']:.0f} s" if status.get("eta_s") is not None else status["state"]
            progress.update(bar, completed=status.get("done") or 0, total=status.get("total"), eta=eta)
            time.sleep(0.5)
        jobs.wait(job_id)
        status = jobs.status(job_id)
        progress.update(bar, completed=status.get("done") or 0, total=status.get("total"), eta=status["state"])
    return status


@annotate_app.command("prelabel")
def prelabel(
    project: ProjectRef,
    batch: Annotated[int, typer.Option(help="Units per committed batch.")] = 64,
) -> None:
    """Pre-label every unit without a machine pre-label (a job: in-process, or on Dask when configured;
    run it again after a kill and it carries on)."""
    services = _services()
    project_id = services.annotate.resolve(project)
    final = _follow(services.annotate_jobs, services.annotate_jobs.prelabel(project_id, batch))
    typer.echo(json.dumps(final))
    if final["state"] != "done":
        raise typer.Exit(1)


@annotate_app.command("export-job")
def export_job(
    project: ProjectRef,
    fmt: Annotated[str, typer.Option("--format", help="jsonl, labelstudio, dpo or hf.")] = "jsonl",
) -> None:
    """Export as a background job streaming to a file (DPO pairs and Hugging Face datasets too); prints the path."""
    services = _services()
    project_id = services.annotate.resolve(project)
    final = _follow(services.annotate_jobs, services.annotate_jobs.export(project_id, fmt))
    if final["state"] != "done":
        typer.echo(json.dumps(final))
        raise typer.Exit(1)
    typer.echo(json.dumps(final | {"path": str(services.annotate_jobs.output(final["job_id"]))}))


@annotate_app.command("calibrate")
def calibrate(
    limit: Annotated[int, typer.Option(help="At most this many texts per validation set.")] = 2000,
    out: Annotated[Path | None, typer.Option(help="Where to write it (default: the packaged file).")] = None,
) -> None:
    """Refit the pre-label calibration on validation splits (never test splits) and print its ECE."""
    from valueprint.annotate.calibrate import fit_calibration
    from valueprint.annotate.prelabel import CALIBRATION_FILE
    from valueprint.evaluate.evaluator import shared_evaluator

    settings = current_settings()
    calibration = fit_calibration(shared_evaluator(settings), settings.datasets_dir, limit)
    target = out or Path(__file__).parents[1] / "annotate" / CALIBRATION_FILE
    target.write_text(calibration.to_json() + "\n", encoding="utf-8")
    report = {k: v for k, v in calibration.report.items() if k != "presence_per_dimension"}
    typer.echo(json.dumps(report, indent=1))


@annotate_app.command("search")
def search(
    project: ProjectRef,
    query: Annotated[str, typer.Argument(help='What to find, e.g. "posts where someone is bullied".')],
    top: Annotated[int, typer.Option(help="How many units.")] = 20,
    into: Annotated[
        str | None, typer.Option(help="Copy the matches (with their pre-labels where they fit) into this project.")
    ] = None,
) -> None:
    """Units matching a description, by embedding search with the evaluator's MiniLM backbone."""
    from valueprint.annotate.select import evaluator_embedder
    from valueprint.evaluate.evaluator import shared_evaluator

    services = _services()
    annotate = services.annotate
    project_id = annotate.resolve(project)
    matches = annotate.search(project_id, query, evaluator_embedder(shared_evaluator(services.settings)), top)
    for match in matches:
        typer.echo(json.dumps({"unit_id": match.unit_id, "score": match.score, "text": match.text}, ensure_ascii=False))
    if into:
        report = annotate.select_into(project_id, matches, annotate.resolve(into), f"search:{project}:{query}"[:500])
        typer.echo(json.dumps(report.model_dump()))
