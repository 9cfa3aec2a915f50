"""The `valueprint` command. Thin: parses arguments, calls the domain packages, renders."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from typer.core import TyperGroup

from valueprint.errors import AnswerError, ValueprintError
from valueprint.settings import Settings, load_settings


class ReportingGroup(TyperGroup):
    """Shows any ValueprintError as a one-line error (exit code 1) instead of a traceback."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except ValueprintError as error:
            Console(stderr=True).print(f"[red]Error:[/] {error}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from error


app = typer.Typer(cls=ReportingGroup, no_args_is_help=True, help="State your values once; carry them to any AI.")
token_app = typer.Typer(cls=ReportingGroup, no_args_is_help=True, help="Issue, verify and inspect value tokens.")
keys_app = typer.Typer(cls=ReportingGroup, no_args_is_help=True, help="Manage the issuer's Ed25519 signing keys.")
bench_app = typer.Typer(cls=ReportingGroup, no_args_is_help=True, help="Run a benchmark; figures go to JSON.")
admin_app = typer.Typer(cls=ReportingGroup, no_args_is_help=True, help="Administer a valueprint server.")
app.add_typer(token_app, name="token")
app.add_typer(keys_app, name="keys")
app.add_typer(bench_app, name="bench")
evaluator_app = typer.Typer(cls=ReportingGroup, no_args_is_help=True, help="Train and report on the value evaluator.")
app.add_typer(admin_app, name="admin")
app.add_typer(evaluator_app, name="evaluator")
adapters_app = typer.Typer(cls=ReportingGroup, no_args_is_help=True, help="Personal and persona LoRA adapters.")
app.add_typer(adapters_app, name="adapters")
steer_app = typer.Typer(cls=ReportingGroup, no_args_is_help=True, help="Steering vectors for the local model.")
app.add_typer(steer_app, name="steer")

console = Console()
ResultsDir = Annotated[Path, typer.Option("--out", help="Folder for the JSON results.")]


def _settings() -> Settings:
    return load_settings()


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise AnswerError(str(path), f"cannot read the file: {error.strerror}") from error
    except ValueError as error:
        raise AnswerError(str(path), f"the file is not valid JSON: {error}") from error


def _show_result(profile: Any, issued: Any = None) -> None:
    from valueprint.terminal import render
    from valueprint.values.personas import nearest_persona
    from valueprint.values.precis import precis
    from valueprint.values.space import load_space

    space = load_space()
    console.print(render.profile_table(profile, space))
    console.print(f"[bold]Political point:[/] {render.political_point(profile)}")
    persona, distance = nearest_persona(profile, space)
    console.print(f"[bold]Nearest persona:[/] {persona.name} (distance {distance:.2f})\n[dim]{persona.summary}[/]")
    text = precis(profile, space, _settings().precis_min_confidence_sd)
    console.print(f"\n[bold]Your précis[/] (paste it into any AI's custom instructions):\n{text}\n")
    if issued is not None:
        console.print(render.token_panel(issued.token, issued.handle, issued.expires_at.date().isoformat()))


@app.command()
def ask(
    session_path: Annotated[
        Path | None, typer.Option("--session", help="Session file (default: DATA_DIR/sessions/terminal.json).")
    ] = None,
    stop_sd: Annotated[float | None, typer.Option(help="Stop when every dimension's SD is below this.")] = None,
) -> None:
    """Answer the adaptive questionnaire; get your profile, précis, token and handle."""
    from valueprint.terminal.interview import Interrupted, TerminalAsker, run_interview
    from valueprint.terminal.session import load_session
    from valueprint.tokens.issuer import issue
    from valueprint.values.model import default_model

    settings = _settings()
    model = default_model()
    path = session_path or settings.sessions_dir / "terminal.json"
    session = load_session(path, model.bank, model.space)
    if session.answers.seen:
        console.print(f"[green]Resuming[/] {path}: {len(session.answers.seen)} questions done.")
    else:
        console.print("[bold]valueprint[/]: a few questions about what you value and how you want AI to treat you.")
        console.print("Demographics come first; every one is optional.")
    try:
        run_interview(session, model, TerminalAsker(console), stop_sd or settings.stop_sd)
    except Interrupted:
        console.print(f"\n[yellow]Saved[/] to {path}. Run `valueprint ask` again to continue.")
        raise typer.Exit(0) from None
    profile = model.profile(session.answers)
    issued = issue(profile, model.space, settings, session.subject, session.handle)
    session.handle = issued.handle
    session.save()
    _show_result(profile, issued)


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="Interface to listen on (default VALUEPRINT_HOST or 127.0.0.1).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="Port (default VALUEPRINT_PORT or 8000).")] = None,
) -> None:
    """Serve the web app and API (SQLite in the data directory unless VALUEPRINT_DATABASE_URL is set)."""
    import uvicorn

    from valueprint.web.app import create_app

    settings = _settings()
    application = create_app(settings)
    console.print(f"valueprint on [bold]http://{host or settings.host}:{port or settings.port}[/] (Ctrl-C stops)")
    uvicorn.run(application, host=host or settings.host, port=port or settings.port, log_level="info")


