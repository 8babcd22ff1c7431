"""QOSHE as the field guide describes it: relative dates, listing pages refused, the
numeric id as the record key, the mirror host; and credits on any aggregator's rules."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cleaner import (
    ExtractionError,
    RejectReason,
    article_id,
    builtin_rules,
    extract,
    extract_text,
    parse_rules,
)
from cleaner.credits import split_credit
from cleaner.pages import page_info

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "qoshe"
ARTICLE = "https://qoshe.com/the-harbour-post/lena-marsh/harbour-dredging/188012345"
MIRROR = "dfnihf8fcqrzv.cloudfront.net"


def _qoshe() -> object:
    (rule,) = [rule for rule in builtin_rules() if rule.name == "qoshe"]
    return rule


def _dump(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


# -- relative dates -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "fetched_at", "expected"),
    [
        ("yesterday", datetime(2025, 11, 20, 12, 0, tzinfo=UTC), "2025-11-19"),
        ("previous day", datetime(2025, 11, 20, 12, 0, tzinfo=UTC), "2025-11-18"),
        ("latest", datetime(2025, 11, 20, 12, 0, tzinfo=UTC), "2025-11-20"),
        # 2025-11-20 is a Thursday: "monday" is three days back, "thursday" a week.
        ("monday", datetime(2025, 11, 20, 12, 0, tzinfo=UTC), "2025-11-17"),
        ("thursday", datetime(2025, 11, 20, 12, 0, tzinfo=UTC), "2025-11-13"),
        # A weekday the site has its own word for (Wednesday is "yesterday"): a stale copy.
        ("wednesday", datetime(2025, 11, 20, 12, 0, tzinfo=UTC), None),
        # 22:30 UTC is already the 21st in Turkey: the site's day is not known.
        ("yesterday", datetime(2025, 11, 20, 22, 30, tzinfo=UTC), None),
        ("yesterday", None, None),
    ],
)
def test_relative_date_resolved_against_the_fetch_time_or_left_empty(
    word: str, fetched_at: datetime | None, expected: str | None
) -> None:
    text = _dump("relative-date-dump.txt").replace("\nyesterday\n", f"\n{word}\n")

    article = extract_text(text, url=ARTICLE, fetched_at=fetched_at)

    assert article.date_raw == word
    assert article.date == expected
    assert article.title == "The Market Hall Deserves Better Than a Car Park"


def test_relative_date_in_html_resolved_and_never_guessed() -> None:
    html = (FIXTURES / "relative-date.html").read_bytes()
    url = "https://qoshe.com/the-shire-herald/tess-moran/a-library-card/188600004"

    known = extract(html, url=url, fetched_at=datetime(2025, 5, 7, 9, 0, tzinfo=UTC))
    unknown = extract(html, url=url, fetched_at=datetime(2025, 5, 7, 23, 0, tzinfo=UTC))

    assert (known.date_raw, known.date) == ("previous day", "2025-05-05")
    assert (unknown.date_raw, unknown.date) == ("previous day", None)


# -- page kinds ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        (ARTICLE, "article"),
        (ARTICLE + "/amp", "amp_article"),
        ("https://qoshe.com/yazar/lena-marsh/5521", "columnist_listing"),
        ("https://qoshe.com/gazete/the-guardian-au", "newspaper_listing"),
        ("https://qoshe.com/the-conversation-us/editorial/a-staff-view/188000001", "article"),
    ],
)
def test_page_kind_from_the_url(url: str, kind: str) -> None:
    info = page_info(url, _qoshe())  # type: ignore[arg-type]

    assert info is not None
    assert info.kind == kind


LISTING_TEXT = """menu_open Columnists
We use cookies to provide some features and experiences in QOSHE
Lena Marsh
The Harbour Post
Harbour Dredging Is a Bill the Next Council Will Pay
Harbour Dredging Is a Bill the Next Council Will Pay
The dredgers arrived in the harbour last spring with a promise that the channel...
yesterday 30
The Harbour Post
Lena Marsh
A Second Bridge Will Not Fix the Traffic
23.07.2024 40
The Harbour Post
Lena Marsh
"""


@pytest.mark.parametrize(
    "url",
    [
        "https://qoshe.com/yazar/lena-marsh/5521",
        f"https://{MIRROR}/yazar/lena-marsh/5521",
        "https://qoshe.com/gazete/the-harbour-post",
    ],
)
def test_a_listing_page_is_refused_as_text_and_as_html(url: str) -> None:
    html = (
        '<html><head><meta property="og:site_name" content="QOSHE"></head><body>'
        '<div class="card"><a href="/the-harbour-post/lena-marsh/harbour-dredging/188012345">'
        "<h1>Harbour Dredging Is a Bill the Next Council Will Pay</h1></a>"
        "<p>The dredgers arrived in the harbour last spring with a promise that...</p>"
        "<i>12.10.2025</i></div></body></html>"
    )

    with pytest.raises(ExtractionError) as as_text:
        extract_text(LISTING_TEXT, url=url)
    with pytest.raises(ExtractionError) as as_html:
        extract(html, url=url)

    assert as_text.value.reason is RejectReason.LISTING_PAGE
    assert as_html.value.reason is RejectReason.LISTING_PAGE
    assert "listing" in as_text.value.detail


# -- identity --------------------------------------------------------------------------------


def test_numeric_id_is_the_key_under_edited_slugs_the_mirror_and_amp() -> None:
    edited = "https://qoshe.com/the-harbour-post/lena-marsh/harbour-dredging-costs-double/188012345"
    mirrored = f"https://{MIRROR}/the-harbour-post/lena-marsh/harbour-dredging/188012345"

    assert article_id(edited) == article_id(ARTICLE) == article_id(mirrored)
    assert article_id(ARTICLE + "/amp") == article_id(ARTICLE)
    assert article_id(ARTICLE.replace("188012345", "188012346")) != article_id(ARTICLE)


def test_mirror_and_amp_records_are_kept_under_qoshe_com() -> None:
    text = _dump("chrome-dump.txt")
    mirrored = f"https://{MIRROR}/the-harbour-post/lena-marsh/harbour-dredging/188012345"

    from_mirror = extract_text(text, url=mirrored)
    from_amp = extract_text(_dump("amp-dump.txt"), url=ARTICLE + "/amp")

    assert from_mirror.url == ARTICLE
    assert from_mirror.id == article_id(ARTICLE)
    assert from_mirror.aggregator == "QOSHE"
    assert from_amp.url == ARTICLE
    assert from_amp.date is None  # AMP pages carry no date: none is invented


def test_no_credit_and_no_newspaper_in_the_url_is_a_reject_not_the_aggregator() -> None:
    text = _dump("no-credit-dump.txt")

    with pytest.raises(ExtractionError) as caught:
        extract_text(text, url="https://qoshe.com/saved-copy")

    assert caught.value.reason is RejectReason.NO_SOURCE


def test_unknown_newspaper_slug_is_title_cased_without_its_region() -> None:
    url = "https://qoshe.com/the-daily-lantern-us/ada-fenwick/summer-sittings/188223344"

    article = extract_text(_dump("no-credit-dump.txt"), url=url)

    assert article.source == "The Daily Lantern"
    assert article.source_url is None


# -- credits on any aggregator ---------------------------------------------------------------

_OTHER_AGGREGATOR = parse_rules(
    """
