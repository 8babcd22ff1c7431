"""Relative date words ("yesterday", "previous day", "thursday") read against the fetch time.

A site that prints a word instead of a date counts its days in some time zone; the
rule says which zones are possible. The word resolves only when every one of them puts
the fetch time on the same day: otherwise the record keeps ``date_raw`` and no date, as
a guess must never be presented as a fact.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from cleaner.dates import normalize_date
from cleaner.rules import RelativeDates

_MAX_DATE_CHARS = 40


def _word(raw: str) -> str:
    return " ".join(raw.casefold().split())


def is_relative_date(raw: str, rules: RelativeDates) -> bool:
    """True when ``raw`` is one of the site's relative date words."""
    word = _word(raw)
    return word in rules.days_ago or word in rules.weekdays


def _fetch_day(fetched_at: datetime, rules: RelativeDates) -> date | None:
    """The site's calendar day at ``fetched_at``, or None when its zones disagree."""
    days = {
        fetched_at.astimezone(timezone(timedelta(hours=hours))).date()
        for hours in rules.utc_offsets  # the day only grows with the offset: the ends suffice
    }
    return days.pop() if len(days) == 1 else None


def resolve_relative_date(
    raw: str, fetched_at: datetime | None, rules: RelativeDates
) -> str | None:
    """The ISO 8601 date ``raw`` stands for, or None (not a relative word, no aware fetch
    time, or a fetch time on which the site's possible zones disagree about the day)."""
    if fetched_at is None or fetched_at.tzinfo is None:
        return None
    word = _word(raw)
    day = _fetch_day(fetched_at, rules)
    if day is None:
        return None
    if word in rules.days_ago:
        return (day - timedelta(days=rules.days_ago[word])).isoformat()
    if word in rules.weekdays:
        back = (day.weekday() - rules.weekdays.index(word)) % 7 or 7
        if back <= max(rules.days_ago.values(), default=-1):
            # The site has its own word for that day ("yesterday"): a weekday name for it
            # means the copy was rendered on another day than fetched (a cache), so unknown.
            return None
        return (day - timedelta(days=back)).isoformat()
    return None


def read_date_line(
    line: str, formats: tuple[str, ...], rules: RelativeDates, fetched_at: datetime | None
) -> tuple[str, str | None] | None:
    """(raw, ISO date or None) when ``line`` is a date line, absolute or relative.

    A relative word the fetch time cannot settle gives (raw, None): the line is still
    the date line. A future date stays, for validation to reject with that reason.
    """
    if len(line) > _MAX_DATE_CHARS:
        return None
    if is_relative_date(line, rules):
        return line, resolve_relative_date(line, fetched_at, rules)
    iso = normalize_date(line, formats)
    return (line, iso) if iso is not None else None
