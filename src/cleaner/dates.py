"""Date strings to ISO 8601, without inventing a time zone or a time of day."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from functools import cache
from importlib import resources
from itertools import islice

# A time without an offset may be read in any zone from UTC-12 to UTC+14.
_EARLIEST_OFFSET = timedelta(hours=14)
# htmldate builds every date it returns from a string with at least four digits: its
# text parser refuses fewer (try_date_expr counts str.isdigit), every pattern it runs over
# the page's markup needs a four-digit year or day, month and two-digit year, a timestamp
# has nine or more; its URL pattern needs a four-digit year. A digit of the parsed page is
# one of the source or a character reference ("&#50;", "&sup2;"), counted as one.
_DIGIT_LIKE = re.compile(r"\d|&#|&sup", re.IGNORECASE)
# The same count in parts: digits, then references ("&#", "&sup" share no character with
# a digit, so no match of one overlaps one of the other). A page with no digit in its
# first 50 KB made the pattern above try three branches at each of its 50,000 positions
# (~1 ms, a tenth of a clean); bytes.translate counts the digits of an ASCII page 30x faster.
_ASCII_DIGIT = re.compile(r"[0-9]")
_REFERENCE = re.compile(r"&(?:#|sup)", re.IGNORECASE)
_NOT_ASCII_DIGIT = bytes(code for code in range(256) if not 0x30 <= code <= 0x39)
_FOUR_DIGIT_RUN = re.compile(r"\d{4}")
_ISO_PREFIX = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
)


def normalize_date(raw: str | None, formats: list[str] | tuple[str, ...] = ()) -> str | None:
    """ISO 8601 text for ``raw``, or None when it is not a date we can read with certainty.

    Known site formats (strptime) are tried first, then ISO 8601. A date-only input
    stays date-only; an offset is kept only when the input has one.
    """
    if not raw:
        return None
    text = " ".join(raw.split())
    for fmt in formats:
        try:
            parsed = datetime.strptime(text, fmt)
        except ValueError:
            continue
        has_time = any(code in fmt for code in ("%H", "%I", "%M"))
        return parsed.isoformat() if has_time else parsed.date().isoformat()
    match = _ISO_PREFIX.search(text)
    if match is None:
        return None
    value = match.group(0).replace(" ", "T")
    try:
        if len(value) == 10:
            return date.fromisoformat(value).isoformat()
        return datetime.fromisoformat(value).isoformat()
    except ValueError:
        return None


def url_may_hold_date(url: str) -> bool:
    """False when ``url`` has no run of four digits, which htmldate's URL patterns need."""
    return bool(_FOUR_DIGIT_RUN.search(url))


def page_may_hold_date(html: str) -> bool:
    """False when the page has fewer than four digits, the fewest any date htmldate
    reads is built from: htmldate can then find nothing in it, only in its URL.

    Every string htmldate reads (a text, an attribute, the markup) is drawn from the
    parsed page's characters, so it holds no more digits than the source does.
    """
    if html.isascii():  # then re's \d and str.isdigit are [0-9] too
        digits = len(html.encode("ascii").translate(None, _NOT_ASCII_DIGIT))
        return digits >= 4 or digits + len(list(islice(_REFERENCE.finditer(html), 4))) >= 4
    if len(list(islice(_ASCII_DIGIT.finditer(html), 4))) == 4:
        return True  # most pages: four digits early on
    if len(list(islice(_DIGIT_LIKE.finditer(html), 4))) == 4:
        return True
    # re's \d is Unicode's decimal digits; str.isdigit also counts superscripts and the
    # like, which only non-ASCII text can hold.
    return not html.isascii() and sum(map(str.isdigit, html)) >= 4


def is_bare_date(text: str) -> bool:
    """True for a text that is a date and nothing else ("2024-05-03", not "Notes (2024-05-03)")."""
    if normalize_date(text) is None:
        return False
    return not any(char.isalnum() for char in _ISO_PREFIX.sub("", text, count=1))


def parse_iso_date(value: str) -> date | datetime:
    """Parse an ISO 8601 date or datetime; a date-only value stays a `date`."""
    value = value.strip()
    if len(value) == 10:
        return date.fromisoformat(value)
    return datetime.fromisoformat(value)


def is_after(iso: str, limit: datetime | None) -> bool:
    """True when ``iso`` is certainly later than ``limit`` (ambiguous zones read earliest).

    Compared without arithmetic on the page's value: year 1 minus an offset, or year 9999
    moved to UTC, is out of `datetime`'s range, and one such date must not crash a run.
    """
    if limit is None:
        return False
    try:
        value = parse_iso_date(iso)
    except ValueError:
        return False
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value > limit  # aware comparison: no overflow at either end of the range
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    try:
        latest_reading = limit.astimezone(UTC).replace(tzinfo=None) + _EARLIEST_OFFSET
    except OverflowError:  # a limit at the end of time: nothing is after it
        return False
    return value > latest_reading


def pick_date(
    candidates: Iterable[str | None],
    fetched_at: datetime | None = None,
    formats: list[str] | tuple[str, ...] = (),
) -> tuple[str, str] | None:
    """The first candidate that reads as a date not after ``fetched_at``: (raw, ISO 8601)."""
    for raw in candidates:
        iso = normalize_date(raw, formats)
        if raw and iso is not None and not is_after(iso, fetched_at):
            return raw, iso
    return None


@cache
def _text_date_patterns() -> tuple[dict[str, int], tuple[re.Pattern[str], ...]]:
    """Month numbers by lower-case name (from ``months.toml``), and the written-out date
    shapes: month name first or day first, ISO 8601, and day.month.year."""
    text = (resources.files("cleaner") / "months.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    months: dict[str, int] = {}
    for table in (data["full"], data["short"]):
        for names in table.values():
            for number, written in enumerate(names, start=1):
                months.update(dict.fromkeys(written.split("|"), number))
    name = "(?P<month>" + "|".join(map(re.escape, sorted(months, key=len, reverse=True)))
    name += r")\.?"
    day, year = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?", r"(?P<year>\d{4})(?!\d)"
    return months, (
        re.compile(rf"(?<!\w){name}\s+{day},?\s+{year}", re.IGNORECASE),
        re.compile(rf"(?<!\d){day}\.?\s+(?:de\s+)?{name},?\s+(?:de\s+)?{year}", re.IGNORECASE),
        re.compile(r"(?<!\d)(?P<year>\d{4})-(?P<number>\d{2})-(?P<day>\d{2})(?![\d:T])"),
        re.compile(r"(?<![\d.])(?P<day>\d{1,2})\.(?P<number>\d{1,2})\.(?P<year>\d{4})(?!\d)"),
    )


def text_dates(text: str) -> list[tuple[str, str]]:
    """The dates written out in ``text`` ("Dec 4, 2025", "4. Dezember 2025", "2025-12-04",
    "04.12.2025"), as (raw, ISO 8601 date), in text order.

    A date with slashes is left out: "03/04/2025" is March or April by the site's habit.
    """
    months, patterns = _text_date_patterns()
    found: list[tuple[int, str, str]] = []
    for pattern in patterns:
        for match in pattern.finditer(text):
            parts = match.groupdict()
            month = parts.get("number") or months[parts["month"].lower()]
            try:
                iso = date(int(parts["year"]), int(month), int(parts["day"])).isoformat()
            except ValueError:  # "31 February", or a month number over 12
                continue
            found.append((match.start(), match.group(0), iso))
    return [(raw, iso) for _, raw, iso in sorted(found)]
