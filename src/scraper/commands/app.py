"""The `scraper` command line: the app, its shared options, and the entry point.

Every other module of `scraper.commands` holds one command and registers it on `app`
when imported.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from scraper import __version__, commands
from scraper.commands.exitcodes import ExitCode
from scraper.errors import ConfigError
from scraper.jobs.progress import printable
from scraper.settings import Settings, load_settings

app = typer.Typer(
    help="Scrape opinion columns into clean, validated JSON records.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="TOML file whose [settings] table overrides defaults."),
]
DataDirOption = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Where raw/, clean/ and state live. [default: data]"),
]
UserAgentOption = Annotated[
    str | None, typer.Option("--user-agent", help="User-Agent header to send instead of ours.")
]
ProxyOption = Annotated[
    str | None,
    typer.Option(
        "--proxy",
        help="Send every request through this http(s)://host:port proxy (the [settings] "
        "proxy; HTTP(S)_PROXY is read only with trust_env = true).",
    ),
]


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"scraper {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_print_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Scrape opinion columns into clean, validated JSON records.

    Start with `scraper demo` to see a whole run against bundled example pages,
    or `scraper fetch URL` to clean one page.
    """


def fail(code: ExitCode, message: str) -> NoReturn:
    """Print one line on stderr and exit with ``code``."""
    typer.echo(f"scraper: error: {printable(message)}", err=True)
    raise typer.Exit(int(code))


def settings_from(config: Path | None, **overrides: object) -> Settings:
    try:
        return load_settings(config).with_overrides(**overrides)
    except ConfigError as exc:
        fail(ExitCode.USAGE, str(exc))


_NOT_COMMANDS = frozenset({"app", "exitcodes"})


def _register_commands() -> None:
    """Import every module of `scraper.commands`; each adds its command(s) to `app`."""
    for module in pkgutil.iter_modules(commands.__path__):
        if module.name in _NOT_COMMANDS:
            continue
        importlib.import_module(f"{commands.__name__}.{module.name}")


def main() -> None:
    """Console-script entry point: no tracebacks for expected failures."""
    _register_commands()
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("scraper: interrupted", err=True)
        sys.exit(130)
