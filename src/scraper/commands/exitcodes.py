"""The CLI's exit codes, one per class of failure, documented in the README."""

from __future__ import annotations

import enum

from cleaner import RejectReason


class ExitCode(enum.IntEnum):
    OK = 0
    INTERNAL = 1  # a bug: please report it
    USAGE = 2  # bad arguments or options (typer's own code)
    NETWORK = 3  # DNS, refused/reset connection, TLS, redirect loop, forbidden address
    TIMEOUT = 4
    HTTP_STATUS = 5  # 4xx/5xx other than the blocking ones
    BLOCKED = 6  # 401/403/451: the site refused us
    NOT_HTML = 7
    TOO_LARGE = 8
    NOT_ARTICLE = 9  # fetched, but nothing article-like on the page
    OUTPUT = 10  # the record or raw page could not be written
    PARTIAL = 11  # `run`: some sources or pages failed, the rest was saved
    CANNOT_START = 12  # `run`: bad config, or another run holds the lock
    LISTING = 13  # an aggregator's columnist or newspaper page: a list to discover from
    INTERRUPTED = 130  # Ctrl-C or SIGTERM: what was cleaned is saved (128 + SIGINT)


_BY_REASON = {
    RejectReason.NETWORK_ERROR: ExitCode.NETWORK,
    RejectReason.TOO_MANY_REDIRECTS: ExitCode.NETWORK,
    RejectReason.FORBIDDEN_ADDRESS: ExitCode.NETWORK,
    RejectReason.INVALID_URL: ExitCode.USAGE,
    RejectReason.TIMEOUT: ExitCode.TIMEOUT,
    RejectReason.HTTP_ERROR: ExitCode.HTTP_STATUS,
    RejectReason.BLOCKED: ExitCode.BLOCKED,
    RejectReason.ROBOTS_DISALLOWED: ExitCode.BLOCKED,
    RejectReason.NOT_HTML: ExitCode.NOT_HTML,
    RejectReason.TOO_LARGE: ExitCode.TOO_LARGE,
    RejectReason.LISTING_PAGE: ExitCode.LISTING,
    RejectReason.CLEANER_FAILED: ExitCode.INTERNAL,
}


def exit_code_for(reason: RejectReason) -> ExitCode:
    """The exit code for a page rejected for ``reason``."""
    return _BY_REASON.get(reason, ExitCode.NOT_ARTICLE)
