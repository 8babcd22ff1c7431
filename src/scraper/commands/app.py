"""The `scraper` command line: the app, the options every command shares, the entry point.

Every other module of `scraper.commands` holds one command and registers it on `app`
when imported. A command takes the shared options it needs with `@shared(...)`
(logging, settings, network) and receives them as one `Options` value, so `-v`, `-q`,
`--log-json`, `-s KEY=VALUE`, `--timeout` and the rest mean the same everywhere.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import importlib
import inspect
import json
import os
import pkgutil
import sys
import threading
import typing
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from typer.core import TyperArgument, TyperGroup, TyperOption

from cleaner.language import load_identifier_with
from scraper import __version__, commands
from scraper.clock import utc_now
from scraper.commands.exitcodes import ExitCode
from scraper.errors import ConfigError
from scraper.jobs.language_cache import load_identifier
from scraper.jobs.progress import Reporter, choose_mode, printable
from scraper.settings import RetryPolicy, Settings, apply_overrides, load_settings, parse_override

# Where commands look for settings when no --config is given, as `scraper run` does.
DEFAULT_CONFIG = Path("sources.toml")


class _Argument(TyperArgument):
    """An argument shown as click shows it (``URL``, ``[FILE]``), not ``{url} <str>``."""

    def display_type_rich(self, ctx: Any) -> str | None:
        return None

    def _usage_display_name(self) -> str:
        name = self.display_name_raw
        name = name if self.required else f"[{name}]"
        return name + ("..." if self.nargs != 1 else "")


_METAVARS = {"str": "TEXT", "int": "INTEGER", "float": "NUMBER"}


class _Group(TyperGroup):
    """The root group: plain metavars on every command, and the failures every command
    shares (a closed pipe, a config error) handled once."""

    # typer's own click copy types these; Any keeps us off its private module.
    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        for param in command.params if command is not None else []:
            if isinstance(param, TyperArgument) and not isinstance(param, _Argument):
                param.__class__ = _Argument  # same fields; only the rendering differs
                param.metavar = param.metavar or (param.name or "").upper()
            elif isinstance(param, TyperOption) and not param.is_flag and not param.count:
                label = param.display_type(ctx).strip("<>").removeprefix("list[").rstrip("]")
                param.metavar = param.metavar or _METAVARS.get(label, label.upper())
        return command

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            # The reader went away (`scraper export | head`): that is its choice, not a
            # failure. Point stdout at /dev/null so the final flush cannot complain.
            with contextlib.suppress(OSError):
                devnull = os.open(os.devnull, os.O_WRONLY)
                os.dup2(devnull, sys.stdout.fileno())
            raise typer.Exit(int(ExitCode.OK)) from None
        except ConfigError as exc:
            fail(ExitCode.USAGE, str(exc))


app = typer.Typer(
    cls=_Group,
    help="Scrape opinion columns into clean, validated JSON records.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

# Cleaning is CPU-bound: past a few processes a core nothing gets faster, and a typo
# such as --workers 100000 would otherwise fork until the machine runs out of memory.
_WORKERS_PER_CORE = 4


def _bounded_workers(value: int | None) -> int | None:
    most = _WORKERS_PER_CORE * (os.cpu_count() or 1)
    if value is not None and value > most:
        raise typer.BadParameter(
            f"{value} is more than {most} ({_WORKERS_PER_CORE} a core on this machine)"
        )
    return value


WorkersOption = Annotated[
    int | None,
    typer.Option(
        "--workers",
        min=0,
        callback=_bounded_workers,
        help="Cleaning processes; 0 cleans in this process, at most 4 a core. "
        "[default: one per core]",
    ),
]
RawOnlyOption = Annotated[
    bool,
    typer.Option(
        "--raw-only",
        help="Fetch into data/raw/ (WARC) only, without cleaning; `scraper reclean` cleans later.",
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


# -- the shared options ------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    """The shared options of one command line; fields a command does not offer keep
    their defaults."""

    verbose: int = 0
    quiet: bool = False
    log_json: bool = False
    config: Path | None = None
    data_dir: Path | None = None
    set_: tuple[str, ...] = ()
    timeout: float | None = None
    retries: int | None = None
    user_agent: str | None = None
    proxy: str | None = None

    @property
    def verbosity(self) -> int:
        return -1 if self.quiet else self.verbose

    def reporter(self) -> Reporter:
        """Log events on stderr: JSON with --log-json, a bar on a terminal, lines otherwise."""
        return Reporter(choose_mode(self.log_json), clock=utc_now, verbosity=self.verbosity)

    def config_file(self) -> Path | None:
        """--config, else ./sources.toml when there is one."""
        if self.config is not None:
            return self.config
        return DEFAULT_CONFIG if DEFAULT_CONFIG.is_file() else None

    def settings(self, base: Settings | None = None) -> Settings:
        """``base`` (default: the config file's [settings]) with the command line applied:
        --data-dir, --timeout, --retries, --user-agent, then every -s KEY=VALUE.

        Raises:
            ConfigError: a bad file, key or value, in one line naming it.
        """
        settings = base if base is not None else load_settings(self.config_file())
        changes: dict[str, Any] = {}
        if self.data_dir is not None:
            changes["data_dir"] = self.data_dir
        if self.user_agent is not None:
            changes["user_agent"] = self.user_agent
        if self.proxy is not None:
            changes["proxy"] = self.proxy
        if self.timeout is not None:
            # One number for the whole page; the connect and read limits fit inside it.
            changes["timeouts.total"] = self.timeout
            changes["timeouts.connect"] = min(settings.timeouts.connect, self.timeout)
            changes["timeouts.read"] = min(settings.timeouts.read, self.timeout)
        if self.retries is not None:
            changes["retry.attempts"] = self.retries + 1
        settings = apply_overrides(settings, changes, origin="option")
        pairs = dict(parse_override(pair) for pair in self.set_)
        return apply_overrides(settings, pairs, origin="-s")

    def summary(self, command: str, counts: dict[str, Any], text: str | None = None) -> None:
        """End a command that did work: the counts as a `summary` log event and, for a
        command whose stdout is not records (``text`` given), on stdout too: ``text``,
        or the counts as one JSON object with --log-json. -q keeps stdout silent."""
        if text is None:
            if self.log_json or self.verbose:
                self.reporter().event("summary", command=command, **counts)
            return
        if self.log_json:
            self.reporter().event("summary", command=command, **counts)
        if not self.quiet:
            typer.echo(json.dumps(counts, sort_keys=True) if self.log_json else text)


def _option(name: str, default: Any, annotation: Any) -> inspect.Parameter:
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
    )


_GROUPS: dict[str, list[inspect.Parameter]] = {
    "logging": [
        _option(
            "verbose",
            0,
            Annotated[
                int,
                typer.Option(
                    "--verbose", "-v", count=True, show_default=False, help="Log every event."
                ),
            ],
        ),
        _option(
            "quiet",
            False,
            Annotated[
                bool,
                typer.Option("--quiet", "-q", help="Only warnings and errors; no summary."),
            ],
        ),
        _option(
            "log_json",
            False,
            Annotated[
                bool,
                typer.Option(
                    "--log-json", help="Log one JSON object per line on stderr, summary included."
                ),
            ],
        ),
    ],
    "settings": [
        _option(
            "config",
            None,
            Annotated[
                Path | None,
                typer.Option(
                    "--config",
                    "-c",
                    help="The sources file; its [settings] table overrides the defaults. "
                    "[default: ./sources.toml, if there is one]",
                ),
            ],
        ),
        _option(
            "data_dir",
            None,
            Annotated[
                Path | None,
                typer.Option(
                    "--data-dir", help="Where raw/, clean/ and state live. [default: data]"
                ),
            ],
        ),
        _option(
            "set_",
            None,
            Annotated[
                list[str] | None,
                typer.Option(
                    "--set",
                    "-s",
                    metavar="KEY=VALUE",
                    help="Override one setting, e.g. -s politeness.delay=0.5 (repeatable; "
                    "keys as in [settings] of sources.toml).",
                ),
            ],
        ),
    ],
    "network": [
        _option(
            "timeout",
            None,
            Annotated[
                float | None,
                typer.Option(
                    "--timeout",
                    metavar="SECONDS",
                    help="Give up a page after this long.",
                ),
            ],
        ),
        _option(
            "retries",
            None,
            Annotated[
                int | None,
                typer.Option(
                    "--retries",
                    metavar="N",
                    min=0,
                    help="Retries of a failed request (timeouts, 429, 5xx). "
                    f"[default: {RetryPolicy().attempts - 1}]",
                ),
            ],
        ),
        _option(
            "user_agent",
            None,
            Annotated[
                str | None,
                typer.Option("--user-agent", help="User-Agent header to send instead of ours."),
            ],
        ),
        _option(
            "proxy",
            None,
            Annotated[
                str | None,
                typer.Option(
                    "--proxy",
                    metavar="URL",
                    help="Send every request through this http(s)://host:port proxy (the "
                    "[settings] proxy; HTTP(S)_PROXY is read only with trust_env = true).",
                ),
            ],
        ),
    ],
}
_FIELDS = frozenset(f.name for f in fields(Options))
F = TypeVar("F", bound=Callable[..., None])


def shared(*groups: str) -> Callable[[F], F]:
    """Give a command the shared options of ``groups`` ("logging", "settings", "network");
    it receives them as its ``options: Options`` parameter."""

    def decorate(func: F) -> F:
        hints = typing.get_type_hints(func, include_extras=True)
        own = [
            param.replace(annotation=hints[param.name])
            for param in inspect.signature(func).parameters.values()
            if param.name != "options"
        ]
        extra = [param for group in groups for param in _GROUPS[group]]
        assert {p.name for p in extra} <= _FIELDS

        @functools.wraps(func)
        def command(**kwargs: Any) -> None:
            values = {p.name: kwargs.pop(p.name) for p in extra}
            values["set_"] = tuple(values.get("set_") or ())
            func(**kwargs, options=Options(**values))

        parameters = own + extra
        command.__signature__ = inspect.Signature(parameters, return_annotation=None)  # type: ignore[attr-defined]
        command.__annotations__ = {p.name: p.annotation for p in parameters}
        return typing.cast(F, command)

    return decorate


_NOT_COMMANDS = frozenset({"app", "exitcodes"})


def _register_commands(args: list[str]) -> None:
    """Import the module of the command ``args`` name (each module adds its command(s) to
    `app`), or every module when they name none (``--help``, a typo): typer lists them all.

    One module, not all: the others' imports (the cleaner's models, dask, the demo
    site) cost a third of a second before the first request of ``fetch-many``.
    """
    names = [
        module.name
        for module in pkgutil.iter_modules(commands.__path__)
        if module.name not in _NOT_COMMANDS
    ]
    named = next((arg.replace("-", "_") for arg in args if not arg.startswith("-")), None)
    for name in [named] if named in names else names:
        importlib.import_module(f"{commands.__name__}.{name}")


def main() -> None:
    """Console-script entry point: no tracebacks for expected failures."""
    # A page cleaned in this process (`fetch`, `clean`, `--workers 0`, `reclean`) that
    # needs the language model maps it from its cache, as the cleaning pool does.
    load_identifier_with(load_identifier)
    _register_commands(sys.argv[1:])
    try:
        try:
            app()
        except KeyboardInterrupt:
            typer.echo("scraper: interrupted", err=True)
            sys.exit(int(ExitCode.INTERRUPTED))
    except SystemExit as done:  # typer ends every command with one
        # Only in the process this is the program of (the console script, or
        # ``python -m scraper``): a caller running `main` in its own process (a test)
        # gets the SystemExit, and its interpreter goes on.
        if getattr(sys.modules.get("__main__"), "main", None) is main:
            _exit(done.code)
        raise


def _exit(code: object) -> NoReturn:
    """Exit with ``code`` once everything is written, without tearing the interpreter down.

    By the time a command returns, all it wrote is complete: each record and reject is
    written to a temporary file, fsynced and renamed; the state database is committed
    and closed; the WARC writer process has written, fsynced and closed its files and
    exited. What the exit handlers do (logging's flush, the waits for worker threads and
    processes) still runs, after the threads still running are waited for, and the
    standard streams are flushed. What is skipped is the
    interpreter's own finalization, freeing every object of ~500 modules one by one:
    ~0.1 s after the last response of a `fetch-many --raw-only`, nothing written by it.
    """
    if code is not None and not isinstance(code, int):
        sys.stderr.write(f"{code}\n")  # what Python prints for a SystemExit with a message
        code = 1
    for thread in threading.enumerate():  # as the interpreter would: wait for them
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing more to say
            stream.flush()
    os._exit(code or 0)
