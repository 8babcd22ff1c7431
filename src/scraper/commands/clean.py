"""`scraper clean FILE|DIR|-`: clean saved pages (HTML or plain text) and print the records."""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from cleaner import Article, ExtractionError, declared_url, extract, extract_text
from cleaner.decode import decode_html
from cleaner.limits import MAX_INPUT_BYTES
from cleaner.sniff import refuse_binary
from scraper.commands.app import Options, app, fail, shared
from scraper.commands.exitcodes import ExitCode, exit_code_for
from scraper.store.records import to_json

# Markup near the start means HTML; anything else is treated as a text dump.
_HTML_START = re.compile(r"<(?:!doctype|html|head|body|meta|div|p|article)\b", re.IGNORECASE)
_SNIFF_CHARS = 4096
STDIN = Path("-")
# The cleaner caps a page at MAX_INPUT_BYTES (of HTML) or characters (of text); a text in
# UTF-32 takes 4 bytes a character, so no file longer than this can be cleaned.
_MAX_READ = 4 * MAX_INPUT_BYTES


class PageFailure(Exception):
    """One page that did not become a record, with the exit code it means alone."""

    def __init__(self, code: ExitCode, message: str) -> None:
        super().__init__(message)
        self.code = code


def looks_like_html(text: str) -> bool:
    """True when the file's first characters (decoded: UTF-16 pages too) hold HTML markup."""
    return _HTML_START.search(text, 0, _SNIFF_CHARS) is not None


def _aware(value: str) -> datetime:
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        fail(ExitCode.USAGE, f"--fetched-at: not an ISO 8601 date and time: {value!r}")
    if when.tzinfo is None:
        fail(ExitCode.USAGE, f"--fetched-at: give a zone (+00:00 or Z): {value!r}")
    return when


def clean_bytes(raw: bytes, name: str, url: str | None, when: datetime | None = None) -> Article:
    """The record of one saved page.

    Raises:
        PageFailure: no usable URL, or not an article.
    """
    try:
        # Before asking for a URL the file could never use.
        refuse_binary(raw)
        text = decode_html(raw)
        refuse_binary(text)
        if looks_like_html(text):
            page_url = url or declared_url(text)  # the page decoded above, not once more
            if page_url is None:
                raise PageFailure(ExitCode.USAGE, f"{name}: the page declares no URL; pass --url")
            # The bytes, not the text: the input cap counts bytes.
            return extract(raw, url=page_url, fetched_at=when)
        if url is None:
            raise PageFailure(ExitCode.USAGE, f"{name}: a text dump carries no URL; pass --url")
        return extract_text(text, url=url, fetched_at=when)
    except ExtractionError as exc:
        raise PageFailure(exit_code_for(exc.reason), f"{name}: not an article ({exc})") from exc


def _files(folder: Path) -> Iterator[Path]:
    """The files under ``folder``, sorted, hidden ones left out."""
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if path.is_file() and not any(part.startswith(".") for part in relative.parts):
            yield path


def _read(path: Path) -> bytes:
    """The bytes of ``path``, read only as far as any page can go: /dev/zero, a pipe that
    never ends or a disk image would otherwise be held whole, gigabytes of it."""
    try:
        if path == STDIN:
            raw = sys.stdin.buffer.read(_MAX_READ + 1)
        else:
            with path.open("rb") as handle:
                raw = handle.read(_MAX_READ + 1)
    except OSError as exc:
        raise PageFailure(ExitCode.USAGE, f"cannot read {path}: {exc.strerror or exc}") from exc
    if len(raw) > _MAX_READ:
        name = "standard input" if path == STDIN else str(path)
        raise PageFailure(
            ExitCode.TOO_LARGE, f"{name}: not an article (over {_MAX_READ:,} bytes, too large)"
        )
    return raw


@app.command()
@shared("logging")
def clean(
    file: Annotated[
        Path,
        typer.Argument(
            help="A saved page (HTML, or the page as plain text), '-' for standard input, "
            "or a folder of saved pages."
        ),
    ],
    url: Annotated[
        str | None,
        typer.Option(
            "--url",
            help="The page's address (the record's id derives from it). Optional for HTML "
            "that declares a canonical URL; required for text dumps. Not with a folder.",
        ),
    ] = None,
    fetched_at: Annotated[
        str | None,
        typer.Option(
            "--fetched-at",
            help="When the page was saved, ISO 8601 with a zone (2025-11-20T12:00:00+00:00): "
            "relative dates on it ('yesterday') are read against it. Without it they stay "
            "in date_raw only, and no date is guessed.",
        ),
    ] = None,
    *,
    options: Options,
) -> None:
    """Clean saved pages and print the records as JSON: one page as one JSON document,
    a folder as JSON Lines (one record a line; pages that fail are reported on stderr).

    Exit codes: 0 ok, 2 unreadable file or no usable URL, 7 not a page (a PDF, an archive,
    an image), 8 too large, 9 not an article, 13 a listing page (an aggregator's columnist
    or newspaper page); for a folder: 0 every page a record or not an article (counted in
    the summary), 11 some pages could not be read or had no usable URL.
    """
    started = time.monotonic()
    when = _aware(fetched_at) if fetched_at is not None else None
    if file != STDIN and file.is_dir():
        if url is not None:
            fail(ExitCode.USAGE, "--url names one page; a folder's pages need their own")
        _clean_folder(file, options, started, when)
        return
    try:
        name = "standard input" if file == STDIN else str(file)
        article = clean_bytes(_read(file), name, url, when)
    except PageFailure as exc:
        fail(exc.code, str(exc))
    sys.stdout.write(to_json(article))
    sys.stdout.flush()
    counts = {"files": 1, "records": 1, "seconds": round(time.monotonic() - started, 2)}
    options.summary("clean", counts)


def _clean_folder(folder: Path, options: Options, started: float, when: datetime | None) -> None:
    reporter = options.reporter()
    counts = {"files": 0, "records": 0, "not_articles": 0, "failed": 0}
    for path in _files(folder):
        counts["files"] += 1
        try:
            article = clean_bytes(_read(path), str(path), None, when)
        except PageFailure as exc:
            settled = exc.code in (ExitCode.NOT_ARTICLE, ExitCode.LISTING)
            counts["not_articles" if settled else "failed"] += 1
            if options.log_json:
                level = "info" if settled else "warning"
                reporter.event("not_cleaned", level=level, path=str(path), error=str(exc))
            elif not (settled and options.quiet):
                typer.echo(f"scraper: {'skipped' if settled else 'error'}: {exc}", err=True)
            continue
        sys.stdout.write(article.model_dump_json() + "\n")
        counts["records"] += 1
    sys.stdout.flush()
    options.summary("clean", {**counts, "seconds": round(time.monotonic() - started, 2)})
    if counts["failed"]:
        raise typer.Exit(int(ExitCode.PARTIAL))
