"""`scraper clean FILE`: clean a saved page (HTML or plain text) and print the record."""

from __future__ import annotations

import re
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from cleaner import ExtractionError, declared_url, extract, extract_text
from cleaner.decode import decode_html
from cleaner.sniff import refuse_binary
from scraper.commands.app import app, fail
from scraper.commands.exitcodes import ExitCode, exit_code_for
from scraper.store.records import to_json

# Markup near the start means HTML; anything else is treated as a text dump.
_HTML_START = re.compile(rb"<(?:!doctype|html|head|body|meta|div|p|article)\b", re.IGNORECASE)
_SNIFF_BYTES = 4096


def looks_like_html(raw: bytes) -> bool:
    """True when the file's first bytes hold HTML markup."""
    return _HTML_START.search(raw[:_SNIFF_BYTES]) is not None


def _aware(value: str) -> datetime:
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        fail(ExitCode.USAGE, f"--fetched-at: not an ISO 8601 date and time: {value!r}")
    if when.tzinfo is None:
        fail(ExitCode.USAGE, f"--fetched-at: give a zone (+00:00 or Z): {value!r}")
    return when


@app.command()
def clean(
    file: Annotated[Path, typer.Argument(help="A saved page: HTML, or the page as plain text.")],
    url: Annotated[
        str | None,
        typer.Option(
            "--url",
            help="The page's address (the record's id derives from it). Optional for HTML "
            "that declares a canonical URL; required for text dumps.",
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
) -> None:
    """Clean one saved page and print the record as JSON.

    Exit codes: 0 ok, 2 unreadable file or no usable URL, 7 not a page (a PDF, an archive,
    an image), 9 not an article, 13 a listing page (an aggregator's columnist or newspaper
    page).
    """
    when = _aware(fetched_at) if fetched_at is not None else None
    try:
        raw = file.read_bytes()
    except OSError as exc:
        fail(ExitCode.USAGE, f"cannot read {file}: {exc.strerror or exc}")
    try:
        # Before asking for a URL the file could never use.
        refuse_binary(raw)
        refuse_binary(decode_html(raw))
        if looks_like_html(raw):
            page_url = url or declared_url(raw)
            if page_url is None:
                fail(ExitCode.USAGE, f"{file}: the page declares no URL; pass --url")
            article = extract(raw, url=page_url, fetched_at=when)
        else:
            if url is None:
                fail(ExitCode.USAGE, f"{file}: a text dump carries no URL; pass --url")
            article = extract_text(decode_html(raw), url=url, fetched_at=when)
    except ExtractionError as exc:
        fail(exit_code_for(exc.reason), f"{file}: not an article ({exc})")
    sys.stdout.write(to_json(article))
