"""Per-host politeness: how many requests may be in flight, and how far apart they start.

One `HostSlots` per host (``host:port``), shared by every request to it, whichever source
asked: a site is one server however many sources point at it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from scraper.fetch.addresses import parse_url
from scraper.settings import Politeness

Sleep = Callable[[float], Awaitable[None]]
Monotonic = Callable[[], float]


def host_key(url: str) -> str:
    """The politeness key of ``url``: the host as the client connects to it (lower case,
    IDNA-mapped, so two spellings of one host share its slots) and the port."""
    try:
        parts = parse_url(url)
        port = parts.port or 0
    except ValueError:
        return ""
    return f"{parts.raw_host or ''}:{port}"


class HostSlots:
    """At most ``concurrency`` requests in flight to one host, starts at least ``delay`` apart."""

    def __init__(self, concurrency: int, monotonic: Monotonic, sleep: Sleep) -> None:
        self.concurrency = concurrency
        self._semaphore = asyncio.Semaphore(concurrency)
        self._monotonic = monotonic
        self._sleep = sleep
        self._last_start = float("-inf")
        self._paused_until = float("-inf")

    @asynccontextmanager
    async def slot(self, delay: float) -> AsyncIterator[None]:
        """Hold one of the host's slots, starting ``delay`` after the host's previous start.

        The delay is the caller's, so a Crawl-delay learnt from robots.txt applies from
        the very next request, whatever delay robots.txt itself was fetched with.
        """
        async with self._semaphore:
            now = self._monotonic()
            start = max(now, self._last_start + delay, self._paused_until)
            # Book the start before sleeping, so the next waiter queues behind this one.
            self._last_start = start
            if start > now:
                await self._sleep(start - now)
            yield

    def pause(self, seconds: float) -> None:
        """No new request to this host for ``seconds`` (the server asked, with Retry-After)."""
        self._paused_until = max(self._paused_until, self._monotonic() + seconds)


class HostRegistry:
    """The `HostSlots` of every host seen so far in one fetcher."""

    def __init__(self, monotonic: Monotonic, sleep: Sleep) -> None:
        self._monotonic = monotonic
        self._sleep = sleep
        self._hosts: dict[str, HostSlots] = {}

    def get(self, key: str, politeness: Politeness) -> HostSlots:
        """The slots of host ``key``; its concurrency is fixed by the first politeness seen."""
        slots = self._hosts.get(key)
        if slots is None:
            slots = HostSlots(politeness.per_host_concurrency, self._monotonic, self._sleep)
            self._hosts[key] = slots
        return slots
