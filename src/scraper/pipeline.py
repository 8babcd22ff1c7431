"""One fetched page to one outcome: an `Article`, or a `Reject` with its reason."""

from __future__ import annotations

from cleaner import Article, ExtractionError, Reject, extract
from scraper.errors import FetchError
from scraper.http import FetchedPage, check_article_response


def clean_page(page: FetchedPage) -> Article | Reject:
    """Judge the response, then clean it; never raises for a bad page."""
    try:
        check_article_response(page)
        return extract(
            page.body, url=page.final_url, fetched_at=page.fetched_at, headers=dict(page.headers)
        )
    except (FetchError, ExtractionError) as exc:
        return Reject(
            url=page.final_url,
            reason=exc.reason,
            detail=exc.detail,
            status=page.status,
            fetched_at=page.fetched_at,
        )


def reject_for_error(error: FetchError) -> Reject:
    """The reject record of a URL that could not be fetched at all."""
    return Reject(url=error.url, reason=error.reason, detail=error.detail, status=error.status)
