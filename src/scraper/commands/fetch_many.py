"""`scraper fetch-many FILE`: many article URLs fetched politely, cleaned and saved."""

from __future__ import annotations

import asyncio
import hashlib
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cleaner import ExtractionError, Reject, canonicalize_url, extract
from scraper.cli import ConfigOption, DataDirOption, UserAgentOption, app, fail, settings_from
from scraper.errors import FetchError, StorageError
from scraper.exitcodes import ExitCode
from scraper.fetcher import Fetcher, FetchOutcome, FetchRequest
from scraper.http import HTML_TYPES, check_article_response, utc_now
from scraper.rawstore import WarcStore
from scraper.settings import Settings
from scraper.state import StateDB
from scraper.storage import save_article, save_reject

_PLAIN_EVERY = 100  # outcomes between two progress lines when stderr is not a terminal


def read_url_file(path: Path) -> Iterator[str]:
    """The URLs of a file, one a line; blank lines and ``#`` comments are skipped."""
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            url = line.strip()
            if url and not url.startswith("#"):
                yield url


def _state_key(url: str) -> str:
    try:
        return canonicalize_url(url)
    except ValueError:
        return url


class _Run:
    """Turns each outcome into a saved record or a reject, and counts."""

    def __init__(self, settings: Settings, state: StateDB) -> None:
        self.settings = settings
        self.state = state
        self.counts: Counter[str] = Counter()
        self.failures: Counter[str] = Counter()

    def requests(self, urls: Iterator[str]) -> Iterator[FetchRequest]:
        for url in urls:
            remembered = self.state.conditional(_state_key(url))
            etag, modified = remembered or (None, None)
            yield FetchRequest(url, etag=etag, last_modified=modified, accept=HTML_TYPES)

    def _reject(self, url: str, error: FetchError | ExtractionError, when: datetime) -> None:
        status = error.status if isinstance(error, FetchError) else None
        reject = Reject(
            url=url, reason=error.reason, detail=error.detail, status=status, fetched_at=when
        )
        save_reject(self.settings.data_dir, reject)
        self.state.record_error(_state_key(url), f"{error.reason.value}: {error.detail}", status)
        self.failures[error.reason.value] += 1
        self.counts["failed"] += 1

    def handle(self, outcome: FetchOutcome) -> None:
        url = outcome.request.url
        key = _state_key(url)
        page = outcome.page
        when = page.fetched_at if page is not None else utc_now()
        self.state.mark_seen(key, outcome.request.source, when)
        if page is not None:
            self.state.record_fetch(
                key, page.status, page.header("etag"), page.header("last-modified"), when
            )
        if outcome.error is not None:
            self._reject(url, outcome.error, when)
            return
        assert page is not None  # no error means a page
        if outcome.not_modified:
            self.counts["unchanged"] += 1
            return
        try:
            check_article_response(page)
            article = extract(
                page.body, url=page.final_url, fetched_at=when, headers=dict(page.headers)
            )
        except (FetchError, ExtractionError) as exc:
            self._reject(url, exc, when)
            return
        path = save_article(self.settings.data_dir, article)
        digest = "sha256:" + hashlib.sha256(article.body.encode("utf-8")).hexdigest()
        self.state.record_result(key, digest, article.id, str(path))
        self.counts["saved"] += 1


async def _fetch_many(settings: Settings, file: Path, total: int, show_bar: bool) -> _Run:
    data = settings.data_dir
    with StateDB(data / "state.sqlite") as state, WarcStore(data / "raw") as store:
        run = _Run(settings, state)
        progress = Progress(
            TextColumn("fetching"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[failed]} failed"),
            TimeElapsedColumn(),
            transient=True,
            disable=not show_bar,
        )
        with progress:
            task = progress.add_task("fetch", total=total, failed=0)
            async with Fetcher(settings, raw_store=store) as fetcher:
                done = 0
                async for outcome in fetcher.fetch_all(run.requests(read_url_file(file))):
                    run.handle(outcome)
                    done += 1
                    progress.update(task, completed=done, failed=run.counts["failed"])
                    if not show_bar and done % _PLAIN_EVERY == 0:
                        typer.echo(f"fetch-many: {done}/{total} done", err=True)
    return run


@app.command("fetch-many")
def fetch_many(
    file: Annotated[
        Path, typer.Argument(help="A text file of article URLs, one a line ('#' comments).")
    ],
    config: ConfigOption = None,
    data_dir: DataDirOption = None,
    user_agent: UserAgentOption = None,
) -> None:
    """Fetch every URL of FILE politely (robots.txt, per-host limits, retries), clean and save.

    Records go to data/clean/, rejects with their reason to data/rejects/, every response
    to data/raw/ (WARC); ETags and Last-Modified are remembered in data/state.sqlite and
    sent back, so an unchanged page costs a 304. Exit codes: 0 all saved or unchanged,
    11 some URLs failed (see data/rejects/), 10 cannot write, 2 unreadable FILE.
    """
    settings = settings_from(config, data_dir=data_dir, user_agent=user_agent)
    try:
        total = sum(1 for _ in read_url_file(file))
    except (OSError, UnicodeDecodeError) as exc:
        fail(ExitCode.USAGE, f"cannot read {file}: {exc}")
    try:
        run = asyncio.run(_fetch_many(settings, file, total, sys.stderr.isatty()))
    except StorageError as exc:
        fail(ExitCode.OUTPUT, str(exc))
    counts = run.counts
    reasons = ", ".join(f"{reason} {n}" for reason, n in sorted(run.failures.items()))
    typer.echo(
        f"fetch-many: {total} URLs: {counts['saved']} saved, {counts['unchanged']} unchanged, "
        f"{counts['failed']} failed" + (f" ({reasons})" if reasons else "")
    )
    if counts["failed"]:
        raise typer.Exit(int(ExitCode.PARTIAL))


__all__ = ["fetch_many", "read_url_file"]
