"""Cleaning functions for the pool tests, importable by name as the workers need them:
the real cleaner, slowed or stuck on pages that ask for it in their path."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from cleaner import Article, Reject
from scraper.fetch.page import FetchedPage
from scraper.jobs.pipeline import clean_page


def slow_clean(page: FetchedPage) -> Article | Reject:
    """The real cleaner, a tenth of a second slower per page."""
    time.sleep(0.1)
    return clean_page(page)


def stuck_on_marked(page: FetchedPage) -> Article | Reject:
    """The real cleaner, except that it never ends on a page whose path says ``/stuck``."""
    if "/stuck" in page.url:
        while True:
            time.sleep(1)
    return clean_page(page)


def dies_on_marked(page: FetchedPage) -> Article | Reject:
    """The real cleaner, except that its process dies on a page whose path says so: it
    exits with status 70 on ``/crash``, and is killed by SIGKILL (as the out-of-memory
    killer does) on ``/killed``."""
    if "/crash" in page.url:
        os._exit(70)
    if "/killed" in page.url:
        os.kill(os.getpid(), signal.SIGKILL)
    return clean_page(page)


def marks_cleaned(page: FetchedPage) -> Article | Reject:
    """`dies_on_marked`, leaving a file named for the page's last path segment in the
    folder ``$CLEANED_MARKS`` once it has cleaned it (what a test can see while its own
    event loop is blocked)."""
    result = dies_on_marked(page)
    (Path(os.environ["CLEANED_MARKS"]) / page.url.rsplit("/", 1)[1]).touch()
    return result
