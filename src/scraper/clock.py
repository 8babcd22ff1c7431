"""The clock every stage takes as an argument, so tests can hold time still."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The default clock."""
    # Whole seconds: the raw store's WARC-Date has no fraction, and re-cleaning from it
    # must give the same record as the fetch did.
    return datetime.now(UTC).replace(microsecond=0)
