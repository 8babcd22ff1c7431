"""The text helpers' fast paths give exactly what their general definitions give."""

from __future__ import annotations

import html
import re

from hypothesis import example, given
from hypothesis import strategies as st
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from cleaner.body import _attr_matches, _hides, linked_chars
from cleaner.noise import (
    BIDI_CONTROLS,
    is_noise_line,
    is_noise_spaced,
    lines_normalized,
    noise_data,
    normalize_text,
    single_spaced,
    strip_bidi,
    text_key,
    visible_length,
)

# Mostly ASCII (where the fast paths are), with every control and space character, and
# some non-ASCII letters, marks and spaces.
_CHARS = st.one_of(
    st.characters(max_codepoint=0x7F),
    st.sampled_from(" \t\n\r\x0b\x0c\x1c\x1f\x00\x7f_-éßİ\u0301\u00a0\u2003\u3000Ωﬁ"),
)
_TEXTS = st.text(_CHARS, max_size=60)


@given(_TEXTS)
def test_text_key_is_casefolded_text_without_non_alphanumerics(text: str) -> None:
    assert text_key(text) == re.sub(r"[\W_]+", "", text.casefold())


@given(_TEXTS)
def test_single_spaced_is_split_and_joined(text: str) -> None:
    assert single_spaced(text) == " ".join(text.split())


@given(st.text(st.characters(max_codepoint=0x7F), max_size=60))
def test_ascii_normalization_drops_controls_and_joins_words(text: str) -> None:
    assert normalize_text(text) == " ".join(re.sub(r"[\x00-\x08\x0e-\x1f\x7f]", "", text).split())


@given(_TEXTS)
@example("A\x1f\u0301")  # a control character between a letter and its accent
def test_normalization_is_idempotent(text: str) -> None:
    once = normalize_text(text)
    assert normalize_text(once) == once


def test_class_words_match_alone_and_in_any_company() -> None:
    words = noise_data().boilerplate
    assert _attr_matches("share-buttons", words)
    # The word's verdict is cached; in another combination it still decides.
    assert _attr_matches("btn share-buttons", words)
    assert _attr_matches("share-buttons btn-primary", words)
    assert not _attr_matches("btn btn-primary", words)


def test_hidden_classes_are_read_from_each_element() -> None:
    assert _hides({"class": "Card Sr-Only"})
    assert not _hides({"class": "card"})
    assert _hides({"class": "card", "style": "color: red; display: none"})
    assert not _hides({"class": "card", "style": ""})


@given(_TEXTS)
def test_visible_length_counts_what_split_keeps(text: str) -> None:
    assert visible_length(text) == len("".join(text.split()))


@given(_TEXTS)
def test_bidi_controls_go_from_any_text(text: str) -> None:
    assert strip_bidi(text) == text.translate(BIDI_CONTROLS)
    assert strip_bidi(text + "\u202e") == text.translate(BIDI_CONTROLS)


_MARKUP = st.recursive(
    st.text(st.sampled_from("ab é<&"), max_size=6).map(html.escape),
    lambda inner: (
        st.builds("<{0}>{1}</{0}>".format, st.sampled_from(["a", "div", "p", "span", "li"]), inner)
        | st.lists(inner, max_size=3).map("".join)
    ),
    max_leaves=12,
)


@given(_MARKUP)
@example("<a>x<a>yz</a></a>")  # the parser closes the outer link: two siblings
def test_link_text_counted_once_equals_each_elements_own_link_search(markup: str) -> None:
    body = HTMLParser(f"<html><body><div>{markup}</div></body></html>").body
    assert body is not None
    totals = linked_chars(body)
    for node in body.traverse(include_text=False):
        expected = sum(len(link.text(deep=True)) for link in node.css("a"))
        assert totals.get(node.mem_id, 0) == expected


@given(st.lists(_TEXTS, max_size=4).map("\n".join))
@example("A paragraph.\n\nAnother one, single-spaced.")
def test_lines_said_normalized_are_their_own_normalization(text: str) -> None:
    if lines_normalized(text):
        assert all(normalize_text(line) == single_spaced(line) == line for line in text.split("\n"))


def test_a_scored_body_is_normalized_as_it_stands() -> None:
    assert lines_normalized("A paragraph.\n\nAnother one, single-spaced.")
    assert not lines_normalized("A paragraph. \n\nAnother one.")
    assert not lines_normalized("A  paragraph.")
    assert not lines_normalized("A\tparagraph.")
    assert not lines_normalized("Une idée.")


@given(_TEXTS)
def test_normalized_text_is_single_spaced(text: str) -> None:
    normalized = normalize_text(text)
    assert single_spaced(normalized) == normalized
    assert is_noise_spaced(normalized) == is_noise_line(normalized)
