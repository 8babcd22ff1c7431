"""`scraper fetch URL`: one page fetched, cleaned and printed."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from cleaner import Article, ExtractionError, extract
from scraper.commands.app import Options, app, fail, shared
from scraper.commands.exitcodes import ExitCode, exit_code_for
from scraper.errors import FetchError, StorageError
from scraper.fetch.fetcher import Fetcher, FetchRequest
from scraper.fetch.page import HTML_TYPES, check_article_response
from scraper.settings import Settings
from scraper.store.duplicates import mark_duplicate
from scraper.store.lock import LockHeld, RunLock
from scraper.store.records import clean_path, save_article, to_json, write_atomic
from scraper.store.state import StateDB
from scraper.store.warc import WarcStore


async def _fetch_article(url: str, settings: Settings, save: bool) -> Article:
    with contextlib.ExitStack() as stack:
        store = stack.enter_context(WarcStore(settings.data_dir / "raw")) if save else None
        async with Fetcher(settings, raw_store=store) as fetcher:
            outcome = await fetcher.fetch(FetchRequest(url, accept=HTML_TYPES))
    if outcome.error is not None:
        raise outcome.error
    assert outcome.page is not None  # no error means a page
    page = outcome.page
    check_article_response(page)
    return extract(
        page.body, url=page.final_url, fetched_at=page.fetched_at, headers=dict(page.headers)
    )


def _save(data_dir: Path, article: Article) -> Article:
    """Save ``article`` as a run would, with ``duplicate_of`` from the near-duplicate
    index, which learns it (copies saved earlier are pointed to it if it is their better
    original). The URL gets no state row: the next run fetches it in full, and follows a
    teaser to its original, which a run does only for a page it cleans."""
    with StateDB(data_dir / "state.sqlite") as state:
        article = mark_duplicate(state, data_dir, article, clean_path(data_dir, article))
        save_article(data_dir, article)
    return article


@app.command()
@shared("logging", "settings", "network")
def fetch(
    url: Annotated[str, typer.Argument(help="The article page to fetch.")],
    save: Annotated[
        bool,
        typer.Option(
            "--save",
            help="Also write data/clean/<source>/<id>.json (marked duplicate_of a saved "
            "near-duplicate, as a run does) and the raw WARC.",
        ),
    ] = False,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write the JSON record to this file ('-': stdout)."),
    ] = None,
    robots: Annotated[
        bool,
        typer.Option(
            "--robots/--no-robots",
            help="Obey robots.txt. Off by default: you asked for this page by name, as in "
            "a browser; fetch-many and run always obey it.",
        ),
    ] = False,
    *,
    options: Options,
) -> None:
    """Fetch one URL, clean it, and print the record as JSON.

    Retries (connection errors, timeouts, 429, 5xx) and Retry-After follow the settings
    (the [settings] of --config, else of ./sources.toml when there is one; then -s).

    Exit codes: 0 ok, 3 network, 4 timeout, 5 HTTP error, 6 blocked (401/403/451),
    7 not HTML, 8 too large, 9 not an article, 10 cannot write output, 12 with --save:
    another run holds the data folder's lock, 13 a listing page (an aggregator's
    columnist or newspaper page: use `run` on it).
    """
    settings = options.settings()
    settings = settings.with_overrides(
        politeness=settings.politeness.model_copy(update={"obey_robots": robots})
    )
    started = time.monotonic()
    try:
        # With --save it writes the data folder as `run`, `fetch-many` and `reclean` do,
        # so under the same lock: a re-clean meanwhile would overwrite this newer record
        # with the older response it read from the store.
        with RunLock(settings.data_dir / "run.lock") if save else contextlib.nullcontext():
            article = asyncio.run(_fetch_article(url, settings, save))
            if save:
                article = _save(settings.data_dir, article)
        text = to_json(article)
        if output is not None and str(output) != "-":
            write_atomic(output, text)
        else:
            sys.stdout.write(text)
            sys.stdout.flush()
    except FetchError as exc:
        fail(exit_code_for(exc.reason), f"{exc.reason.value}: {exc}")
    except ExtractionError as exc:
        fail(exit_code_for(exc.reason), f"{url}: not an article ({exc})")
    except LockHeld as exc:
        fail(ExitCode.CANNOT_START, str(exc))
    except StorageError as exc:
        fail(ExitCode.OUTPUT, str(exc))
    counts = {"url": article.url, "id": article.id, "saved": save}
    options.summary("fetch", {**counts, "seconds": round(time.monotonic() - started, 2)})
