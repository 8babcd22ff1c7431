"""The language of a text, for pages that do not declare one (py3langid, model in the package)."""

from __future__ import annotations

import re
from array import array
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from py3langid.langid import LanguageIdentifier

# Below this many letters the detector guesses (a headline alone is often misread).
_MIN_LETTERS = 50
# langid's normalized probability: below it, the text is mixed or too short to be sure.
_MIN_PROBABILITY = 0.9
# The first thousand characters decide as the whole text does (measured on the dev corpora).
_SAMPLE = 1000
_LETTER = re.compile(r"\w", re.UNICODE)


# The identifier every page is classified with: one the caller handed in (`use_identifier`),
# or else the one its loader (`load_identifier_with`; py3langid's own file by default)
# gives on the first text asked about.
_installed: list[LanguageIdentifier] = []
_loader: list[Callable[[], LanguageIdentifier]] = []


def use_identifier(identifier: LanguageIdentifier) -> None:
    """Classify with ``identifier`` from now on: py3langid's model as the caller loaded it
    (the cleaning pool maps an uncompressed copy of it from a cache, in milliseconds)."""
    _installed[:] = [identifier]


def load_identifier_with(loader: Callable[[], LanguageIdentifier]) -> None:
    """Load the identifier with ``loader`` when a text first needs one, instead of from
    py3langid's file: so a process whose pages all declare their language loads none."""
    _loader[:] = [loader]


def packaged_identifier() -> LanguageIdentifier:
    """py3langid's model from its own package file (~0.5 s, most of it LZMA decompression)."""
    # py3langid and numpy are imported here for the same reason (~0.15 s at import).
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    compact(identifier)
    return identifier


def _identifier() -> LanguageIdentifier:
    """Loaded once per process: only pages that declare no language pay for it."""
    if not _installed:
        use_identifier(_loader[0]() if _loader else packaged_identifier())
    return _installed[0]


def compact(identifier: LanguageIdentifier) -> None:
    """Hold the identifier's two per-state tables of its tokenizer (104,583 entries each)
    in arrays of 64-bit integers, not lists of Python ints: 7.2 -> 1.7 MB, in every
    cleaning process, as their warm parent loaded it (the same lookups, the same answers:
    the DFA walk only indexes them). The transition table and the weights are numpy and
    `array` already (37 + 27 MB)."""
    if isinstance(identifier._rowbase, list):  # what py3langid 0.4 builds
        identifier._rowbase = array("q", identifier._rowbase)
    if isinstance(identifier.tk_output, list):
        identifier.tk_output = array("q", identifier.tk_output)


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of ``text``'s language, or None when the text is too short or unclear."""
    sample = text[:_SAMPLE]
    if len(_LETTER.findall(sample)) < _MIN_LETTERS:
        return None
    code, probability = _identifier().classify(sample)
    return str(code) if probability >= _MIN_PROBABILITY else None
