"""One fetched page to one outcome: an `Article`, or a `Reject` with its reason."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import cleaner
from cleaner import ExtractionError, RejectReason
from scraper.errors import FetchError
from scraper.fetch.page import FetchedPage, check_article_response

if TYPE_CHECKING:
    from scraper.fetch.fetcher import FetchOutcome

if TYPE_CHECKING:
    from cleaner import Article, Reject


def clean_page(page: FetchedPage) -> Article | Reject:
    """Judge the response, then clean it; never raises for a bad page.

    Any other exception the cleaner raises is a bug, but a bug met on one page: it becomes
    that page's reject (``cleaner_failed``, the exception in its detail), so one page
    cannot abort a run, a re-clean or a worker's whole shard, run after run.
    """
    try:
        return _clean_page(page)
    except Exception as exc:  # recorded as the page's reject, not swallowed
        return cleaner.Reject(
            url=page.url,
            reason=RejectReason.CLEANER_FAILED,
            detail=f"{type(exc).__name__}: {exc}"[:500],
            fetched_at=page.fetched_at,
        )


def _clean_page(page: FetchedPage) -> Article | Reject:
    # Imported on the first page to clean: a run that only fetches (--raw-only) imports
    # this module too, and the extractor's libraries would cost it ~0.1 s of start-up.
    from cleaner import extract

    try:
        check_article_response(page)
        return extract(
            page.body, url=page.final_url, fetched_at=page.fetched_at, headers=dict(page.headers)
        )
    except (FetchError, ExtractionError) as exc:
        # Keyed by the URL asked for (as the state and a fetch failure are), and with a
        # status only when the status is the reason: `run`, `fetch-many` and `reclean`
        # all write this same record for the same page.
        return cleaner.Reject(
            url=page.url,
            reason=exc.reason,
            detail=exc.detail,
            status=exc.status if isinstance(exc, FetchError) else None,
            fetched_at=page.fetched_at,
        )


def settle_teaser(teaser: Article, original: Article | Reject | None) -> Article | None:
    """The record of a teaser whose original was fetched too: the original, credited to
    the aggregator it was found on; None unless the original is a whole article."""
    if not isinstance(original, cleaner.Article) or original.truncated:
        return None
    return original.model_copy(update={"aggregator": teaser.aggregator})


def reject_for_error(error: FetchError) -> Reject:
    """The reject record of a URL that could not be fetched at all."""
    return cleaner.Reject(
        url=error.url, reason=error.reason, detail=error.detail, status=error.status
    )


# A page in one of these states stays so however often it is fetched again, and nothing
# is wrong with the run or the config: the page is gone, or is not an article. Any other
# failure (a source that cannot be read, a network error or 5xx that outlived the
# retries, a block, a cap) may be ours or temporary, and is worth a look.
_SETTLED_REASONS = frozenset(
    {
        RejectReason.ROBOTS_DISALLOWED,
        RejectReason.NOT_HTML,
        RejectReason.NOT_ARTICLE,
        RejectReason.LISTING_PAGE,
        RejectReason.EMPTY_BODY,
        RejectReason.NO_TITLE,
        RejectReason.FUTURE_DATE,
        RejectReason.INVALID_URL,
    }
)
GONE_STATUSES = frozenset({404, 410})


def worth_a_look(reason: RejectReason, status: int | None) -> bool:
    """Whether a page that ended as ``reason`` should make a scheduled run exit 11."""
    if reason is RejectReason.HTTP_ERROR and status in GONE_STATUSES:
        return False
    return reason not in _SETTLED_REASONS


def content_hash(body: bytes) -> str:
    """The hash that tells an unchanged response from a changed one."""
    return hashlib.sha256(body).hexdigest()


def judge(outcome: FetchOutcome, held_hash: str | None) -> Article | Reject | None:
    """Clean an outcome's page; None when there is nothing new to clean.

    Nothing new: a fetch error (the caller classifies it), a 304, or a 200 whose bytes
    hash to ``held_hash``, the hash of the response behind the record we still hold.
    """
    page = outcome.page
    if outcome.error is not None or page is None or outcome.not_modified:
        return None
    if page.status == 200 and held_hash is not None and content_hash(page.body) == held_hash:
        return None
    return clean_page(page)
