"""Polite, robust fetching of many URLs over one pooled client.

`Fetcher.fetch` = robots.txt check + per-host slot and delay + retries around
`http.fetch_page`; `Fetcher.fetch_all` schedules many requests host by host and yields
one `FetchOutcome` per request as they complete, with bounded memory.

Every response, error statuses and 304s included, is appended to the raw store.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Protocol, Self

from scraper.clock import Clock, utc_now
from scraper.errors import (
    Blocked,
    FetchError,
    FetchTimeout,
    ForbiddenAddress,
    HTTPStatusError,
    NetworkError,
    RobotsDisallowed,
    RobotsUnreachable,
)
from scraper.fetch.http import Client, address_policy, fetch_page, make_client
from scraper.fetch.page import FetchedPage
from scraper.fetch.politeness import HostRegistry, HostSlots, Monotonic, Sleep, host_key
from scraper.fetch.robots import RobotsCache, RobotsRules, robots_url, rules_from
from scraper.settings import Politeness, Settings

_BLOCKING = frozenset({401, 403, 451})


class RawSink(Protocol):
    """Where the Fetcher appends every response (`store.warc` and `store.warc_writer` give one)."""

    def append(self, page: FetchedPage) -> None: ...


@dataclass(frozen=True)
class FetchRequest:
    """One URL to fetch, with what we remember of it."""

    url: str
    source: str | None = None  # source name, for per-source politeness and reporting
    politeness: Politeness | None = None  # per-source override of settings.politeness
    etag: str | None = None  # sent back as If-None-Match
    last_modified: str | None = None  # sent back as If-Modified-Since
    accept: tuple[str, ...] = ()  # content-type prefixes wanted (e.g. HTML_TYPES); () = any
    referrer: str | None = None  # the page that linked here: public may not lead to private


@dataclass(frozen=True)
class FetchOutcome:
    """What became of one request: a usable page, or an error (maybe with the page seen)."""

    request: FetchRequest
    page: FetchedPage | None  # final response: 2xx, 304, or the error status kept for WARC
    error: FetchError | None  # set when no usable page after retries
    attempts: int  # HTTP attempts made (0 when robots.txt or the URL itself refused it)

    @property
    def not_modified(self) -> bool:
        """True for a 304 answer to a conditional GET: the page is unchanged."""
        return self.error is None and self.page is not None and self.page.status == 304

    @property
    def ok(self) -> bool:
        return self.error is None


# ~31 years: a longer Retry-After means only "not soon", and stays a finite float.
_MOST_SECONDS = 1e9


def parse_retry_after(value: str, now: datetime) -> float | None:
    """Seconds to wait from a Retry-After value (delta-seconds or HTTP date), at most
    `_MOST_SECONDS`; None if it means nothing (it never raises: servers send anything)."""
    value = value.strip()
    if value.isascii() and value.isdigit():  # str.isdigit alone admits "²" and "٣"
        return min(float(value), _MOST_SECONDS)
    try:
        when = parsedate_to_datetime(value)
        if when.tzinfo is None:
            return None
        seconds = (when - now).total_seconds()
    except (TypeError, ValueError, IndexError, OverflowError):  # an hour or offset past C int
        return None
    return min(max(0.0, seconds), _MOST_SECONDS)


def _status_error(page: FetchedPage, conditional: bool) -> FetchError | None:
    """The error a final status means, or None for a usable page (2xx, a 304 we asked for)."""
    status = page.status
    if 200 <= status < 300 or (status == 304 and conditional):
        return None
    if status == 304:
        # Nothing to be unchanged from: taken as "unchanged", the URL would never get a
        # record or a reject, run after run.
        return HTTPStatusError(
            page.url, "HTTP 304 Not Modified to a request that was not conditional", status=304
        )
    if status in _BLOCKING:
        return Blocked(page.url, f"HTTP {status}: the site refused access", status=status)
    if status >= 400:
        return HTTPStatusError(page.url, f"HTTP {status}", status=status)
    return HTTPStatusError(page.url, f"unexpected HTTP {status}", status=status)


def _retryable_status(status: int) -> bool:
    return status == 429 or (500 <= status < 600 and status != 501)


class Fetcher:
    """Fetches pages politely and robustly; an async context manager owning one client.

    Args:
        settings: timeouts, limits, default politeness and retry policy.
        raw_store: where every response is appended (WARC), if anywhere.
        clock: wall-clock time, stamped on pages and used for Retry-After dates.
        sleep: how to wait (injected by tests to keep them fast).
        rng: jitter source for the backoff.
        monotonic: the clock of the per-host delays (pair it with ``sleep``).
        max_in_flight: cap on concurrent requests across all hosts in `fetch_all`.
        max_buffered: cap on requests read ahead from the input in `fetch_all`.
        max_ready: cap on outcomes `fetch_all` holds for a caller that is not taking them
            (a slow consumer): past it no new request starts, so bodies do not pile up.
        max_ready_bytes: the same cap in body bytes, for large pages.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        raw_store: RawSink | None = None,
        clock: Clock = utc_now,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        monotonic: Monotonic = time.monotonic,
        max_in_flight: int = 256,
        max_buffered: int = 2000,
        max_ready: int = 16,
        max_ready_bytes: int = 16 * 1024 * 1024,
    ) -> None:
        self.settings = settings
        self.raw_store = raw_store
        self._clock = clock
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._monotonic = monotonic
        self._hosts = HostRegistry(monotonic, sleep)
        self._robots = RobotsCache()
        self._prefetching: dict[str, asyncio.Task[None]] = {}  # by robots.txt URL
        # What a background robots.txt load raised (StorageError, a bug), for the next
        # `fetch` to raise: the caller sees it where it would have without the prefetch.
        self._prefetch_failure: Exception | None = None
        self._client: Client | None = None
        self.max_in_flight = max_in_flight
        self.max_buffered = max(max_buffered, 1)
        self.max_ready = max(max_ready, 1)
        self.max_ready_bytes = max_ready_bytes

    async def __aenter__(self) -> Self:
        self._client = make_client(self.settings)
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            prefetching = list(self._prefetching.values())
            for task in prefetching:
                task.cancel()
            if prefetching:
                await asyncio.gather(*prefetching, return_exceptions=True)
            self._prefetching.clear()  # a task cancelled before it started leaves its key
        finally:
            if self._client is not None:
                await self._client.aclose()
                self._client = None
        if kind is None:
            self._raise_prefetch_failure()  # no fetch came after it: not lost either

    def _politeness(self, request: FetchRequest) -> Politeness:
        return request.politeness or self.settings.politeness

    def prefetch_robots(self, requests: Iterable[FetchRequest]) -> int:
        """Start loading, in the background, the robots.txt of the origins of ``requests``
        that `fetch` would load (same politeness, address refusals, host slots and delay),
        for at most ``max_in_flight`` origins; `fetch` then finds their rules loaded or
        loading. What a load raises, `fetch` raises (or ``async with`` on a clean exit).
        Returns how many loads it started."""
        policy = address_policy(self.settings)
        loop = asyncio.get_running_loop()
        started = 0
        for request in requests:
            if started >= self.max_in_flight:
                break
            politeness = self._politeness(request)
            if not politeness.obey_robots or policy.hop_refusal(request.referrer, request.url):
                continue
            key = robots_url(request.url)  # parses: `hop_refusal` refused what does not
            if key in self._robots or key in self._prefetching:
                continue
            slots = self._hosts.get(host_key(request.url), politeness)
            task = loop.create_task(self._prefetch(key, slots, politeness.delay))
            self._prefetching[key] = task
            started += 1
        return started

    async def _prefetch(self, url: str, slots: HostSlots, delay: float) -> None:
        try:
            await self._robots.rules(url, lambda key: self._load_robots(key, slots, delay))
        except Exception as exc:  # kept before any waiter on this origin resumes
            if self._prefetch_failure is None:
                self._prefetch_failure = exc
        finally:
            del self._prefetching[url]

    def _raise_prefetch_failure(self) -> None:
        failure, self._prefetch_failure = self._prefetch_failure, None
        if failure is not None:
            raise failure

    async def fetch(self, request: FetchRequest) -> FetchOutcome:
        """Fetch one request: robots.txt, the host's slot and delay, retries.

        Raises only for what is not the page's fault (a bug, or `StorageError` from the
        raw store); every fetch failure is in the outcome's ``error``.
        """
        self._raise_prefetch_failure()
        # Before robots.txt, which would already be a request to the refused host.
        refusal = address_policy(self.settings).hop_refusal(request.referrer, request.url)
        if refusal is not None:
            return FetchOutcome(request, None, ForbiddenAddress(request.url, refusal), 0)
        politeness = self._politeness(request)
        slots = self._hosts.get(host_key(request.url), politeness)
        delay = politeness.delay
        if politeness.obey_robots:

            async def load(url: str) -> RobotsRules:
                # A waiter on a failed background load loads again: it raises that failure.
                self._raise_prefetch_failure()
                return await self._load_robots(url, slots, politeness.delay)

            rules = await self._robots.rules(request.url, load)
            why = rules.refusal_for(request.url, self.settings.user_agent)
            if why is not None:
                kind = RobotsUnreachable if rules.unreachable else RobotsDisallowed
                return FetchOutcome(request, None, kind(request.url, why), 0)
            asked = rules.crawl_delay(self.settings.user_agent)
            if asked is not None:
                delay = max(delay, min(asked, politeness.max_crawl_delay))
        headers: dict[str, str] = {}
        if request.etag:
            headers["If-None-Match"] = request.etag
        if request.last_modified:
            headers["If-Modified-Since"] = request.last_modified
        return await self._with_retries(request, slots, delay, headers)

    async def _load_robots(self, url: str, slots: HostSlots, delay: float) -> RobotsRules:
        outcome = await self._with_retries(FetchRequest(url), slots, delay, {})
        return rules_from(outcome.page, outcome.error)

    async def _with_retries(
        self, request: FetchRequest, slots: HostSlots, delay: float, headers: dict[str, str]
    ) -> FetchOutcome:
        if self._client is None:
            raise RuntimeError("use the Fetcher as `async with Fetcher(...) as fetcher:`")
        policy = self.settings.retry
        # `timeouts.total` is the page's whole budget: its attempts, their redirects and
        # the waits between them, from the moment its first attempt gets its slot.
        budget = self.settings.timeouts.total
        started: float | None = None
        attempt = 0
        while True:
            attempt += 1
            page: FetchedPage | None = None
            error: FetchError | None
            async with slots.slot(delay):
                if started is None:
                    started = self._monotonic()
                left = budget - (self._monotonic() - started)
                try:
                    if left <= 0:
                        raise FetchTimeout(
                            request.url, f"the page's budget of {budget:g} s is spent"
                        )
                    page = await fetch_page(
                        self._client,
                        request.url,
                        self.settings,
                        headers=headers,
                        clock=self._clock,
                        accept=request.accept,
                        referrer=request.referrer,
                        timeout=left,
                    )
                except FetchTimeout as exc:
                    error = exc
                    if self._monotonic() - started >= budget:
                        error = FetchTimeout(
                            request.url,
                            f"no complete response within the page's budget of {budget:g} s",
                        )
                except FetchError as exc:
                    error = exc
            if page is not None:
                if not request.accept:
                    # Article fetches ask for HTML; robots.txt, feeds, sitemaps and listings
                    # take any type. The raw store marks them so reclean does not clean them.
                    page = replace(page, purpose="discovery")
                if self.raw_store is not None:
                    self.raw_store.append(page)
                error = _status_error(page, bool(request.etag or request.last_modified))
                if error is None:
                    return FetchOutcome(request, page, None, attempt)
                retryable = _retryable_status(page.status)
            else:
                retryable = isinstance(error, NetworkError | FetchTimeout)
            if not retryable or attempt >= policy.attempts:
                return FetchOutcome(request, page, error, attempt)
            wait = self._backoff(attempt)
            asked = page.header("retry-after") if page is not None else None
            seconds = parse_retry_after(asked, self._clock()) if asked else None
            left = budget - (self._monotonic() - started)
            if page is not None and seconds is not None:
                why = None
                if seconds > policy.retry_after_max:
                    why = f"over the cap of {policy.retry_after_max:g} s"
                elif seconds >= left:
                    why = f"past what is left of the page's budget of {budget:g} s"
                if why is not None:
                    given_up = HTTPStatusError(
                        request.url,
                        f"HTTP {page.status} with Retry-After {seconds:g} s, {why}: given up",
                        status=page.status,
                    )
                    return FetchOutcome(request, page, given_up, attempt)
                wait = seconds
                slots.pause(seconds)  # the whole host asked for a break, not just this URL
            elif wait >= left:
                return FetchOutcome(request, page, error, attempt)  # no time for another try
            await self._sleep(wait)

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with equal jitter: half fixed, half random, capped."""
        policy = self.settings.retry
        ceiling = min(policy.backoff_max, policy.backoff_base * 2.0 ** (attempt - 1))
        return ceiling / 2 + self._rng.uniform(0, ceiling / 2)

    async def fetch_all(
        self, requests: Iterable[FetchRequest] | AsyncIterable[FetchRequest]
    ) -> AsyncIterator[FetchOutcome]:
        """Fetch every request, yielding outcomes as they complete (not in input order).

        Reads at most ``max_buffered`` requests ahead and runs at most ``max_in_flight``
        at once, never more per host than its concurrency, so a host waiting on its
        delay does not hold up the others. Every request yields exactly one outcome.
        """
        # Each host is served by up to its concurrency of worker tasks, each taking the
        # host's requests one after the other: the next request goes out as soon as the
        # previous one is done, not after a round trip through this loop (at hundreds of
        # pages/s those event-loop hops cost more throughput than the requests' CPU).
        # A worker gives its place up after each request while other hosts wait for one.
        source = _aiter(requests)
        pending: dict[str, deque[FetchRequest]] = {}
        workers: dict[str, int] = {}
        running = 0  # workers started and not finished (the done callbacks come later)
        waiting: deque[str] = deque()  # hosts with work, held back by max_in_flight
        finished: deque[FetchOutcome] = deque()
        tasks: set[asyncio.Task[None]] = set()
        failures: list[BaseException] = []
        wake: asyncio.Future[None] | None = None
        room = asyncio.Event()  # set when the caller took an outcome and left room
        ready_bytes = 0  # body bytes in ``finished``
        buffered = 0
        exhausted = False

        def full() -> bool:
            return bool(finished) and (
                len(finished) >= self.max_ready or ready_bytes >= self.max_ready_bytes
            )

        def signal() -> None:
            if wake is not None and not wake.done():
                wake.set_result(None)

        async def work(host: str) -> None:
            nonlocal running, ready_bytes
            try:
                while True:
                    while full():
                        room.clear()
                        await room.wait()
                    if (queue := pending.get(host)) is None:
                        break
                    request = queue.popleft()
                    if not queue:
                        del pending[host]
                    outcome = await self.fetch(request)
                    ready_bytes += len(outcome.page.body) if outcome.page is not None else 0
                    finished.append(outcome)
                    signal()
                    if waiting and host in pending:
                        waiting.append(host)  # its turn comes again after the others'
                        break
            except BaseException as exc:  # a bug or StorageError: the caller must see it
                failures.append(exc)
            finally:
                running -= 1
                workers[host] -= 1
                signal()

        def staff(host: str) -> None:
            """Start the workers ``host`` may have now; queue it if the cap holds it back."""
            nonlocal running
            queue = pending.get(host)
            if not queue:
                return
            limit = self._hosts.get(host, self._politeness(queue[0])).concurrency
            for _ in range(min(limit - workers.get(host, 0), len(queue))):
                if running >= self.max_in_flight:
                    waiting.append(host)
                    return
                running += 1
                workers[host] = workers.get(host, 0) + 1
                task = asyncio.get_running_loop().create_task(work(host))
                tasks.add(task)
                task.add_done_callback(tasks.discard)

        try:
            while True:
                while not exhausted and buffered < self.max_buffered:
                    try:
                        request = await anext(source)
                    except StopAsyncIteration:
                        exhausted = True
                        break
                    host = host_key(request.url)
                    pending.setdefault(host, deque()).append(request)
                    buffered += 1
                    staff(host)
                    if buffered % 64 == 0 and running:
                        # Let the workers started so far send their requests now, not
                        # after the whole read-ahead (2,000 requests take ~30 ms to queue).
                        await asyncio.sleep(0)
                while waiting and running < self.max_in_flight:
                    staff(waiting.popleft())
                if failures:
                    raise failures[0]
                if finished:
                    buffered -= 1
                    outcome = finished.popleft()
                    ready_bytes -= len(outcome.page.body) if outcome.page is not None else 0
                    if not full():
                        room.set()
                    yield outcome
                    continue
                if exhausted and not running and not pending:
                    return
                wake = asyncio.get_running_loop().create_future()
                await wake
                wake = None
        finally:
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)


async def _aiter(
    requests: Iterable[FetchRequest] | AsyncIterable[FetchRequest],
) -> AsyncIterator[FetchRequest]:
    if isinstance(requests, AsyncIterable):
        async for request in requests:
            yield request
    else:
        for request in requests:
            yield request


__all__ = ["FetchOutcome", "FetchRequest", "Fetcher", "parse_retry_after"]
