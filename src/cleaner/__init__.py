"""Pure cleaning: a page in, a validated `Article` out. No network, disk or clock."""

from cleaner.errors import CleanerError, ExtractionError, RulesError
from cleaner.extract import declared_url, extract
from cleaner.models import Article, Reject
from cleaner.reasons import RejectReason
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
