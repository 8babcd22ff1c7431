"""Pure cleaning: a page in, a validated `Article` out. No network, disk or clock.

Only the errors and the reject reasons are imported with the package; every other name
is imported on first use (PEP 562): the records' models and the site rules (pydantic
schemas, the rule files, selectolax, ~70 ms) and the extractor (lxml, trafilatura's
helpers, the dates and credits machinery, ~0.1 s), which a process that never cleans
(``fetch-many --raw-only``, which only needs `canonicalize_url`, and the reject reasons
its errors carry) does not need. The extractor's module is `cleaner.extraction`, not
``cleaner.extract``: a submodule named like the function would replace it on this
package once imported.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from cleaner.errors import CleanerError, ExtractionError, RulesError
from cleaner.reasons import RejectReason

if TYPE_CHECKING:
    from cleaner.extraction import declared_url, extract
    from cleaner.models import Article, Reject
    from cleaner.rules import SiteRules, builtin_rules, parse_rules
    from cleaner.text import extract_text
    from cleaner.urls import article_id, canonicalize_url

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

_HOMES = {
    "Article": "cleaner.models",
    "Reject": "cleaner.models",
    "SiteRules": "cleaner.rules",
    "builtin_rules": "cleaner.rules",
    "parse_rules": "cleaner.rules",
    "article_id": "cleaner.urls",
    "canonicalize_url": "cleaner.urls",
    "extract": "cleaner.extraction",
    "declared_url": "cleaner.extraction",
    "extract_text": "cleaner.text",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'cleaner' has no attribute {name!r}")
    # Looked up in its module each time, not cached here: a test that replaces the
    # function in its module (monkeypatch) reaches every caller that imports it later.
    return getattr(importlib.import_module(home), name)
