"""`valueprint bench …`: every benchmark prints its figures and writes them to JSON."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from valueprint.cli.common import (
    ReportingGroup,
    ResultsDir,
    bench_app,
    console,
    current_settings,
    print_figures,
)
from valueprint.personalize.guidance import DEFAULT_GUIDANCE


@bench_app.command("scoring")
def bench_scoring(out: ResultsDir = Path("benchmarks/results")) -> None:
    """Median time to score a full answer set."""
    from valueprint.bench import scoring

    print_figures(scoring.run(), "scoring", out)


@bench_app.command("adaptive")
def bench_adaptive(
    out: ResultsDir = Path("benchmarks/results"),
    respondents: Annotated[int, typer.Option(min=10)] = 1000,
    seed: int = 0,
) -> None:
    """RMSE against questions asked, adaptive vs random order, on simulated respondents."""
    from rich.progress import Progress

    from valueprint.bench import adaptive
    from valueprint.values.model import default_model

    model = default_model()
    with Progress(console=console) as progress:
        task = progress.add_task(f"scoring {respondents} respondents", total=len(model.item_ids) + 1)
        result = adaptive.run(
            model,
            respondents,
            seed,
            current_settings().stop_sd,
            on_step=lambda done, _total: progress.update(task, completed=done + 1),
        )
    plot = adaptive.plot(result, out / "adaptive.png")
    print_figures({**result.figures, "plot": str(plot)}, "adaptive", out)


@bench_app.command("tokens")
def bench_tokens(
    out: ResultsDir = Path("benchmarks/results"),
    fuzz_inputs: Annotated[int, typer.Option(min=1)] = 100_000,
) -> None:
    """Issue and verify throughput, token size, and a fuzz run of broken tokens."""
    from rich.progress import Progress

    from valueprint.bench import tokens

    with Progress(console=console) as progress:
        task = progress.add_task("fuzzing the verifier", total=fuzz_inputs)
        figures = tokens.run(fuzz_inputs, on_progress=lambda done: progress.update(task, completed=done))
    print_figures(figures, "tokens", out)


@bench_app.command("web-load")
def bench_web_load(
    out: ResultsDir = Path("benchmarks/results"),
    participants: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    answers: Annotated[int, typer.Option(min=1, max=150, help="Answers per participant.")] = 40,
    think_ms: Annotated[float, typer.Option(min=0, max=10_000, help="Mean pause before each answer.")] = 0.0,
) -> None:
    """Concurrent participants answering on the real server (SQLite): latency, throughput, none lost."""
    from rich.progress import Progress

    from valueprint.bench import web_load
    from valueprint.bench.server import phase_bars

    with Progress(console=console) as progress:
        figures = web_load.run(participants, answers, on_progress=phase_bars(progress), think_ms=think_ms)
    print_figures(figures, "web_load", out)


@bench_app.command("web-crash")
def bench_web_crash(
    out: ResultsDir = Path("benchmarks/results"),
    participants: Annotated[int, typer.Option(min=1, max=1000)] = 50,
    answers: Annotated[int, typer.Option(min=2, max=150, help="Answers per participant.")] = 40,
) -> None:
    """The web load with the server killed (SIGKILL) half way and restarted: no acknowledged answer lost."""
    from rich.progress import Progress

    from valueprint.bench import web_crash
    from valueprint.bench.server import phase_bars

    with Progress(console=console) as progress:
        figures = web_crash.run(participants, answers, on_progress=phase_bars(progress))
    print_figures(figures, "web_crash", out)


@bench_app.command("token-lookup")
def bench_token_lookup(
    out: ResultsDir = Path("benchmarks/results"),
    participants: Annotated[int, typer.Option(min=1, max=10_000)] = 200,
    seconds: Annotated[float, typer.Option(min=1, max=300)] = 15.0,
    concurrency: Annotated[int, typer.Option(min=1, max=500)] = 50,
) -> None:
    """Apps reading profiles by handle (GET /v1/tokens/{handle}) on the real server: rate and latency."""
    from rich.progress import Progress

    from valueprint.bench import token_lookup
    from valueprint.bench.server import phase_bars

    with Progress(console=console) as progress:
        figures = token_lookup.run(participants, seconds, concurrency=concurrency, on_progress=phase_bars(progress))
    print_figures(figures, "token_lookup", out)


@bench_app.command("fit")
def bench_fit(
    endpoint: Annotated[str, typer.Option(help="OpenAI-compatible base URL, e.g. http://127.0.0.1:8080/v1.")],
    model: Annotated[str, typer.Option(help="Model name sent to the endpoint.")],
    out: ResultsDir = Path("benchmarks/results"),
    prompts: Annotated[int, typer.Option(min=1, help="Held-out prompts: half DailyDilemmas, half Moral Stories.")] = 50,
    personas: Annotated[str, typer.Option(help="all, or comma-separated persona ids.")] = "all",
    condition: Annotated[str, typer.Option(help="precis (writes fit.json) or none (fit_none.json).")] = "precis",
    api_key_env: Annotated[str | None, typer.Option(help="Environment variable holding the API key.")] = None,
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Requests in flight at once.")] = 4,
    seed: int = 0,
) -> None:
    """Persona fit of any OpenAI-compatible model: alignment distance per persona, 95% bootstrap CI."""
    from rich.progress import Progress

    from valueprint.evaluate.endpoint import ChatEndpoint, api_key_from_env
    from valueprint.evaluate.evaluator import shared_evaluator
    from valueprint.evaluate.fit import FitConfig, plot_fit, run_fit, select_personas

    settings = current_settings()
    precis_sd = settings.precis_min_confidence_sd
    config = FitConfig(prompts, condition, seed, concurrency=concurrency, precis_max_sd=precis_sd)
    chosen = select_personas(personas)
    with ChatEndpoint(endpoint, model, api_key_from_env(api_key_env)) as generator, Progress(console=console) as bar:
        task = bar.add_task(f"asking {model}", total=None)
        evaluator = shared_evaluator(settings)

        def show(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        result = run_fit(generator, evaluator, config, chosen, datasets_dir=settings.datasets_dir, on_progress=show)
    name = "fit" if config.condition == "precis" else f"fit_{config.condition}"  # a baseline run keeps fit.json
    plot = plot_fit(result, out / f"{name}.png", model)
    print_figures({**result.figures(model), "plot": str(plot)}, name, out)


@bench_app.command("personalize")
def bench_personalize(
    out: ResultsDir = Path("benchmarks/results"),
    personas: Annotated[int, typer.Option(min=1, max=12, help="How many exemplar personas.")] = 4,
    prompts: Annotated[int, typer.Option(min=1, max=1000, help="Held-out DailyDilemmas prompts.")] = 10,
    max_tokens: Annotated[int, typer.Option(min=4, max=512, help="Tokens per reply.")] = 200,
    harmful: Annotated[int, typer.Option(min=1, max=200, help="HarmBench requests for the safety floor.")] = 20,
    steer_strength: Annotated[float, typer.Option(min=0.0, max=4.0)] = 1.0,
    guidance: Annotated[float, typer.Option(min=1.0, max=4.0, help="γ of the guide strategy.")] = DEFAULT_GUIDANCE,
    strategies: Annotated[
        str, typer.Option(help="Comma-separated subset, e.g. 'precis,precis+rerank' (default: all).")
    ] = "",
    seed: int = 0,
) -> None:
    """Each strategy against the plain local model: distance to personas, cost, perplexity and refusals.

    The model is the configured one (VALUEPRINT_MODEL)."""
    from rich.progress import Progress

    from valueprint.bench import personalize

    config = personalize.PersonalizeConfig(
        personas=personas,
        prompts=prompts,
        max_new_tokens=max_tokens,
        harmful=harmful,
        steer_strength=steer_strength,
        guidance=guidance,
        seed=seed,
        only=personalize.chosen_strategies(strategies),
    )
    with Progress(console=console) as progress:
        task = progress.add_task("loading the model and the evaluator", total=None)

        def show(stage: str, done: int, total: int) -> None:
            progress.update(task, description=stage, completed=done, total=total)

        figures = personalize.run(current_settings(), config, show, out)
    plot = personalize.plot(figures, out / "personalize.png")
    print_figures({**figures, "plot": str(plot)}, "personalize", out)


@bench_app.command("finetune")
def bench_finetune(
    out: ResultsDir = Path("benchmarks/results"),
    personas: Annotated[int, typer.Option(min=1, max=12, help="Persona adapters to train and measure.")] = 4,
    prompts: Annotated[int, typer.Option(min=1, max=1000, help="Held-out DailyDilemmas prompts.")] = 30,
    max_tokens: Annotated[int, typer.Option(min=4, max=256, help="Tokens per reply.")] = 48,
    pairs_per_source: Annotated[int, typer.Option(min=1, help="Pairs per source for preference accuracy.")] = 30,
    reuse: Annotated[bool, typer.Option(help="Keep persona adapters already trained (timings from metadata).")] = False,
    seed: int = 0,
) -> None:
    """Persona adapters by DPO: training time, size, swap time, distance to the persona, perplexity."""
    from rich.progress import Progress

    from valueprint.bench import finetune

    with Progress(console=console) as progress:
        task = progress.add_task("loading", total=None)

        def show(stage: str, done: int, total: int) -> None:
            progress.update(task, description=stage, completed=done, total=total)

        figures = finetune.run(
            current_settings(),
            personas,
            prompts,
            max_new_tokens=max_tokens,
            pairs_per_source=pairs_per_source,
            reuse=reuse,
            seed=seed,
            on_progress=show,
        )
    plot = finetune.plot(figures, out / "finetune.png")
    print_figures({**figures, "plot": str(plot)}, "finetune", out)


@bench_app.command("evaluator")
def bench_evaluator(out: ResultsDir = Path("benchmarks/results")) -> None:
    """Evaluator accuracy on held-out labels, texts per second and memory."""
    from valueprint.bench import evaluator

    with console.status("evaluator benchmark") as status:
        figures = evaluator.run(current_settings().datasets_dir, out, lambda name: status.update(f"evaluator: {name}"))
    print_figures(figures, "evaluator", out)


@bench_app.command("annotate")
def bench_annotate(
    out: ResultsDir = Path("benchmarks/results"),
    size: Annotated[
        int, typer.Option(min=10, max=1_000_000, help="Units in the end-to-end run (the issue: 100000).")
    ] = 2000,
    throughput_units: Annotated[
        int, typer.Option(min=10, max=100_000, help="Units timed in-process and on Dask.")
    ] = 1000,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Dask LocalCluster workers (one thread each).")] = 2,
    quality_limit: Annotated[
        int, typer.Option(min=100, help="Validation rows read per data set (half are held out).")
    ] = 2000,
) -> None:
    """Pre-label quality on held-out validation halves, segment + sanitise + pre-label units per second
    in-process and on Dask, and an end-to-end import/pre-label/export run with its memory peak."""
    from rich.progress import Progress

    from valueprint.bench import annotate

    with Progress(console=console) as progress:
        figures = annotate.run(
            current_settings().datasets_dir,
            size,
            throughput_units,
            workers,
            quality_limit,
            progress=stage_bars(progress),
        )
    plot = annotate.plot(figures, out / "annotate.png")
    print_figures({**figures, "plot": str(plot)}, "annotate", out)


def stage_bars(progress: Any) -> Any:
    """`(stage, done, total)` callbacks shown as one rich bar per stage (total None: a spinner)."""
    tasks: dict[str, Any] = {}

    def show(stage: str, done: int, total: int | None) -> None:
        if stage not in tasks:
            tasks[stage] = progress.add_task(stage, total=total)
        progress.update(tasks[stage], completed=done, total=total)

    return show


blind_app = typer.Typer(cls=ReportingGroup, no_args_is_help=True, help="Blind reading of personalised replies.")
bench_app.add_typer(blind_app, name="blind")


@blind_app.command("make")
def bench_blind_make(
    strategy: Annotated[str, typer.Option(help="The personalised strategy to compare with the plain model.")] = (
        "precis+rerank"
    ),
    replies: Annotated[Path, typer.Option(help="From bench personalize.")] = Path(
        "benchmarks/results/personalize_replies.jsonl"
    ),
    n: Annotated[int, typer.Option(min=1, max=500)] = 24,
    out: Annotated[Path, typer.Option(help="Folder for cases.jsonl (for the reader) and key.json (not).")] = Path(
        "benchmarks/results/blind"
    ),
    seed: int = 0,
) -> None:
    """Cases for a blind reader: a person, a prompt, replies A and B in a hidden order."""
    from valueprint.bench import blind

    cases, key = blind.make(replies, strategy, out, n, seed)
    console.print(f"[green]wrote[/] {cases} (give it to the reader) and {key} (keep it from them)")


@blind_app.command("score")
def bench_blind_score(
    answers: Annotated[Path, typer.Argument(help='JSON {"case-01": "A" | "B" | "same", ...}')],
    key: Annotated[Path, typer.Option(help="The key written by `bench blind make`.")] = Path(
        "benchmarks/results/blind/key.json"
    ),
    out: ResultsDir = Path("benchmarks/results"),
) -> None:
    """The share of decided cases where the reader picked the personalised reply (Wilson 95% interval)."""
    from valueprint.bench import blind

    print_figures(blind.score(key, answers), "blind", out)


@bench_app.command("annotate-pii")
def bench_annotate_pii(
    out: ResultsDir = Path("benchmarks/results"),
    sentences: Annotated[int, typer.Option(min=8, max=100_000, help="Real sentences, one planted item each.")] = 2000,
    seed: int = 0,
) -> None:
    """Sanitiser recall and precision per entity type: Faker data planted in real sentences."""
    from rich.progress import Progress

    from valueprint.bench import annotate_pii

    with Progress(console=console) as progress:
        task = progress.add_task("sanitising", total=sentences)
        figures = annotate_pii.run(
            current_settings().datasets_dir,
            sentences,
            seed,
            on_progress=lambda done: progress.update(task, completed=done),
        )
    print_figures(figures, "annotate_pii", out)


@bench_app.command("crowd")
def bench_crowd(
    out: ResultsDir = Path("benchmarks/results"),
    loop: Annotated[bool, typer.Option(help="Retrain the judge's reader with consensus labels (minutes).")] = True,
) -> None:
    """Simulated crowds on real labels: majority vote vs our consensus, colluding fresh accounts, karma vs
    true accuracy, the judge after 0-8,000 consensus labels, and moral-map stability by group size."""
    from valueprint.bench import crowd

    with console.status("crowd benchmark") as status:
        figures = crowd.run(current_settings(), out, lambda name: status.update(f"crowd: {name}"), loop)
    print_figures(figures, "crowd", out)


@bench_app.command("moralgraph")
def bench_moralgraph(
    out: ResultsDir = Path("benchmarks/results"),
    seeds: Annotated[int, typer.Option(min=1, max=200, help="Synthetic crowds per point.")] = 20,
    dedup: Annotated[bool, typer.Option(help="Measure deduplication (loads the evaluator's MiniLM).")] = True,
) -> None:
    """The moral graph: ordering recovered from synthetic crowds (honest, 10% adversarial, coordinated
    accounts, fresh accounts with and without karma weights), deduplication on ValueBench paraphrases, the
    chat's context detection on labelled prompts, and building 10,000 cards' and 100,000 votes' graphs."""
    from rich.progress import Progress

    from valueprint.bench import moralgraph

    settings = current_settings()
    embed = None
    if dedup:
        from valueprint.evaluate.evaluator import shared_evaluator
        from valueprint.moralgraph.dedup import evaluator_embedder

        embed = evaluator_embedder(shared_evaluator(settings))
    with Progress(console=console) as progress:
        figures = moralgraph.run(
            embed,
            settings.datasets_dir,
            settings.moralgraph_merge_similarity,
            settings.moralgraph_context_similarity,
            seeds=seeds,
            on_progress=stage_bars(progress),
        )
    plot = moralgraph.plot(figures, out / "moralgraph.png")
    print_figures({**figures, "plot": str(plot)}, "moralgraph", out)


