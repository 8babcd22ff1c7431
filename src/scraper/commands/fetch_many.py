"""`scraper fetch-many FILE`: many article URLs fetched politely, cleaned and saved."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from cleaner import canonicalize_url
from cleaner.urls import MAX_URL_CHARS
from scraper.clock import utc_now
from scraper.commands.app import Options, RawOnlyOption, WorkersOption, app, fail, shared
from scraper.commands.exitcodes import ExitCode
from scraper.discovery import Link
from scraper.discovery.sources import SourcesConfig
from scraper.errors import StorageError
from scraper.jobs.cleaning import CleaningUnavailable
from scraper.jobs.run import Outcome, run_once
from scraper.store.lock import LockHeld, RunLock


def read_url_file(path: Path) -> Iterator[str]:
    """The canonical URLs of a file, one a line; blank lines and ``#`` comments are skipped.

    Raises:
        OSError: the file cannot be read.
        ValueError: a line that is not UTF-8 or not an http(s) URL, named by its number.
    """
    with path.open("rb") as handle:
        # Read a line at most one byte past the cap, so a huge line is never held whole.
        for number, raw in enumerate(iter(lambda: handle.readline(MAX_URL_CHARS + 1), b""), 1):
            if len(raw.rstrip(b"\r\n")) > MAX_URL_CHARS:
                raise ValueError(f"line {number}: over {MAX_URL_CHARS:,} bytes, too long for a URL")
            try:
                url = raw.decode("utf-8").strip()
            except UnicodeDecodeError:
                raise ValueError(f"line {number}: not UTF-8 text") from None
            if url and not url.startswith("#"):
                try:
                    yield canonicalize_url(url)
                except ValueError as exc:
                    raise ValueError(f"line {number}: {exc}") from None


@app.command("fetch-many")
@shared("logging", "settings", "network")
def fetch_many(
    file: Annotated[
        Path, typer.Argument(help="A text file of article URLs, one a line ('#' comments).")
    ],
    workers: WorkersOption = None,
    raw_only: RawOnlyOption = False,
    *,
    options: Options,
) -> None:
    """Fetch every URL of FILE politely (robots.txt, per-host limits, retries), clean and save.

    Records go to data/clean/, rejects with their reason to data/rejects/, every response
    to data/raw/ (WARC); ETags and Last-Modified are remembered in data/state.sqlite and
    sent back, so an unchanged page costs a 304. Each page is saved as soon as it is
    clean; Ctrl-C keeps what was saved and the next fetch-many does the rest.

    Exit codes: 0 every URL saved, unchanged or settled for good (404/410, robots.txt,
    not an article), 11 some failed otherwise (see data/rejects/), 10 cannot write,
    2 unreadable FILE or a line that is not an http(s) URL, 12 another run holds the lock,
    130 interrupted.
    """
    settings = options.settings()
    try:
        links = [Link(url=url) for url in dict.fromkeys(read_url_file(file))]
    except OSError as exc:
        fail(ExitCode.USAGE, f"cannot read {file}: {exc}")
    except ValueError as exc:
        fail(ExitCode.USAGE, f"{file}: {exc}")
    reporter = options.reporter()
    try:
        with RunLock(settings.data_dir / "run.lock"), reporter:
            summary = asyncio.run(
                run_once(
                    SourcesConfig(settings=settings),
                    [],
                    reporter=reporter,
                    clock=utc_now,
                    links=links,
                    follow_originals=False,  # fetch what was asked for, nothing more
                    workers=workers,
                    raw_only=raw_only,
                )
            )
    except (LockHeld, CleaningUnavailable) as exc:
        fail(ExitCode.CANNOT_START, str(exc))
    except StorageError as exc:
        fail(ExitCode.OUTPUT, str(exc))
    outcomes = summary.outcomes
    saved = outcomes[Outcome.NEW] + outcomes[Outcome.UPDATED]
    failed = outcomes[Outcome.REJECTED] + outcomes[Outcome.FAILED]
    reasons = ", ".join(f"{reason} {n}" for reason, n in sorted(summary.reasons.items()))
    stored = outcomes[Outcome.STORED]
    text = (
        f"fetch-many: {len(links)} URLs: {saved} saved, {outcomes[Outcome.UNCHANGED]} unchanged, "
        f"{failed} failed"
        + (f" ({reasons})" if reasons else "")
        + (f", {stored} stored raw for `scraper reclean`" if stored else "")
        + (" (interrupted: run it again to do the rest)" if summary.interrupted else "")
    )
    if summary.attention:
        text += f", {summary.attention} worth a look"
    options.summary("fetch-many", summary.counts(), text)
    if summary.interrupted:
        raise typer.Exit(int(ExitCode.INTERRUPTED))
    if not summary.ok:
        raise typer.Exit(int(ExitCode.PARTIAL))


__all__ = ["fetch_many", "read_url_file"]
