"""Date strings to ISO 8601, without inventing a time zone or a time of day."""

from __future__ import annotations

import re
from datetime import date, datetime

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
