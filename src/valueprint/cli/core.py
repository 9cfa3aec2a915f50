"""The questionnaire, scoring, tokens, keys, the server and its administration."""

from __future__ import annotations

import errno
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from valueprint.cli.common import (
    admin_app,
    app,
    console,
    current_settings,
    db_app,
    keys_app,
    read_json,
    token_app,
)
from valueprint.errors import ConfigError

MAX_WORKERS = 64


def _show_result(profile: Any, issued: Any = None) -> None:
    from valueprint.terminal import render
    from valueprint.values.personas import match_words, nearest_persona
    from valueprint.values.precis import precis
    from valueprint.values.space import load_space

    space = load_space()
    console.print(render.profile_table(profile, space))
    console.print(f"[bold]Political point:[/] {render.political_point(profile)}")
    persona, distance = nearest_persona(profile, space)
    console.print(f"[bold]Nearest persona:[/] {persona.name} ({match_words(distance)})\n[dim]{persona.summary}[/]")
    text = precis(profile, space, current_settings().precis_min_confidence_sd)
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

    settings = current_settings()
    model = default_model()
    path = session_path or settings.sessions_dir / "terminal.json"
    session = load_session(path, model.bank, model.space)
    if session.answers.seen:
        console.print(f"[green]Resuming[/] {path}: {_questions(len(session.answers.seen))} done.")
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
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Port, 1-65535 (default VALUEPRINT_PORT or 8000).")
    ] = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=MAX_WORKERS,
            help=f"Web worker processes, 1-{MAX_WORKERS}; more than 1 needs PostgreSQL (VALUEPRINT_DATABASE_URL).",
        ),
    ] = 1,
) -> None:
    """Serve the web app and API (SQLite in the data directory unless VALUEPRINT_DATABASE_URL is set)."""
    import uvicorn

    settings = current_settings()
    if workers > 1 and settings.resolved_database_url.startswith("sqlite"):
        raise ConfigError(
            f"--workers {workers} needs PostgreSQL: the database is SQLite, which has one writer at a time, so "
            "several worker processes would only queue on its lock (and wait out each other's retries). "
            "Set VALUEPRINT_DATABASE_URL=postgresql+psycopg://user:password@host/database, or serve with one worker."
        )
    address = f"http://{host or settings.host}:{port or settings.port}"
    listen = {"host": host or settings.host, "port": port or settings.port, **server_options(settings)}
    check_can_listen(listen["host"], listen["port"])
    if workers == 1:
        from valueprint.web.app import create_app

        application = create_app(settings)
        console.print(f"valueprint on [bold]{address}[/] (Ctrl-C stops)")
        uvicorn.run(application, **listen)
        return
    prepare_database(settings)  # once, here, before the workers start (each would wait on the same lock)
    console.print(f"valueprint on [bold]{address}[/] with {workers} worker processes (Ctrl-C stops)")
    # each worker builds its own app from the same VALUEPRINT_* environment (`load_settings`)
    uvicorn.run("valueprint.web.app:create_app", factory=True, workers=workers, **listen)


def _questions(count: int) -> str:
    return f"{count} question" + ("" if count == 1 else "s")


def check_can_listen(host: str, port: int) -> None:
    """Fail in one line before anything starts when the address is taken or not this machine's
    (uvicorn would log a traceback-like error after printing that it serves)."""
    import socket

    try:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds: TIME_WAIT is no obstacle
            probe.bind((host, port))
    except OSError as error:
        reason = (
            "is already in use (another server?)"
            if error.errno == errno.EADDRINUSE
            else f"cannot be used ({error.strerror})"
        )
        raise ConfigError(f"{host}:{port} {reason}; choose another with --port or --host") from None


def prepare_database(settings: Any) -> None:
    """Upgrade the schema to this version's newest revision and make sure a signing key exists."""
    from valueprint.store.db import make_engine, migrate
    from valueprint.tokens.keys import KeyStore

    settings.check_safe()
    engine = make_engine(settings.resolved_database_url)
    try:
        migrate(engine)
    finally:
        engine.dispose()
    KeyStore(settings.keys_dir).ensure_signing_key()


def server_options(settings: Any) -> dict[str, Any]:
    """uvicorn's options from the settings: forwarded headers believed only from the configured proxies
    (uvicorn's own default trusts any local process), and h11, the parser whose header size can be bounded."""
    return {
        "log_level": "info",
        "proxy_headers": bool(settings.trusted_proxies),
        "forwarded_allow_ips": settings.trusted_proxies,
        "http": "h11",
        "h11_max_incomplete_event_size": settings.max_header_bytes,
    }


def _revisions_text(revisions: tuple[str, ...]) -> str:
    return ", ".join(revisions) or "none (an empty database)"


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Upgrade the database schema to this version's newest revision (once; concurrent starters wait)."""
    from valueprint.store.db import make_engine, migrate, schema_revisions

    settings = current_settings()
    engine = make_engine(settings.resolved_database_url)
    try:
        before, _ = schema_revisions(engine)
        migrate(engine)
        after, _ = schema_revisions(engine)
    finally:
        engine.dispose()
    if before == after:
        console.print(f"the schema is current: {_revisions_text(after)}")
    else:
        console.print(f"upgraded the schema from {_revisions_text(before)} to {_revisions_text(after)}")


