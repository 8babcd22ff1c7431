"""Pure cleaning: a page in, a validated `Article` out. No network, disk or clock."""

from cleaner.errors import CleanerError, ExtractionError, RulesError
from cleaner.extract import extract
from cleaner.models import Article, Reject, RejectReason
from cleaner.rules import SiteRules, builtin_rules, parse_rules
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
    "extract",
    "parse_rules",
]
