"""Time a hostile server can take from a run: a Retry-After that overflows, and the page's
total budget, which covers its retries and the waits between them, not each attempt."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from scraper.errors import FetchTimeout, HTTPStatusError
from scraper.fetch.fetcher import Fetcher, FetchRequest, parse_retry_after
from scraper.settings import Politeness, RetryPolicy, Settings, Timeouts
from tests.faults.rawserver import RawServer, Route, drip, html, reply
from tests.scraper.fetch.test_fetcher import FakeTime, fake_fetcher

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PAGE = "<html><head><title>Ferry timetable</title></head><body><p>Boats at nine.</p></body></html>"


@pytest.mark.parametrize(
    "value",
    [
        "Sun, 01 Mar 2026 99999999999999999999:00:00 GMT",  # an hour past any C integer
        "Sun, 01 Mar 2026 12:00:00 +99999999999999999999",  # a zone offset likewise
        "Sun, 01 Mar 2026 25:61:00 GMT",
        "Sun, 01 Mar 99999 12:00:00 GMT",
        "\u00b2",  # a superscript two: str.isdigit() says yes, float() says no
        "\u0663",  # an Arabic-Indic three
        "-5",
        "",
        "soon",
    ],
)
def test_a_retry_after_that_means_nothing_is_ignored(value: str) -> None:
    assert parse_retry_after(value, NOW) is None


def test_an_enormous_retry_after_is_bounded() -> None:
    seconds = parse_retry_after("9" * 400, NOW)
    assert seconds is not None and 0 < seconds <= 10**9
    far = parse_retry_after("Fri, 31 Dec 9999 23:59:59 GMT", NOW)
    assert far is not None and far <= 10**9


@pytest.mark.parametrize(
    "retry_after", ["Sun, 01 Mar 2026 99999999999999999999:00:00 GMT", "\u00b2"]
)
def test_an_overflowing_retry_after_only_costs_a_backoff(retry_after: str) -> None:
    """One bad header must not abort the fetch (it aborted the whole run before)."""
    fake = FakeTime()
    settings = Settings(
        politeness=Politeness(delay=0, obey_robots=False),
        retry=RetryPolicy(attempts=2, backoff_base=0.5, backoff_max=1),
    )

    async def main() -> Any:
        routes = {"/": reply(503, b"busy", [("Retry-After", retry_after)])}
        async with RawServer(routes) as server, fake_fetcher(settings, fake) as fetcher:
            return await fetcher.fetch(FetchRequest(server.url("/"))), server

    outcome, server = asyncio.run(main())
    assert isinstance(outcome.error, HTTPStatusError) and outcome.error.status == 503
    assert outcome.attempts == 2 and server.hits["/"] == 2
    assert [wait for wait in fake.waits if wait > 0] and max(fake.waits) <= 1


def test_the_total_budget_covers_every_attempt_of_a_page() -> None:
    """A drip that never trips the read timeout: the page gets `total` seconds, once."""
    settings = Settings(
        timeouts=Timeouts(connect=2, read=1, total=1.2),
        politeness=Politeness(delay=0, obey_robots=False),
        retry=RetryPolicy(attempts=4, backoff_base=0.01, backoff_max=0.02),
    )

    async def main() -> Any:
        routes: dict[str, Route] = {"/": drip(0.2)}
        async with RawServer(routes) as server, Fetcher(settings) as fetcher:
            started = time.monotonic()
            outcome = await fetcher.fetch(FetchRequest(server.url("/")))
            return outcome, time.monotonic() - started

    outcome, seconds = asyncio.run(main())
    assert isinstance(outcome.error, FetchTimeout), outcome.error
    assert seconds < 2.0, f"{seconds:.1f} s for a budget of 1.2 s"
    assert "1.2 s" in outcome.error.detail


def test_a_retry_after_past_the_budget_gives_up_at_once() -> None:
    fake = FakeTime()
    settings = Settings(
        timeouts=Timeouts(total=30),
        politeness=Politeness(delay=0, obey_robots=False),
        retry=RetryPolicy(attempts=3, retry_after_max=300),
    )

    async def main() -> Any:
        routes = {"/": reply(503, b"busy", [("Retry-After", "120")])}
        async with RawServer(routes) as server, fake_fetcher(settings, fake) as fetcher:
            return await fetcher.fetch(FetchRequest(server.url("/"))), server

    outcome, server = asyncio.run(main())
    assert isinstance(outcome.error, HTTPStatusError) and "budget" in outcome.error.detail
    assert outcome.attempts == 1 and server.hits["/"] == 1 and fake.waits == []


def test_retries_within_the_budget_still_happen() -> None:
    fake = FakeTime()
    settings = Settings(
        politeness=Politeness(delay=0, obey_robots=False),
        retry=RetryPolicy(attempts=3, backoff_base=0.01),
    )
    calls = 0

    async def flaky(writer: Any) -> None:
        nonlocal calls
        calls += 1
        await (reply(503, b"busy") if calls < 3 else html(PAGE))(writer)

    async def main() -> Any:
        async with RawServer({"/": flaky}) as server, fake_fetcher(settings, fake) as fetcher:
            return await fetcher.fetch(FetchRequest(server.url("/")))

    outcome = asyncio.run(main())
    assert outcome.ok and outcome.attempts == 3
