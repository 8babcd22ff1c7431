"""The `scraper` command line: one-off fetches, cleaning saved files, and scheduled runs."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from cleaner import Article, ExtractionError, extract
from scraper import __version__
from scraper.errors import ConfigError, FetchError, StorageError
from scraper.exitcodes import ExitCode, exit_code_for
from scraper.http import check_article_response, fetch_page, make_client
from scraper.rawstore import WarcStore
from scraper.settings import Settings, load_settings
from scraper.storage import save_article, to_json, write_atomic

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
    typer.echo(f"scraper: error: {message}", err=True)
    raise typer.Exit(int(code))


def _settings(config: Path | None, **overrides: object) -> Settings:
    try:
        return load_settings(config).with_overrides(**overrides)
    except ConfigError as exc:
        fail(ExitCode.USAGE, str(exc))


async def _fetch_article(url: str, settings: Settings, save: bool) -> Article:
    async with make_client(settings) as client:
        page = await fetch_page(client, url, settings)
    if save:
        with WarcStore(settings.data_dir / "raw") as store:
            store.append(page)
    check_article_response(page)
    return extract(
        page.body, url=page.final_url, fetched_at=page.fetched_at, headers=dict(page.headers)
    )


@app.command()
def fetch(
    url: Annotated[str, typer.Argument(help="The article page to fetch.")],
    save: Annotated[
        bool, typer.Option("--save", help="Also write data/clean/<source>/<id>.json and raw WARC.")
    ] = False,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the JSON record to this file.")
    ] = None,
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    user_agent: UserAgentOption = None,
) -> None:
    """Fetch one URL, clean it, and print the record as JSON.

    Exit codes: 0 ok, 3 network, 4 timeout, 5 HTTP error, 6 blocked (401/403/451),
    7 not HTML, 8 too large, 9 not an article, 10 cannot write output.
    """
    settings = _settings(config, data_dir=data_dir, user_agent=user_agent)
    try:
        article = asyncio.run(_fetch_article(url, settings, save))
        if save:
            save_article(settings.data_dir, article)
        text = to_json(article)
        if output is not None:
            write_atomic(output, text)
        else:
            sys.stdout.write(text)
    except FetchError as exc:
        fail(exit_code_for(exc.reason), f"{exc.reason.value}: {exc}")
    except ExtractionError as exc:
        fail(ExitCode.NOT_ARTICLE, f"{url}: not an article ({exc})")
    except StorageError as exc:
        fail(ExitCode.OUTPUT, str(exc))


def main() -> None:
    """Console-script entry point: no tracebacks for expected failures."""
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("scraper: interrupted", err=True)
        sys.exit(130)