@admin_app.command("create")
def admin_create() -> None:
    """Create an administrator account and print its resume code (sign in with it on /resume)."""
    from valueprint.web.services import Services

    created = Services.build(_settings()).accounts.create(role="admin")
    typer.echo(f"admin {created.id}\nresume code: {created.resume_code}")


@admin_app.command("register-app")
def admin_register_app(
    name: str,
    scopes: Annotated[
        list[str], typer.Option("--scope", help="Repeat: schwartz, moral, politics, behaviour, boundaries.")
    ],
    description: str = "",
) -> None:
    """Register a third-party app and print its API key (shown once)."""
    from valueprint.web.services import Services

    app_record = Services.build(_settings()).registry.register_app(name, scopes, description)
    typer.echo(json.dumps({"id": app_record.id, "scopes": app_record.scopes, "api_key": app_record.api_key}, indent=2))


@app.command()
def score(
    answers_file: Annotated[Path, typer.Argument(help="Answers JSON (see valueprint.values.answers).")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the profile JSON here.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the profile as JSON.")] = False,
) -> None:
    """Score an answers file into a value profile."""
    from valueprint.values.answers import parse_answers
    from valueprint.values.model import default_model

    model = default_model()
    profile = model.profile(parse_answers(_read_json(answers_file), model.bank, model.space))
    if output:
        output.write_text(profile.to_json())
        console.print(f"profile written to {output}")
    if as_json:
        typer.echo(profile.to_json())
    elif not output:
        _show_result(profile)


def _load_profile(path: Path) -> Any:
    """A profile JSON, or an answers JSON which is scored first."""
    from valueprint.values.answers import parse_answers
    from valueprint.values.model import default_model
    from valueprint.values.profile import ValueProfile

    data = _read_json(path)
    if isinstance(data, dict) and "answers" in data:
        model = default_model()
        return model.profile(parse_answers(data, model.bank, model.space))
    return ValueProfile.from_json(json.dumps(data))


@token_app.command("issue")
def token_issue(
    source: Annotated[Path, typer.Argument(help="A profile JSON or an answers JSON.")],
    subject: Annotated[str | None, typer.Option(help="Pseudonymous subject id (default: a new random one).")] = None,
    handle: Annotated[str | None, typer.Option(help="Keep this four-word handle (re-issue).")] = None,
) -> None:
    """Sign a profile as a value token and print it with its handle."""
    from valueprint.terminal.session import new_subject
    from valueprint.tokens.issuer import issue
    from valueprint.values.space import load_space

    issued = issue(_load_profile(source), load_space(), _settings(), subject or new_subject(), handle)
    typer.echo(
        json.dumps(
            {
                "token": issued.token,
                "handle": issued.handle,
                "jti": issued.jti,
                "expires_at": issued.expires_at.isoformat(),
            },
            indent=2,
        )
    )


TokenArg = Annotated[str, typer.Argument(help="The token, or - to read it from standard input.")]
JwksOption = Annotated[
    Path | None, typer.Option("--jwks", help="Verify against this JWKS file instead of the local keys.")
]


def _token_text(token: str) -> str:
    return sys.stdin.read().strip() if token == "-" else token


@token_app.command("verify")
def token_verify(token: TokenArg, jwks: JwksOption = None) -> None:
    """Verify a token offline: signature, expiry, audience, issuer, value-space version."""
    from valueprint.tokens.issuer import verifier
    from valueprint.values.space import load_space

    verified = verifier(_settings(), load_space(), jwks).verify(_token_text(token))
    typer.echo(
        json.dumps(
            {
                "valid": True,
                "kid": verified.kid,
                "handle": verified.handle,
                "subject": verified.subject,
                "expires_at": verified.expires_at.isoformat(),
            },
            indent=2,
        )
    )


@token_app.command("show")
def token_show(token: TokenArg, jwks: JwksOption = None) -> None:
    """Verify a token and show the profile it carries."""
    from valueprint.terminal import render
    from valueprint.tokens.issuer import verifier
    from valueprint.values.space import load_space

    space = load_space()
    verified = verifier(_settings(), space, jwks).verify(_token_text(token))
    console.print(
        f"[green]valid[/] token {verified.jti} · handle [bold]{verified.handle}[/] · "
        f"subject {verified.subject} · expires {verified.expires_at.date().isoformat()}"
    )
    console.print(render.profile_table(verified.profile, space))
    if verified.profile.boundaries:
        console.print("boundaries: " + ", ".join(verified.profile.boundaries))


@keys_app.command("new")
def keys_new() -> None:
    """Create a signing key (a rotation when keys exist; old keys keep verifying)."""
    from valueprint.tokens.issuer import key_store

    key = key_store(_settings()).create()
    typer.echo(f"created signing key {key.kid}")


@keys_app.command("jwks")
def keys_jwks() -> None:
    """Print the public JWKS (serve it at /.well-known/jwks.json)."""
    from valueprint.tokens.issuer import key_store

    typer.echo(json.dumps(key_store(_settings()).jwks(), indent=2))


@keys_app.command("list")
def keys_list() -> None:
    """List keys, oldest first, with their state."""
    from valueprint.tokens.issuer import key_store

    store = key_store(_settings())
    keys = store.keys()
    signing = store.signing_key().kid if any(k.active for k in keys) else None
    for key in keys:
        state = "signing" if key.kid == signing else "verifying" if key.active else "retired"
        typer.echo(f"{key.kid}  {key.created_at.isoformat(timespec='seconds')}  {state}")


@keys_app.command("retire")
def keys_retire(kid: str) -> None:
    """Stop verifying tokens signed with this key (do it after its tokens expire)."""
    from valueprint.tokens.issuer import key_store

    key_store(_settings()).retire(kid)
    typer.echo(f"retired {kid}")


@bench_app.command("scoring")
def bench_scoring(out: ResultsDir = Path("benchmarks/results")) -> None:
    """Median time to score a full answer set."""
    from valueprint.bench import scoring

    _print_figures(scoring.run(), "scoring", out)


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
            _settings().stop_sd,
            on_step=lambda done, _total: progress.update(task, completed=done + 1),
        )
    plot = adaptive.plot(result, out / "adaptive.png")
    _print_figures({**result.figures, "plot": str(plot)}, "adaptive", out)


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
    _print_figures(figures, "tokens", out)


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
    _print_figures(figures, "web_load", out)


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
    _print_figures(figures, "web_crash", out)


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
    _print_figures(figures, "token_lookup", out)


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

    settings = _settings()
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
    _print_figures({**result.figures(model), "plot": str(plot)}, name, out)


