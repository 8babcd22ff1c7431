"""Pure cleaning: a page in, a validated `Article` out. No network, disk or clock.

`extract`, `declared_url` and `extract_text` are imported on first use: the extractor
brings lxml, trafilatura's helpers, the dates and credits machinery (~0.1 s), which a
process that never cleans (``fetch-many --raw-only``, the state and record readers) does
not need. Their module is `cleaner.extraction`, not ``cleaner.extract``: a submodule named
like the function would replace it on this package once imported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cleaner.errors import CleanerError, ExtractionError, RulesError
from cleaner.models import Article, Reject
from cleaner.reasons import RejectReason
from cleaner.rules import SiteRules, builtin_rules, parse_rules
from cleaner.urls import article_id, canonicalize_url

if TYPE_CHECKING:
    from cleaner.extraction import declared_url, extract
    from cleaner.text import extract_text

__all__ = [
    "Article",
    "CleanerError",
    "ExtractionError",
    "Reject",
    "RejectReason",
    "RulesError",
    "SiteRules",
    "article_id",
    "builtin_rules",
    "canonicalize_url",
    "declared_url",
    "extract",
    "extract_text",
    "parse_rules",
]


def __getattr__(name: str) -> Any:
    if name in ("extract", "declared_url"):
        from cleaner import extraction

        return getattr(extraction, name)
    if name == "extract_text":
        from cleaner.text import extract_text

        return extract_text
    raise AttributeError(f"module 'cleaner' has no attribute {name!r}")
