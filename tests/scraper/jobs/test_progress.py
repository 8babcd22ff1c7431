"""The progress reporter's bar mode, which loads rich only when a bar is started."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from scraper.jobs.progress import Reporter


def test_the_bar_shows_progress_and_warnings_above_it() -> None:
    stream = io.StringIO()
    with Reporter("bar", lambda: datetime(2026, 3, 2, tzinfo=UTC), stream) as reporter:
        reporter.start("fetching", total=3)
        reporter.advance()
        reporter.event("failed", level="warning", url="https://example.org/a")
        reporter.event("stored", url="https://example.org/b")  # info: not above the bar

    shown = stream.getvalue()
    assert "[warning] failed https://example.org/a" in shown
    assert "stored" not in shown
    assert "fetching" in shown and "1/3" in shown
