"""What every command module shares: the Typer apps, the console, settings and result printing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from typer.core import TyperGroup

from valueprint.errors import InputFileError, ValueprintError
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
keys_app = typer.Typer(
    cls=ReportingGroup, no_args_is_help=True, help="Manage the issuer's signing keys (ES256, P-256)."
)
bench_app = typer.Typer(cls=ReportingGroup, no_args_is_help=True, help="Run a benchmark; figures go to JSON.")
admin_app = typer.Typer(cls=ReportingGroup, no_args_is_help=True, help="Administer a valueprint server.")
app.add_typer(token_app, name="token")
app.add_typer(keys_app, name="keys")
app.add_typer(bench_app, name="bench")
evaluator_app = typer.Typer(cls=ReportingGroup, no_args_is_help=True, help="Train and report on the value evaluator.")
app.add_typer(admin_app, name="admin")
db_app = typer.Typer(cls=ReportingGroup, no_args_is_help=True, help="The database schema (Alembic migrations).")
app.add_typer(db_app, name="db")
app.add_typer(evaluator_app, name="evaluator")
adapters_app = typer.Typer(cls=ReportingGroup, no_args_is_help=True, help="Personal and persona LoRA adapters.")
app.add_typer(adapters_app, name="adapters")
steer_app = typer.Typer(cls=ReportingGroup, no_args_is_help=True, help="Steering vectors for the local model.")
app.add_typer(steer_app, name="steer")

console = Console()


def _print_version(value: bool) -> None:
    if value:
        from valueprint import __version__

        typer.echo(f"valueprint {__version__}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool, typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and stop.")
    ] = False,
) -> None:
    """State your values once; carry them to any AI."""


ResultsDir = Annotated[Path, typer.Option("--out", help="Folder for the JSON results.")]


def current_settings() -> Settings:
    return load_settings()


def read_json(path: Path) -> Any:
    """The JSON in `path`; InputFileError naming the file when it is missing, unreadable or not JSON."""
    if not path.exists():
        raise InputFileError(f"{path}: no such file")
    if path.is_dir():
        raise InputFileError(f"{path} is a folder, not a JSON file")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise InputFileError(f"{path}: cannot read the file ({error.strerror})") from error
    except ValueError as error:
        raise InputFileError(f"{path} is not valid JSON: {error}") from error


def print_figures(figures: dict[str, Any], name: str, out: Path) -> None:
    from valueprint.bench.report import write_result

    path = write_result(name, figures, out)
    for key, value in figures.items():
        console.print(f"  {key:32} {value}", markup=False, highlight=False)
    console.print(f"[green]written[/] {path}")
