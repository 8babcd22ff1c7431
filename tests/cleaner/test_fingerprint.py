"""Near-duplicate fingerprints: close for copies of one text, far for different texts."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cleaner.fingerprint import MIN_WORDS, distance, fingerprint

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
