"""The personal judge: `valueprint rank`, `valueprint judge train`, `valueprint bench judge`, `bench try`."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from valueprint.cli.common import ReportingGroup, ResultsDir, app, bench_app, console, current_settings, print_figures
from valueprint.errors import InputFileError

judge_app = typer.Typer(cls=ReportingGroup, no_args_is_help=True, help="Train and measure the personal judge.")
app.add_typer(judge_app, name="judge")


@app.command()
def rank(
    source: Annotated[
        Path, typer.Argument(help='JSONL: {"profile": {...}, "prompt": "...", "replies": [...]} ("-": stdin).')
    ],
    fluency: Annotated[bool, typer.Option(help="Use the local model's likelihood (slower, catches gibberish).")] = True,
) -> None:
    """Rank each line's replies for its profile; prints {"order", "scores", "because"} per line."""
    from valueprint.judge.service import rank_lines, shared_judge

    if str(source) == "-":
        lines = sys.stdin.read().splitlines()
    else:
        try:
            lines = source.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as error:
            raise InputFileError(f"cannot read {source}: {error}; give a UTF-8 JSONL file or - for stdin") from error
    judge = shared_judge(current_settings(), fluency=fluency)
    for result in rank_lines(judge, lines):
        print(json.dumps(result, ensure_ascii=False), flush=True)


@judge_app.command("train")
def judge_train(
    out: Annotated[Path | None, typer.Option(help="Artefact folder (default: the packaged one).")] = None,
    with_annotations: Annotated[
        bool, typer.Option(help="Add the crowd's confident consensus labels from this server's annotation projects.")
    ] = False,
    min_confidence: Annotated[float, typer.Option(min=0.5, max=1.0, help="Consensus confidence to use a label.")] = 0.8,
) -> None:
    """Fit both value readers (a: the product's, b: the referee) on disjoint halves (about 3 min on 2 cores)."""
    from valueprint.judge.labelled import add_consensus, reader_rows
    from valueprint.judge.reader import embed, train_reader
    from valueprint.values.space import load_space

    space = load_space()
    with console.status("reading the labelled data sets"):
        rows = reader_rows(space, current_settings().datasets_dir)
    if with_annotations:
        from valueprint.services import Services

        with console.status("reading the crowd's consensus"):
            labels = Services.build(current_settings()).crowd.consensus_labels(min_confidence)
        console.print(f"added {add_consensus(rows, labels)} consensus labels from annotation projects")
    with console.status(f"embedding {len(rows.texts)} texts"):
        vectors = embed(rows.texts)
    for half in ("a", "b"):
        with console.status(f"fitting reader {half}"):
            path = train_reader(rows, half, space, vectors=vectors).save(half, out)
        console.print(f"[green]wrote[/] {path}")


@bench_app.command("judge")
def bench_judge(
    out: ResultsDir = Path("benchmarks/results"),
    fluency: Annotated[bool, typer.Option(help="Include the local model's likelihood term.")] = True,
) -> None:
    """Judge accuracy per kind on the hand-written pairs and on held-out real pairs, beside the old method."""
    from valueprint.bench import judge

    with console.status("judge benchmark") as status:
        figures = judge.run(current_settings(), out, fluency, lambda name: status.update(f"judge: {name}"))
    print_figures(figures, "judge", out)


@bench_app.command("try")
def bench_try(
    out: ResultsDir = Path("benchmarks/results"),
    trials: Annotated[int, typer.Option(min=2)] = 8,
    max_tokens: Annotated[int | None, typer.Option(min=1, help="Per reply; default: the page's.")] = None,
) -> None:
    """'Try it' end to end as the result page runs it (plain + personalised reply + verdict): seconds per trial."""
    from rich.progress import Progress

    from valueprint.bench import try_it
    from valueprint.personalize.trial import MAX_TOKENS

    settings = current_settings()
    max_tokens = min(settings.chat_max_tokens, max_tokens or MAX_TOKENS)
    with Progress(console=console) as progress:
        task = progress.add_task("Try it", total=trials + 1)
        figures = try_it.run(settings, trials, max_tokens, lambda _s, done, _t: progress.update(task, completed=done))
    print_figures(figures, "try_it", out)
