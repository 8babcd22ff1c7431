"""parse_listing with the shipped listing rules on QOSHE-style and publisher listing pages."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scraper.discovery import (
    DiscoveryError,
    Link,
    ListingRules,
    builtin_listing_names,
    load_listing_rules,
    parse_listing,
    parse_listing_rules,
)
from tests.conftest import FIXTURES
from tests.scraper.discovery.helpers import discovery_bytes

QOSHE = "https://qoshe.example"
PAGE1 = f"{QOSHE}/columnist/jo-parker"
NOISE = ["Columnists", "Favourites", "cookies", "Aa", "Google Play", "App Store", "Most read"]


def _qoshe(page: str, url: str = PAGE1) -> tuple[list[Link], str | None, int]:
    listing = parse_listing(discovery_bytes(f"qoshe/{page}"), url, load_listing_rules("qoshe"))
    return listing.links, listing.next_page, listing.items


def test_qoshe_first_page_links_titles_dates_and_next() -> None:
    links, next_page, items = _qoshe("columnist-page1.html")

    column = f"{QOSHE}/riverside-gazette/jo-parker"
    assert [(link.url, link.title, link.published) for link in links] == [
        (
            f"{column}/night-buses/188000100",
            "Opinion – Why Small Towns Need Night Buses",
            "2025-03-14",
        ),
        (f"{column}/library-hours/188000101", "Keep the Library Open After Six", "2025-03-10"),
        (
            f"{column}/market-stalls/188000102",
            "The Market Stall Rent Nobody Voted For",
            "2025-03-07",
        ),
        (
            f"{column}/school-crossing/188000103",
            "A Crossing Guard Costs Less Than a Crash",
            "2025-03-03",
        ),
    ]  # tracking parameters and #comments gone; sidebar "most read" links not taken
    assert all(link.found_on == PAGE1 for link in links)
    assert next_page == f"{PAGE1}?page=2"
    assert items == 4
    for link in links:
        assert not any(noise in (link.title or "") for noise in NOISE)


def test_qoshe_middle_and_last_page() -> None:
    middle, next_of_middle, _ = _qoshe("columnist-page2.html", f"{PAGE1}?page=2")
    last, next_of_last, items = _qoshe("columnist-page3.html", f"{PAGE1}?page=3")

    assert len(middle) == 4
    assert next_of_middle == f"{PAGE1}?page=3"
    assert [(link.title, link.published) for link in last] == [
        ("Who Grits the Side Streets?", "2025-01-31"),  # "31.01.2025 · 88 views"
        ("A Budget Written for the Ring Road", None),  # "date unknown": no invented date
    ]
    assert items == 3  # the sponsored item matched but was skipped
    assert next_of_last is None  # only a "previous" link on the last page


def test_qoshe_newspaper_listing_date_with_time() -> None:
    links, next_page, _ = _qoshe("newspaper.html", f"{QOSHE}/newspaper/riverside-gazette")

    assert links[0].url == f"{QOSHE}/riverside-gazette/jo-parker/night-buses/188000100"
    assert links[0].published == "2025-03-14T18:05:00"  # no zone stated, none invented
    assert next_page is None


def test_publisher_opinion_section() -> None:
    base = "https://lakeside-courier.example/opinion/"
    rules = load_listing_rules("news-section")

    page = parse_listing(discovery_bytes("publisher/opinion-section.html"), base, rules)

    assert [(link.url, link.title, link.published) for link in page.links] == [
        (
            f"{base}2025/03/14/repair-cafes-need-rooms/",
            "Repair cafés need rooms, not grants",
            "2025-03-14T08:30:00+01:00",
        ),
        (
            f"{base}2025/03/12/tram-extension/?ref=section",
            "The tram extension stops one street short",
            "2025-03-12",  # "12 March 2025"
        ),
        (
            f"{base}2025/03/09/letters-school-meals/",
            "Letters: school meals, bin days and the new car park",
            "2025-03-09",
        ),
    ]  # the sponsored card is skipped
    assert page.next_page == f"{base}page/2/"


def test_str_input_and_base_href() -> None:
    html = (
        '<html><head><base href="https://cdn.example/mirror/"></head><body>'
        '<div class="card"><a href="a/b"><h1>T</h1></a><i>1.2.2025</i></div></body></html>'
    )

    page = parse_listing(html, "https://x.example/list", load_listing_rules("qoshe"))

    assert page.links == [
        Link("https://cdn.example/mirror/a/b", "T", "2025-02-01", found_on="https://x.example/list")
    ]


def test_layout_change_gives_zero_items() -> None:
    page = parse_listing(b"<html><body><p>Redesigned!</p></body></html>", QOSHE, _rules())

    assert page.links == [] and page.items == 0 and page.next_page is None


def _rules(**extra: object) -> ListingRules:
    return ListingRules.model_validate(
        {"name": "t", "selectors": {"item": ["li"]}, "date_formats": ["%d.%m.%Y"], **extra}
    )


def test_numbered_pagination_when_the_rule_asks_for_it() -> None:
    html = b"<ul><li><a href='/a'>A</a></li></ul>"

    first = parse_listing(html, "https://x.example/list?sort=new", _rules(page_param="p"))
    third = parse_listing(html, "https://x.example/list?p=2&sort=new", _rules(page_param="p"))
    empty = parse_listing(b"<ul></ul>", "https://x.example/list?p=9", _rules(page_param="p"))

    assert first.next_page == "https://x.example/list?p=2&sort=new"
    assert third.next_page == "https://x.example/list?p=3&sort=new"
    assert empty.next_page is None


def test_every_shipped_rule_loads_and_has_a_fixture() -> None:
    names = builtin_listing_names()
    fixtures = {"qoshe": "qoshe/columnist-page1.html", "news-section": "publisher/"}

    assert names == sorted(fixtures)
    for name in names:
        assert load_listing_rules(name).name == name
        assert (FIXTURES / "discovery" / fixtures[name]).exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('name = "x"\n[selectors]\nitem = ["li"]\nitme = ["a"]', r"selectors\.itme: Extra inputs"),
        ('name = "x"\n[selectors]\nitem = ["li["]', "invalid CSS selector 'li\\['"),
        ('name = "x"\n[selectors]\nitem = []', r"selectors\.item"),
        ('name = "x"\ndate_pattern = "(("\n[selectors]\nitem = ["li"]', "invalid regex"),
        ('name = "../x"\n[selectors]\nitem = ["li"]', "name"),
        ("name = ", "invalid listing rules in t.toml"),
    ],
)
def test_bad_rules_fail_loudly(text: str, message: str) -> None:
    with pytest.raises(DiscoveryError, match=message):
        parse_listing_rules(text, "t.toml")


def test_load_by_name_and_by_path(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text('name = "mine"\n[selectors]\nitem = [".post"]\n', encoding="utf-8")

    assert load_listing_rules(str(path)).selectors.item == [".post"]
    with pytest.raises(DiscoveryError, match=r"unknown listing rules 'qoshee'.*qoshe"):
        load_listing_rules("qoshee")
    with pytest.raises(DiscoveryError, match="unknown listing rules"):
        load_listing_rules("..")
    with pytest.raises(DiscoveryError, match="cannot read listing rules"):
        load_listing_rules(str(tmp_path / "absent.toml"))


def test_empty_page_is_an_error() -> None:
    with pytest.raises(DiscoveryError, match="empty listing page"):
        parse_listing(b"  \n", QOSHE, _rules())


_HTML_PART = st.sampled_from(
    [
        "<ul class='articles-list'>",
        "<li class='article-item'>",
        "<a class='article-title' href='/x?utm_source=q'>",
        "<a href='javascript:void(0)'>",
        "<a href='http://[::1'>",
        "<a href='https://x.example:99999/'>",
        "Title",
        "</a>",
        "<span class='article-date'>",
        "14.03.2025",
        "99.99.9999",
        "2025-03-14T08:00:00+01:00",
        "</span>",
        "<time datetime='bogus'>",
        "</li>",
        "</ul>",
        "<div class='pagination'><a rel='next' href='?page=2'>",
        "<base href='mailto:x'>",
        "<!--",
        "\x00",
        "é",
    ]
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_HTML_PART, max_size=40), st.booleans())
def test_fuzz_listing_shaped_html(parts: list[str], as_bytes: bool) -> None:
    html = "".join(parts)
    try:
        page = parse_listing(
            html.encode() if as_bytes else html, PAGE1, load_listing_rules("qoshe")
        )
    except DiscoveryError:
        return
    assert all(link.url.startswith(("http://", "https://")) for link in page.links)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=2000))
def test_fuzz_arbitrary_bytes(data: bytes) -> None:
    try:
        page = parse_listing(data, PAGE1, load_listing_rules("news-section"))
    except DiscoveryError:
        return
    assert all(link.url.startswith(("http://", "https://")) for link in page.links)


REAL = "https://qoshe.com"
LENA = f"{REAL}/the-harbour-post/lena-marsh"


def test_qoshe_cards_h1_in_link_date_in_i_and_headline_edits_collapsed() -> None:
    links, next_page, _ = _qoshe("columnist-cards.html", f"{REAL}/yazar/lena-marsh/5521")

    assert [(link.url, link.title, link.published) for link in links] == [
        # Listed twice after a headline edit under the same id: the first card stands.
        (f"{LENA}/harbour-dredging-costs-double/188012345", "Harbour Dredging Costs Double", None),
        # Listed again under a new id with the same teaser: dropped. "yesterday" is no date
        # without a clock; the article page's own date is read when it is fetched.
        (
            f"{LENA}/a-second-bridge-will-not-fix-the-traffic/187990021",
            "A Second Bridge Will Not Fix the Traffic",
            None,
        ),
        (
            f"{LENA}/the-lighthouse-keeper-s-cottage/187412230",
            "The Lighthouse Keeper’s Cottage",
            "2024-07-23",
        ),
    ]  # the cards' newspaper and columnist links and the sidebar are not columns
    assert next_page is None


def test_qoshe_pre_2022_table_of_teasers() -> None:
    links, _, items = _qoshe("columnist-table-2019.html", f"{REAL}/yazar/lena-marsh/5521")

    assert [(link.url, link.published) for link in links] == [
        (f"{LENA}/the-ferry-pier-needs-a-roof/1461002", "2019-02-14"),
        (f"{LENA}/fishing-quotas-and-the-harbour-s-future/1460877", "2019-02-07"),
    ]
    assert links[0].title is not None and links[0].title.startswith("The ferry pier has no roof")
    assert items == 2


def test_qoshe_listing_links_to_listings_are_never_columns() -> None:
    html = (
        '<div class="col"><a href="/yazar/lena-marsh/5521"><h1>Lena Marsh</h1></a></div>'
        '<div class="col"><a href="/gazete/the-harbour-post"><h1>The Harbour Post</h1></a></div>'
        '<div class="col"><a href="/the-harbour-post/lena-marsh/x/1880"><h1>X</h1></a></div>'
    )

    page = parse_listing(html, f"{REAL}/gazete/the-harbour-post", load_listing_rules("qoshe"))

    assert [link.url for link in page.links] == [f"{LENA}/x/1880"]
