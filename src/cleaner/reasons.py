"""Why a page did not become an Article: the `Reject` reasons, apart from the records so
that the site rules (and the URL identity they define) can be loaded below the models."""

from __future__ import annotations

import enum


class RejectReason(enum.StrEnum):
    """Why a page did not become an Article."""

    BLOCKED = "blocked"  # 401/403/451 or a bot wall
    ROBOTS_DISALLOWED = "robots_disallowed"
    HTTP_ERROR = "http_error"
    NETWORK_ERROR = "network_error"
    TIMEOUT = "timeout"
    TOO_LARGE = "too_large"
    TOO_MANY_REDIRECTS = "too_many_redirects"
    NOT_HTML = "not_html"
    FORBIDDEN_ADDRESS = "forbidden_address"
    NOT_ARTICLE = "not_article"
    EMPTY_BODY = "empty_body"
    NO_TITLE = "no_title"
    FUTURE_DATE = "future_date"
    INVALID_URL = "invalid_url"
    CLEANER_FAILED = "cleaner_failed"  # the cleaner raised on this page: a bug to report
    # A columnist's or a newspaper's page on an aggregator, told by its URL: a list of
    # columns to discover from, never an article itself.
    LISTING_PAGE = "listing_page"
    # An aggregator's teaser naming no publisher anywhere (no credit, no newspaper in the
    # URL): the aggregator is never the source, and a record without one is no use.
    NO_SOURCE = "no_source"
