"""A page that runs every stage of `extract`, to load its libraries before real pages."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

from cleaner.errors import ExtractionError
from cleaner.extraction import extract

# A short body and the date only in the text: the body and date fallbacks both run
# (htmldate reads only a page with digits), and no declared language: the language
# model loads too.
WARM_UP_PAGE = (
    b"<html><head><title>Warm-up</title></head><body><article><h1>Warm-up</h1>"
    b"<p>A short paragraph of text, long enough to be read as one, for the warm-up.</p>"
    b"<p>Filed on 3 March 2021.</p>"
    b"</article></body></html>"
)
WARM_UP_URL = "https://warm-up.invalid/page"
_FETCHED_AT = datetime(2021, 3, 4, tzinfo=UTC)


def warm_up() -> None:
    """Clean `WARM_UP_PAGE` once: trafilatura, htmldate and the language model are then
    imported and set up, a cost no real page's deadline or timing should carry."""
    with contextlib.suppress(ExtractionError):
        extract(WARM_UP_PAGE, url=WARM_UP_URL, fetched_at=_FETCHED_AT)
