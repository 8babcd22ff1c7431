"""The language of a text, for pages that do not declare one (py3langid, model in the package)."""

from __future__ import annotations

import functools
import re
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


@functools.cache
def _identifier() -> LanguageIdentifier:
    """Loaded once per process (~1 s): only pages that declare no language pay for it."""
    # py3langid and numpy are imported here for the same reason (~0.15 s at import).
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of ``text``'s language, or None when the text is too short or unclear."""
    sample = text[:_SAMPLE]
    if len(_LETTER.findall(sample)) < _MIN_LETTERS:
        return None
    code, probability = _identifier().classify(sample)
    return str(code) if probability >= _MIN_PROBABILITY else None