@bench_app.command("personalize")
def bench_personalize(
    out: ResultsDir = Path("benchmarks/results"),
    personas: Annotated[int, typer.Option(min=1, max=12, help="How many exemplar personas.")] = 8,
    prompts: Annotated[int, typer.Option(min=1, max=1000, help="Held-out DailyDilemmas prompts.")] = 50,
    max_tokens: Annotated[int, typer.Option(min=4, max=256, help="Tokens per reply.")] = 48,
    harmful: Annotated[int, typer.Option(min=1, max=200, help="HarmBench requests for the safety floor.")] = 20,
    steer_strength: Annotated[float, typer.Option(min=0.0, max=4.0)] = 1.0,
    seed: int = 0,
) -> None:
    """Each strategy against the plain local model: distance to personas, cost, perplexity and refusals."""
    from rich.progress import Progress

    from valueprint.bench import personalize

    config = personalize.PersonalizeConfig(
        personas=personas,
        prompts=prompts,
        max_new_tokens=max_tokens,
        harmful=harmful,
        steer_strength=steer_strength,
        seed=seed,
    )
    with Progress(console=console) as progress:
        task = progress.add_task("loading the model and the evaluator", total=None)

        def show(stage: str, done: int, total: int) -> None:
            progress.update(task, description=stage, completed=done, total=total)

        figures = personalize.run(_settings(), config, show)
    plot = personalize.plot(figures, out / "personalize.png")
    _print_figures({**figures, "plot": str(plot)}, "personalize", out)