@db_app.command("current")
def db_current(
    check: Annotated[bool, typer.Option("--check", help="Exit 1 unless the schema is at the newest revision.")] = False,
) -> None:
    """Print the schema revision the database is at and the newest this version ships."""
    from valueprint.store.db import make_engine, schema_revisions

    settings = current_settings()
    engine = make_engine(settings.resolved_database_url)
    try:
        current, heads = schema_revisions(engine)
    finally:
        engine.dispose()
    state = "current" if set(current) == set(heads) else "behind: run `valueprint db upgrade`"
    console.print(
        f"database at {_revisions_text(current)}; newest {_revisions_text(heads)} ({state})",
        highlight=False,
        soft_wrap=True,
    )
    if check and set(current) != set(heads):
        raise typer.Exit(1)


@admin_app.command("create")
def admin_create() -> None:
    """Create an administrator account and print its resume code (sign in with it on /resume)."""
    from valueprint.accounts.roles import Role
    from valueprint.services import Services

    created = Services.build(current_settings()).accounts.create(role=Role.ADMIN)
    typer.echo(f"admin {created.id}\nresume code: {created.resume_code}")


@admin_app.command("register-app")
def admin_register_app(
    name: str,
    scopes: Annotated[
        list[str], typer.Option("--scope", help="Repeat: schwartz, moral, politics, behaviour, boundaries.")
    ],
    description: str = "",
    owner: Annotated[str, typer.Option(help="Who runs the app (shown to people).")] = "",
    redirect_uris: Annotated[
        list[str] | None, typer.Option("--redirect-uri", help="Repeat: where its consent requests may return.")
    ] = None,
) -> None:
    """Register a third-party app and print its API key (shown once)."""
    from valueprint.registry.schemas import AppCredentials
    from valueprint.services import Services

    registry = Services.build(current_settings()).registry
    app_record = registry.register_app(name, scopes, description, owner, redirect_uris or [])
    typer.echo(json.dumps(AppCredentials.of(app_record).model_dump(), indent=2))


@admin_app.command("edit-app")
def admin_edit_app(
    app_id: str,
    name: Annotated[str | None, typer.Option(help="A new name.")] = None,
    description: Annotated[str | None, typer.Option(help="A new description.")] = None,
    owner: Annotated[str | None, typer.Option(help="Who runs the app.")] = None,
    redirect_uris: Annotated[
        list[str] | None, typer.Option("--redirect-uri", help="Repeat: replaces every return address.")
    ] = None,
) -> None:
    """Change a registered app's name, description, owner or return addresses (what is not given is kept)."""
    from valueprint.registry.schemas import AdminAppView
    from valueprint.services import Services

    changes = {"name": name, "description": description, "owner": owner, "redirect_uris": redirect_uris}
    edited = Services.build(current_settings()).registry.update_app(app_id, **changes)
    typer.echo(AdminAppView.of(edited).model_dump_json(indent=2))


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
    profile = model.profile(parse_answers(read_json(answers_file), model.bank, model.space))
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

    data = read_json(path)
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
    from valueprint.registry.schemas import IssuedTokenView
    from valueprint.terminal.session import new_subject
    from valueprint.tokens.issuer import issue
    from valueprint.values.space import load_space

    issued = issue(_load_profile(source), load_space(), current_settings(), subject or new_subject(), handle)
    typer.echo(json.dumps(IssuedTokenView.of(issued).model_dump(), indent=2))


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

    verified = verifier(current_settings(), load_space(), jwks).verify(_token_text(token))
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
    verified = verifier(current_settings(), space, jwks).verify(_token_text(token))
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

    key = key_store(current_settings()).create()
    typer.echo(f"created signing key {key.kid}")


@keys_app.command("jwks")
def keys_jwks() -> None:
    """Print the public JWKS (serve it at /.well-known/jwks.json)."""
    from valueprint.tokens.issuer import key_store

    typer.echo(json.dumps(key_store(current_settings()).jwks(), indent=2))


@keys_app.command("list")
def keys_list() -> None:
    """List keys, oldest first, with their state."""
    from valueprint.tokens.issuer import key_store

    store = key_store(current_settings())
    keys = store.keys()
    signing = store.signing_key().kid if any(k.signs for k in keys) else None
    for key in keys:
        state = "signing" if key.kid == signing else "verifying" if key.active else "retired"
        typer.echo(f"{key.kid}  {key.created_at.isoformat(timespec='seconds')}  {state}")


@keys_app.command("retire")
def keys_retire(kid: str) -> None:
    """Stop verifying tokens signed with this key (do it after its tokens expire)."""
    from valueprint.tokens.issuer import key_store

    key_store(current_settings()).retire(kid)
    typer.echo(f"retired {kid}")
