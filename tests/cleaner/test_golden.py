"""Golden files (Fundus style): each page under tests/fixtures/<site>/ next to the record
it must produce, exactly, and the interface strings that must not reach the body."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from cleaner import builtin_rules, extract, extract_text
from cleaner.decode import decode_html

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
# Folders owned by other parts of the project, not cleaner golden files.
_NOT_GOLDEN = {"discovery"}
_MOJIBAKE = {"Ã", "\ufffd"}


def _cases() -> list[Path]:
    return sorted(
        path for path in FIXTURES.glob("*/*.expected.json") if path.parent.name not in _NOT_GOLDEN
    )


def _page_for(expected: Path) -> Path:
    stem = expected.name.removesuffix(".expected.json")
    pages = [p for p in expected.parent.glob(f"{stem}.*") if p != expected]
    assert len(pages) == 1, f"{expected}: expected one page next to it, found {pages}"
    return pages[0]


def _visible_text(page: Path) -> str:
    text = decode_html(page.read_bytes())
    if page.suffix == ".html":
        text = HTMLParser(text).text(separator="")
    return " ".join(text.split())


def _clean(page: Path, url: str) -> dict[str, Any]:
    raw = page.read_bytes()
    if page.suffix == ".txt":
        article = extract_text(raw.decode("utf-8"), url=url)
    else:
        article = extract(raw, url=url)  # bytes: the cleaner decodes, as after a fetch
    return article.model_dump(mode="json")


@pytest.mark.parametrize("expected", _cases(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_page_gives_expected_record(expected: Path) -> None:
    golden = json.loads(expected.read_text(encoding="utf-8"))

    record = _clean(_page_for(expected), golden["url"])

    assert record == golden["record"]


@pytest.mark.parametrize("expected", _cases(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_noise_line_survives(expected: Path) -> None:
    golden = json.loads(expected.read_text(encoding="utf-8"))
    record = _clean(_page_for(expected), golden["url"])

    assert golden["noise"], "every golden file lists the noise its page carries"
    page_text = _visible_text(_page_for(expected))
    for noise in golden["noise"]:
        # The noise must really be on the page, or the assertion below proves nothing;
        # mojibake marks are the exception: they are what a wrong decoding would add.
        assert noise in page_text or noise in _MOJIBAKE, noise
        assert noise not in record["body"], noise


def test_every_rule_file_has_a_fixture() -> None:
    for rule in builtin_rules():
        folder = FIXTURES / rule.name
        assert list(folder.glob("*.expected.json")), f"rules/{rule.name}.toml has no golden file"


def test_golden_set_covers_the_page_shapes() -> None:
    names = {f"{p.parent.name}/{p.name.removesuffix('.expected.json')}" for p in _cases()}
    assert {
        "qoshe/chrome",
        "qoshe/chrome-dump",
        "qoshe/chromeless-glued",
        "qoshe/glued-credit",
        "qoshe/amp",
        "qoshe/amp-dump",
        "qoshe/no-credit",
        "qoshe/no-credit-dump",
        "qoshe/relative-date-dump",
        "qoshe/relative-date",
        "publisher/article",
        "opengraph/only-og",
        "legacy/cp1252-meta-charset",
        "noisy/related-author-comments",
    } <= names
