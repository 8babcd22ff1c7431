"""The text helpers' fast paths give exactly what their general definitions give."""

from __future__ import annotations

import re

from hypothesis import example, given
from hypothesis import strategies as st

from cleaner.body import _attr_matches, _hides
from cleaner.noise import noise_data, normalize_text, single_spaced, text_key

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