name = "columns-hub"
kind = "aggregator"
display_name = "Columns Hub"
[match]
hosts = ["columns-hub.example"]
[credits]
leads = ['©', 'Read (?:more )?at', 'Continue reading(?: at| on)?']
[selectors]
title = ["h1"]
body = ["article .text"]
"""
)
_HUB = "https://columns-hub.example/c/4411"


def test_credit_in_its_own_element_outside_the_article_with_its_link() -> None:
    html = """<html><body><article><h1>Tram Fares Should Be Flat</h1><div class="text">
    <p>A single fare across the network would end the queues at the zone machines, which
    cost more to run each year than the zone system brings in.</p>
    <p>The operator says it would lose money. Its own report says otherwise.</p></div>
    </article><aside><ul><li>Mira Castellanos</li></ul></aside>
    <div class="source">Continue reading at
    <a href="https://tram-times.example/comment/flat-fares">The Tram Times</a></div>
    <footer>© 2026 Columns Hub</footer></body></html>"""

    article = extract(html, url=_HUB, rules=(_OTHER_AGGREGATOR,))

    assert article.source == "The Tram Times"
    assert article.source_url == "https://tram-times.example/comment/flat-fares"
    assert article.aggregator == "Columns Hub"
    assert "Continue reading" not in article.body
    assert article.body.endswith("Its own report says otherwise.")


def test_read_at_credit_glued_to_the_last_sentence_of_a_text() -> None:
    text = (
        "Tram Fares Should Be Flat\n"
        "A single fare across the network would end the queues at the zone machines.\n"
        "The operator says it would lose money, but its own report says otherwise. "
        "Read at www.tram-times.example\n"
        "Mira Castellanos\nTobias Wren\n"
    )

    article = extract_text(text, url=_HUB, rules=(_OTHER_AGGREGATOR,))

    assert article.source == "tram-times.example"
    assert article.body.endswith("its own report says otherwise.")
    assert "Mira" not in article.body
    assert "Read at" not in article.body


def test_a_credit_lead_inside_the_prose_is_not_a_credit() -> None:
    lines = [
        "The label read © 2019 on every jar, though the recipe was older than the company.",
        "Nobody at the hearing could say when the shop had first sold the jam, or to whom it "
        "had sold the recipe when the family business closed its doors for good.",
    ]

    kept, credit = split_credit(lines, _qoshe().credits)  # type: ignore[attr-defined]

    assert credit is None
    assert kept == lines


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(max_size=80), max_size=12))
def test_any_text_is_an_article_or_a_reason(lines: list[str]) -> None:
    text = "\n".join(lines)
    try:
        article = extract_text(text, url=ARTICLE, fetched_at=datetime(2026, 1, 1, tzinfo=UTC))
    except ExtractionError as exc:
        assert exc.reason in set(RejectReason)
    else:
        assert article.aggregator == "QOSHE"
        assert article.source != "QOSHE"


def test_markup_the_selectors_miss_still_gives_title_date_and_a_clean_body() -> None:
    """The real HTML is known only from page texts: class names may be anything."""
    html = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>X - QOSHE</title>
    <meta property="og:site_name" content="QOSHE"></head><body>
    <div class="nav"><span class="material-icons-round">menu_open</span> Columnists</div>
    <div class="wrap"><div class="main-col">
    <h1 class="baslik">Bus Lanes Need Cameras, Not Paint</h1>
    <div class="stats"><span>14</span> <span>0</span></div>
    <div class="tarih">yesterday</div>
    <div class="yazi">
    <p>The new bus lanes on the high street were painted in April, and by May the buses were
    slower than before, stuck behind the delivery vans parked on them.</p>
    <p>Paint does not move a van. Cameras do, and the council already owns six of them,
    switched off since the budget round because nobody would pay for the citizens.........</p>
    <p>© The Conversation</p><ul><li>Rowan Ellery</li><li>Mira Castellanos</li></ul>
    </div></div></div><div class="store"><a>Get it on Google Play</a></div></body></html>"""
    url = "https://qoshe.com/the-conversation-us/ada-fenwick/bus-lanes/188999999"

    article = extract(html, url=url, fetched_at=datetime(2025, 5, 7, 9, 0, tzinfo=UTC))

    assert article.title == "Bus Lanes Need Cameras, Not Paint"
    assert (article.date_raw, article.date) == ("yesterday", "2025-05-06")
    assert article.source == "The Conversation"
    assert article.truncated is True
    assert article.body.startswith("The new bus lanes")
    assert article.body.endswith("nobody would pay for the citizens.")
    for noise in ("Bus Lanes Need", "yesterday", "14", "©", "Rowan", "Mira", "menu_open"):
        assert noise not in article.body, noise
