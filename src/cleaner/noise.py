"""Generic UI-noise text filters, applied to every page after any site rule's own."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

# Short lines that are interface, not prose, on many sites.
_GENERIC_NOISE = re.compile(
    r"""^(?:
        share(?:\s+(?:this|on\s+\w+))?|tweet|e-?mail|print|comments?\s*\(?\d*\)?
        |read\s+more|advertisement|sponsored|subscribe(?:\s+now)?|sign\s+up|log\s*in
        |accept(?:\s+all)?(?:\s+cookies)?|reject\s+all|close|menu|search
        |get\s+it\s+on\s+google\s+play|download\s+on\s+the\s+app\s+store
        |[-+a]\s*a\s*[-+a]?|(?:aa\s*){2,}|\d+(?:\s+\d+)*
    )$""",
    re.IGNORECASE | re.VERBOSE,
)
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
_DOTS = re.compile(r"(?:\.{3,}|…+)\s*$")


def normalize_text(text: str) -> str:
    """NFC, one space between words, no control characters."""
    text = unicodedata.normalize("NFC", text)
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")
    return _SPACES.sub(" ", text).strip()


def is_noise_line(line: str, exact: Iterable[str] = (), patterns: Iterable[str] = ()) -> bool:
    """True for a line that is UI chrome rather than article text."""
    folded = " ".join(line.split())
    if not folded:
        return True
    if any(folded == " ".join(item.split()) for item in exact):
        return True
    if any(re.search(pattern, folded) for pattern in patterns):
        return True
    return bool(_GENERIC_NOISE.match(folded))


def strip_truncation(body: str, suffixes: Iterable[str]) -> tuple[str, bool]:
    """Remove a teaser's trailing dots; return the text and whether it was cut."""
    stripped = body.rstrip()
    if _DOTS.search(stripped) or any(stripped.endswith(s) for s in suffixes if s):
        return _DOTS.sub("", stripped).rstrip(), True
    return stripped, False
