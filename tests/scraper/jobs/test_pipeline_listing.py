"""A listing page that reaches the cleaning stage of a run becomes a reject, never a record."""

from __future__ import annotations

from cleaner import Reject, RejectReason
from scraper.jobs.pipeline import clean_page
from tests.conftest import fixture_bytes
from tests.scraper.warc_pages import page


def test_columnist_and_newspaper_pages_are_listing_rejects() -> None:
    body = fixture_bytes("discovery/qoshe/columnist-cards.html")

    for url in (
        "https://qoshe.com/yazar/lena-marsh/5521",
        "https://dfnihf8fcqrzv.cloudfront.net/gazete/the-harbour-post",
    ):
        outcome = clean_page(page(url, body))

        assert isinstance(outcome, Reject)
        assert outcome.reason is RejectReason.LISTING_PAGE


def test_an_article_address_is_cleaned_as_an_article() -> None:
    body = fixture_bytes("qoshe/chrome.html")
    url = "https://qoshe.com/the-islands-gazette/jo-parker/ferry-timetables/188045678"

    outcome = clean_page(page(url, body))

    assert not isinstance(outcome, Reject)
    assert outcome.source == "The Islands Gazette"
