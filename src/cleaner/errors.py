"""Errors raised by the cleaner.

CleanerError
├── ExtractionError   the page is not an article (carries a RejectReason)
└── RulesError        a site-rule file is invalid
"""

from __future__ import annotations

from cleaner.models import RejectReason


class CleanerError(Exception):
    """Base class of every error the cleaner raises."""


class ExtractionError(CleanerError):
    """The input could not be turned into a valid Article."""

    def __init__(self, reason: RejectReason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail


class RulesError(CleanerError):
    """A site-rule file is malformed."""
