"""robots.txt, fetched once per origin and read with protego, as RFC 9309 says.

- 2xx: the rules apply (only the first 500 KiB are read, as the RFC allows);
- other 4xx: no rules ("unavailable"), everything is allowed;
- 429, 5xx, network errors, timeouts: "unreachable", so the whole origin is disallowed
  for this run: the site is struggling or refusing, and guessing would be impolite.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from protego import Protego

from scraper.errors import FetchError
from scraper.fetch.addresses import parse_url
from scraper.fetch.page import FetchedPage

_MAX_ROBOTS_BYTES = 500 * 1024


@dataclass(frozen=True)
class RobotsRules:
    """What one origin's robots.txt allows; ``refusal`` set means nothing is allowed."""

    parser: Protego | None = None
    refusal: str | None = None

    def refusal_for(self, url: str, user_agent: str) -> str | None:
        """Why ``url`` may not be fetched, or None when it may."""
        if self.refusal is not None:
            return self.refusal
        if self.parser is not None and not self.parser.can_fetch(url, user_agent):
            return "disallowed by robots.txt"
        return None

    @property
    def unreachable(self) -> bool:
        """True when robots.txt could not be read (only then is ``refusal`` set)."""
        return self.refusal is not None

    def crawl_delay(self, user_agent: str) -> float | None:
        """The Crawl-delay the site asks of us, uncapped (the caller caps it)."""
        return None if self.parser is None else self.parser.crawl_delay(user_agent)


def robots_url(url: str) -> str:
    """``scheme://host[:port]/robots.txt`` for the origin of ``url``."""
    return str(parse_url(url).origin() / "robots.txt")  # the host as the client will send it


def rules_from(page: FetchedPage | None, error: FetchError | None) -> RobotsRules:
    """The rules implied by the final robots.txt response, or by the failure to get one."""
    if page is None:
        detail = error.detail if error is not None else "no response"
        return RobotsRules(refusal=f"robots.txt unreachable ({detail}); host skipped")
    if 200 <= page.status < 300:
        text = page.body[:_MAX_ROBOTS_BYTES].decode("utf-8", errors="replace")
        return RobotsRules(parser=Protego.parse(text))
    if page.status == 429 or page.status >= 500:
        return RobotsRules(refusal=f"robots.txt unreachable (HTTP {page.status}); host skipped")
    return RobotsRules()


class RobotsCache:
    """One robots.txt fetch per origin, shared by all requests that wait for it."""

    def __init__(self) -> None:
        self._rules: dict[str, asyncio.Future[RobotsRules]] = {}

    def __contains__(self, robots: str) -> bool:
        """True when the rules at URL ``robots`` (a `robots_url`) are loaded or loading."""
        return robots in self._rules

    async def rules(self, url: str, load: Callable[[str], Awaitable[RobotsRules]]) -> RobotsRules:
        """The rules for the origin of ``url``, calling ``load(robots_url)`` the first time."""
        key = robots_url(url)
        while True:
            future = self._rules.get(key)
            if future is None:
                future = asyncio.get_running_loop().create_future()
                self._rules[key] = future
                try:
                    rules = await load(key)
                except BaseException:
                    del self._rules[key]
                    future.cancel()  # waiters see it and one of them loads again
                    raise
                future.set_result(rules)
                return rules
            try:
                return await asyncio.shield(future)
            except asyncio.CancelledError:
                task = asyncio.current_task()
                if future.cancelled() and task is not None and not task.cancelling():
                    continue
                raise
