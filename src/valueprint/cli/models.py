"""The language-model side: the evaluator, steering vectors and personal adapters."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from valueprint.cli.common import (
    ResultsDir,
    adapters_app,
    app,
    console,
    current_settings,
    evaluator_app,
    steer_app,
)


@app.command()
def evaluate(
    source: Annotated[Path, typer.Argument(help="JSONL (objects with a text field, or strings) or CSV with a header.")],
    out: Annotated[Path | None, typer.Option(help="Output JSONL (default: SOURCE with .scores.jsonl).")] = None,
    column: Annotated[str, typer.Option(help="The field or column holding the text.")] = "text",
    explain: Annotated[bool, typer.Option(help="Add the dimensions that drive each score.")] = False,
) -> None:
    """Score every text of a file on the value dimensions."""
    from rich.progress import Progress

    from valueprint.evaluate.evaluator import shared_evaluator
    from valueprint.evaluate.files import count_records, evaluate_file

    target = out or source.with_suffix(".scores.jsonl")
    total = count_records(source)
    evaluator = shared_evaluator(current_settings())
    with Progress(console=console) as progress:
        task = progress.add_task(f"scoring {source.name}", total=total)
        written = evaluate_file(
            evaluator, source, target, column, explain, on_progress=lambda n: progress.update(task, completed=n)
        )
    console.print(f"[green]wrote[/] {written} scored texts to {target}")


@evaluator_app.command("train")
def evaluator_train(
    out: Annotated[
        Path | None, typer.Option(help="Artefact folder (default: VALUEPRINT_EVALUATOR_DIR or the packaged one).")
    ] = None,
    epochs: Annotated[int, typer.Option(min=1, max=20)] = 4,
    seed: int = 13,
    limit: Annotated[int | None, typer.Option(min=8, help="Only this many examples per task (a smoke run).")] = None,
) -> None:
    """Fine-tune the evaluator on the training splits (about 25 minutes on 2 cores)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    from valueprint.evaluate.artefact import packaged_artefact_dir
    from valueprint.evaluate.build import train_evaluator
    from valueprint.evaluate.train import TrainConfig

    settings = current_settings()
    target = out or settings.evaluator_dir or packaged_artefact_dir()
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} steps"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("training", total=None)

        def show(phase: str, done: int, total: int) -> None:
            progress.update(task, description=phase, completed=done, total=total)

        meta = train_evaluator(settings.datasets_dir, target, TrainConfig(epochs=epochs, seed=seed, limit=limit), show)
    console.print(f"[green]trained[/] in {meta['training']['seconds']} s; validation: {meta['validation']}")
    console.print(f"artefact written to {target}")


@evaluator_app.command("report")
def evaluator_report(out: ResultsDir = Path("benchmarks/results")) -> None:
    """Accuracy on the held-out splits as Markdown with a per-category F1 plot."""
    from valueprint.evaluate.evaluator import shared_evaluator
    from valueprint.evaluate.report import coverage_figures, measure_accuracy, write_report

    settings = current_settings()
    evaluator = shared_evaluator(settings)
    with console.status("measuring") as status:
        figures = measure_accuracy(evaluator, settings.datasets_dir, lambda name: status.update(f"measuring: {name}"))
    report, plot = write_report(
        {**figures, **coverage_figures(evaluator), "coverage": evaluator.coverage()}, evaluator.meta, out
    )
    console.print(report.read_text(encoding="utf-8"))
    console.print(f"[green]written[/] {report} and {plot}")


@steer_app.command("train")
def steer_train() -> None:
    """Train one steering vector per value dimension on the local model; the server loads them from the data dir."""
    from rich.progress import Progress

    from valueprint.personalize.service import Personalizer
    from valueprint.values.space import load_space

    settings = current_settings()
    personalizer = Personalizer(settings, load_space())
    with Progress(console=console) as progress:
        task = progress.add_task("loading the model", total=None)
        personalizer.engine()

        def show(done: int, total: int) -> None:
            progress.update(task, description="training steering vectors", completed=done, total=total)

        trained = personalizer.train_steering(on_progress=show)
    folder = personalizer.steering_dir / trained.meta["model"]
    layers = trained.meta["layers"]
    console.print(f"[green]saved[/] {len(trained.vectors)} steering vectors (layers {layers}) to {folder}")


@adapters_app.command("train-personas")
def adapters_train_personas(
    personas: Annotated[str, typer.Option(help="all, or comma-separated persona ids.")] = "all",
    steps: Annotated[int | None, typer.Option(min=1, help="DPO steps (default VALUEPRINT_ADAPTER_STEPS).")] = None,
) -> None:
    """Train the exemplar personas' adapters, one after another; people's training then starts from them."""
    from rich.progress import Progress

    from valueprint.evaluate.fit import PERSONA_SD, select_personas
    from valueprint.personalize.replies import reply_choices
    from valueprint.personalize.service import Personalizer
    from valueprint.personalize.training import train_subject
    from valueprint.values.space import load_space

    settings = current_settings() if steps is None else current_settings().model_copy(update={"adapter_steps": steps})
    personalizer = Personalizer(settings, load_space())
    chosen = select_personas(personas)
    with Progress(console=console) as progress:
        sampling = progress.add_task("sampling the model's own replies (once per model)", total=None)
        reply_choices(
            settings.data_dir,
            settings.datasets_dir,
            settings.adapter_reply_prompts,
            settings.model_dir,
            lambda done, total: progress.update(sampling, completed=done, total=total),
        )
        for number, persona in enumerate(chosen, start=1):
            task = progress.add_task(f"{persona.id} ({number}/{len(chosen)})", total=settings.adapter_steps)
            profile = persona.as_profile(personalizer.space, PERSONA_SD)
            request = personalizer.training_request("persona", persona.id, profile)
            meta = train_subject(request, lambda n, total, task=task: progress.update(task, completed=n, total=total))
            progress.update(task, description=f"{persona.id}: {meta['pairs']} pairs, {meta['train_seconds']} s")
    console.print(f"[green]saved[/] {len(chosen)} adapters under {personalizer.adapters.root / 'personas'}")


@adapters_app.command("preferences")
def adapters_preferences(
    persona: Annotated[str, typer.Option(help="The persona whose preferences to build.")],
    out: Annotated[Path, typer.Option(help="JSONL file (prompt/chosen/rejected); held-out pairs go beside it.")],
) -> None:
    """Export a persona's preference pairs as JSONL, loadable with datasets.load_dataset("json", ...)."""
    from valueprint.evaluate.fit import PERSONA_SD, select_personas
    from valueprint.personalize.preferences import build_preferences, write_jsonl
    from valueprint.personalize.training import option_scores
    from valueprint.values.space import load_space

    settings, space = current_settings(), load_space()
    (chosen,) = select_personas(persona)
    train, heldout = option_scores(settings)
    data = build_preferences(chosen.as_profile(space, PERSONA_SD), space, train, heldout)
    write_jsonl(data.train, out)
    held = write_jsonl(data.heldout, out.with_name(out.stem + ".heldout.jsonl"))
    console.print(f"[green]wrote[/] {len(data.train)} pairs to {out} and {len(data.heldout)} held-out pairs to {held}")