@bench_app.command("scale")
def bench_scale(
    out: ResultsDir = Path("benchmarks/results"),
    participants: Annotated[int, typer.Option(min=1, max=1000)] = 30,
    answers: Annotated[int, typer.Option(min=1, max=150, help="Answers per participant.")] = 40,
) -> None:
    """The same crowd on SQLite in one process and PostgreSQL with 1, 2 and 4 workers: throughput, p95,
    CPU per answer (web and database), memory per worker, and the projected capacity of bigger machines."""
    from rich.progress import Progress

    from valueprint.bench import scale
    from valueprint.bench.server import phase_bars

    with Progress(console=console) as progress:
        figures = scale.run(participants, answers, on_progress=phase_bars(progress))
    figures["plot"] = str(scale.plot(figures, out / "scale.png"))
    print_figures(figures, "scale", out)


@bench_app.command("soak")
def bench_soak(
    out: ResultsDir = Path("benchmarks/results"),
    participants: Annotated[int, typer.Option(min=1, max=2000)] = 200,
    seconds: Annotated[float, typer.Option(min=20, max=7200, help="How long the crowd answers.")] = 600.0,
    think_ms: Annotated[float, typer.Option(min=0, max=60_000, help="Mean pause before each answer.")] = 5000.0,
    workers: Annotated[int, typer.Option(min=2, max=16, help="Web workers (one of them is killed).")] = 2,
) -> None:
    """A crowd answering for minutes on PostgreSQL while one worker is SIGKILLed and PostgreSQL restarts:
    no acknowledged answer may be lost, and every error clients see must be a retryable one. Exits 1 if not."""
    from rich.progress import Progress

    from valueprint.bench import soak
    from valueprint.bench.server import phase_bars

    plan = soak.SoakPlan(participants=participants, duration_s=seconds, think_s=think_ms / 1000, workers=workers)
    with Progress(console=console) as progress:
        figures = soak.run(plan, on_progress=phase_bars(progress))
    print_figures(figures, "soak", out)
    if not figures["passed"]:
        console.print("[red]the soak failed[/]: acknowledged answers were lost, or clients saw unclear errors")
        raise typer.Exit(1)
