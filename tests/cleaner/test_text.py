"""`extract_text`: pages that arrive as plain text, aggregator dumps first."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from cleaner import ExtractionError, RejectReason, builtin_rules, extract_text

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SEED = Path(__file__).resolve().parents[3] / "shared" / "seed" / "qoshe-page-dump.txt"
URL = "https://qoshe.com/the-harbour-post/lena-marsh/harbour-dredging/188012345"


def _qoshe_noise() -> list[str]:
    (rule,) = [rule for rule in builtin_rules() if rule.name == "qoshe"]
    return rule.text.noise_lines


def test_own_dump_comes_out_exactly() -> None:
    text = (FIXTURES / "qoshe" / "chrome-dump.txt").read_text(encoding="utf-8")

    article = extract_text(text, url=URL, fetched_at=datetime(2025, 10, 13, tzinfo=UTC))

    assert article.title == "Harbour Dredging Is a Bill the Next Council Will Pay"
    assert article.date == "2025-10-12"
    assert article.date_raw == "12.10.2025"
    assert article.source == "The Harbour Post"
    assert article.aggregator == "QOSHE"
    assert article.truncated is True
    paragraphs = article.body.split("\n\n")
    assert len(paragraphs) == 3
    assert paragraphs[0].startswith("The dredgers arrived in the harbour")
    # "citizens." + the eight-dot marker: the marker goes, the sentence's full stop stays.
    assert paragraphs[2].endswith("the council owes its citizens.")
    for noise in [*_qoshe_noise(), "menu_open", "We use cookies", "27 0", "©", "..", "Google"]:
        assert noise not in article.body, noise


def test_url_is_required_not_invented() -> None:
    text = (FIXTURES / "qoshe" / "chrome-dump.txt").read_text(encoding="utf-8")

    with pytest.raises(ExtractionError) as caught:
        extract_text(text)

    assert caught.value.reason is RejectReason.INVALID_URL


def test_site_is_recognised_from_the_text_when_the_host_is_not_the_aggregator() -> None:
    text = (FIXTURES / "qoshe" / "chrome-dump.txt").read_text(encoding="utf-8")

    article = extract_text(text, url="https://mirror.example/saved/harbour-dredging")

    assert article.aggregator == "QOSHE"
    assert article.source == "The Harbour Post"


def test_plain_text_without_a_known_site() -> None:
    text = (
        "Menu\n\nWhy the library should open on Sundays\n\n03.02.2025\n\n"
        "Sunday is the only day many parents can bring their children, and the doors are shut.\n\n"
        "A rota of volunteers has offered to staff the reading room from noon until four.\n\n"
        "Share\n"
    )

    article = extract_text(text, url="https://town-news.example/opinion/library")

    assert article.title == "Why the library should open on Sundays"
    assert article.date == "2025-02-03"
    assert article.body.split("\n\n") == [
        "Sunday is the only day many parents can bring their children, and the doors are shut.",
        "A rota of volunteers has offered to staff the reading room from noon until four.",
    ]
    assert article.source == "town-news.example"
    assert article.aggregator is None
    assert article.truncated is False


def test_text_without_body_is_rejected() -> None:
    with pytest.raises(ExtractionError) as caught:
        extract_text("menu_open\nAa Aa Aa\n- A +\n", url=URL)

    assert caught.value.reason in {RejectReason.NO_TITLE, RejectReason.EMPTY_BODY}


@pytest.mark.skipif(not SEED.is_file(), reason="the shared seed dump is not present")
def test_seed_dump_from_shared_folder() -> None:
    """The real dump, read at run time (never copied): layout facts computed from the file."""
    text = SEED.read_text(encoding="utf-8")
    lines = [" ".join(line.split()) for line in text.splitlines()]  # NBSP -> space, as cleaned
    date_index = next(i for i, line in enumerate(lines) if line[:2].isdigit() and "." in line)
    credit_index = next(i for i, line in enumerate(lines) if line.startswith("©"))
    expected_paragraphs = [line for line in lines[date_index + 1 : credit_index] if line]
    expected_paragraphs[-1] = expected_paragraphs[-1].rstrip(".")

    article = extract_text(text, url="https://www.qoshe.com/seed/column/1")

    assert article.title == next(line for line in lines[:date_index] if line.startswith("Opinion"))
    assert article.date == "2024-11-05"
    assert article.source == lines[credit_index].removeprefix("©").strip()
    assert article.aggregator == "QOSHE"
    assert article.truncated is True
    assert article.body.split("\n\n") == expected_paragraphs
    for noise in [*_qoshe_noise(), "We use cookies", "35 0", "©", "........"]:
        assert noise not in article.body, noise