@bench_app.command("finetune")
def bench_finetune(
    out: ResultsDir = Path("benchmarks/results"),
    personas: Annotated[int, typer.Option(min=1, max=12, help="Persona adapters to train and measure.")] = 4,
    prompts: Annotated[int, typer.Option(min=1, max=1000, help="Held-out DailyDilemmas prompts.")] = 30,
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

        figures = finetune.run(_settings(), personas, prompts, reuse=reuse, seed=seed, on_progress=show)
    _print_figures(figures, "finetune", out)


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
    evaluator = shared_evaluator(_settings())
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

    settings = _settings()
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

    settings = _settings()
    evaluator = shared_evaluator(settings)
    with console.status("measuring") as status:
        figures = measure_accuracy(evaluator, settings.datasets_dir, lambda name: status.update(f"measuring: {name}"))
    report, plot = write_report(
        {**figures, **coverage_figures(evaluator), "coverage": evaluator.coverage()}, evaluator.meta, out
    )
    console.print(report.read_text(encoding="utf-8"))
    console.print(f"[green]written[/] {report} and {plot}")


@bench_app.command("evaluator")
def bench_evaluator(out: ResultsDir = Path("benchmarks/results")) -> None:
    """Evaluator accuracy on held-out labels, texts per second and memory."""
    from valueprint.bench import evaluator

    with console.status("evaluator benchmark") as status:
        figures = evaluator.run(_settings().datasets_dir, out, lambda name: status.update(f"evaluator: {name}"))
    _print_figures(figures, "evaluator", out)


def _print_figures(figures: dict[str, Any], name: str, out: Path) -> None:
    from valueprint.bench.report import write_result

    path = write_result(name, figures, out)
    for key, value in figures.items():
        console.print(f"  {key:32} {value}")
    console.print(f"[green]written[/] {path}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()


@steer_app.command("train")
def steer_train() -> None:
    """Train one steering vector per value dimension on the local model; the server loads them from the data dir."""
    from rich.progress import Progress

    from valueprint.personalize.service import Personalizer
    from valueprint.values.space import load_space

    settings = _settings()
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

    from valueprint.evaluate.fit import select_personas
    from valueprint.personalize.service import Personalizer
    from valueprint.personalize.training import train_subject
    from valueprint.values.space import load_space

    settings = _settings() if steps is None else _settings().model_copy(update={"adapter_steps": steps})
    personalizer = Personalizer(settings, load_space())
    chosen = select_personas(personas)
    with Progress(console=console) as progress:
        for number, persona in enumerate(chosen, start=1):
            task = progress.add_task(f"{persona.id} ({number}/{len(chosen)})", total=settings.adapter_steps)
            profile = persona.as_profile(personalizer.space, 0.1)
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
    from valueprint.evaluate.fit import select_personas
    from valueprint.personalize.preferences import build_preferences, write_jsonl
    from valueprint.personalize.training import option_scores
    from valueprint.values.space import load_space

    settings, space = _settings(), load_space()
    (chosen,) = select_personas(persona)
    train, heldout = option_scores(settings)
    data = build_preferences(chosen.as_profile(space, 0.1), space, train, heldout)
    write_jsonl(data.train, out)
    held = write_jsonl(data.heldout, out.with_name(out.stem + ".heldout.jsonl"))
    console.print(f"[green]wrote[/] {len(data.train)} pairs to {out} and {len(data.heldout)} held-out pairs to {held}")
