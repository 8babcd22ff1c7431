"""Errors raised by the cleaner.

CleanerError
├── ExtractionError   the page is not an article (carries a RejectReason)
└── RulesError        a site-rule file is invalid
"""

from __future__ import annotations

from pydantic import ValidationError

from cleaner.reasons import RejectReason


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


# What a reject says when a field the record needs came out empty, instead of pydantic's
# "String should have at least 1 character", which names neither the field nor the page.
_EMPTY = {"title": "no title found on the page", "body": "no article text found on the page"}


def rejection(error: ValidationError) -> ExtractionError:
    """The `ExtractionError` for an Article that failed validation, with its reason."""
    item = error.errors()[0]
    field = item["loc"][0] if item["loc"] else None
    detail = str(item["msg"])
    if item["type"] in ("missing", "string_too_short") and str(field) in _EMPTY:
        detail = _EMPTY[str(field)]
    reason = {
        "future_date": RejectReason.FUTURE_DATE,
        "short_body": RejectReason.NOT_ARTICLE,
    }.get(item["type"])
    if reason is None:
        reason = {
            "title": RejectReason.NO_TITLE,
            "body": RejectReason.EMPTY_BODY,
            "url": RejectReason.INVALID_URL,
        }.get(str(field), RejectReason.NOT_ARTICLE)
    return ExtractionError(reason, detail)
