"""Near-duplicate fingerprints: close for copies of one text, far for different texts."""

from __future__ import annotations

import re
import zlib

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from cleaner.fingerprint import (
    LEAD_WORDS,
    MIN_WORDS,
    Fingerprint,
    _mix,
    distance,
    fingerprint,
    split_words,
)

_TEXT = (
    "The last bus out of the market square leaves at twenty past seven, which means that "
    "anyone who works a late shift at the care home walks or pays for a taxi.\n"
    "A night service would cost the county less than the road it plans to widen, and it "
    "would carry the nurses, cooks and cleaners who keep the town running.\n"
    "Other districts tried a demand bus on two evenings a week and kept it, because the "
    "seats filled faster than the planners had dared to hope."
)
_OTHER = (
    "On the corner where the phone shop closed, a woman now mends toasters, lamps and the "
    "occasional sewing machine, and the queue reaches the door on Saturdays.\n"
    "Her customers are not nostalgic; they are tired of buying the same kettle twice a year "
    "because a two-penny switch failed inside a sealed plastic case."
)


def test_copies_are_close_and_different_texts_far() -> None:
    original = fingerprint(_TEXT)
    assert original is not None
    again = fingerprint(_TEXT.replace("\n", "\n\n"))
    with_a_line = fingerprint(_TEXT + "\nShare this column with a friend.")
    other = fingerprint(_OTHER)
    assert again is not None and with_a_line is not None and other is not None
    assert again == original, "layout does not count, words do"
    assert distance(original.body, with_a_line.body) <= 5
    assert distance(original.body, other.body) > 12


def test_a_teaser_shares_the_lead_of_its_original_even_under_its_headline() -> None:
    title = "Why small towns need night buses"
    teaser = fingerprint(f"{title}\n" + " ".join(_TEXT.split()[:40]) + "...", title)
    original = fingerprint(_TEXT, title)
    assert teaser is not None and original is not None
    assert distance(teaser.body, original.body) > 5, "not a copy of the whole"
    assert teaser.lead == original.lead


def test_short_texts_have_no_fingerprint() -> None:
    assert fingerprint(" ".join(["word"] * (MIN_WORDS - 1))) is None


@given(st.text(max_size=2000))
def test_any_text_gives_none_or_two_64_bit_values(text: str) -> None:
    found = fingerprint(text, text[:20])
    assert found is None or (0 <= found.body < 1 << 64 and 0 <= found.lead < 1 << 64)


def _plain_fingerprint(body: str, title: str = "") -> Fingerprint | None:
    """The fingerprint as first written (a regex for the words, `numpy.unique`, an unpacked
    bit matrix): the faster code must give the very same values, or the fingerprints that
    earlier runs saved in the state would stop matching new ones."""
    word = re.compile(r"\w+")

    def simhash(hashes: np.ndarray) -> int:
        if len(hashes) < 3:
            hashes = np.concatenate([hashes, np.zeros(3 - len(hashes), dtype=np.uint64)])
        count = len(hashes) - 2
        shingles = np.zeros(count, dtype=np.uint64)
        for offset in range(3):
            shingles = _mix(shingles ^ hashes[offset : offset + count])
        shingles = np.unique(shingles)
        bits = np.unpackbits(shingles.view(np.uint8)).reshape(-1, 64)
        majority = bits.sum(axis=0, dtype=np.int64) * 2 > len(shingles)
        return int.from_bytes(np.packbits(majority).tobytes(), "big")

    first, _, rest = body.partition("\n")
    if title and word.findall(first.lower()) == word.findall(title.lower()):
        body = rest
    words = word.findall(body.lower())
    if len(words) < MIN_WORDS:
        return None
    hashes = _mix(np.array([zlib.crc32(w.encode("utf-8")) for w in words], dtype=np.uint64))
    return Fingerprint(simhash(hashes), simhash(hashes[:LEAD_WORDS]))


# Words of several scripts, digits of others, joiners and marks: what \w keeps and drops.
_PIECES = st.sampled_from(
    [
        "the",
        "bus",
        "Ночной",
        "автобус",
        "İstanbul",
        "café_au_lait",
        "½",
        "٣",
        "x²",
        "日本語",
        "e\u0301",
        "a\u200db",
        "-",
        "'",
        ".",
        "\u00a0",
        "\t",
        "\n",
        " ",
        "\u2028",
        "_",
    ]
)


@given(st.lists(_PIECES | st.text(max_size=8), max_size=300), st.text(max_size=30))
def test_fingerprints_are_those_of_the_plain_implementation(pieces: list[str], title: str) -> None:
    text = " ".join(pieces)
    assert fingerprint(text, title) == _plain_fingerprint(text, title)
    assert split_words(text) == re.findall(r"\w+", text)


def test_fingerprints_saved_by_earlier_versions_still_match() -> None:
    # Values the first implementation computed: the state keeps fingerprints across runs.
    assert fingerprint(_TEXT, "Why small towns need night buses") == Fingerprint(
        6471609832587988382, 13269026211680495486
    )
    mixed = "Ночной автобус " * 20 + "naïve café_au_lait İstanbul ½ ٣ x²  " * 5
    assert fingerprint(mixed) == Fingerprint(9101280801725901245, 5084638782884553120)
