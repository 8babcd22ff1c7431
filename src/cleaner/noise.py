"""Generic UI-noise knowledge (loaded from ``noise.toml``) and text normalization."""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources

BREAK = "\ue000"  # stands for a <br> in page text (a private-use character no page prints)
# Line breaks too: a break inside a source <p> or byline is formatting, not a new line;
# a text that keeps its <br> lines splits at BREAK before it is normalized.
_SPACES = re.compile(r"[\s\u00a0\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ue000]+")
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f]")  # Cc, minus whitespace
_NOT_ALNUM = re.compile(r"[\W_]+")
_ASCII_NOT_ALNUM = bytes(code for code in range(128) if not chr(code).isalnum())
# Tried only where a run of dots starts: from inside a long run that does not end the
# text, each start would rescan the run.
_DOTS = re.compile(r"(?<!\.)\.{3,}\s*$|(?<!…)…+\s*$")
# Zero-width and soft-hyphen characters split words invisibly; they never carry meaning.
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200c\u200d\u2060\ufeff"))
# Bidirectional controls (marks, embeddings, overrides, isolates): a page's U+202E makes
# a title or a name display reversed wherever the record is shown ("Trojan Source"), and
# the Unicode algorithm orders plain text well without them.
BIDI_CONTROLS = dict.fromkeys(
    map(ord, "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
)
_INVISIBLE.update(BIDI_CONTROLS)
# One regex pass deletes both (str.translate looks every character up in a dict).
_DELETED = re.compile(
    r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f" + "".join(map(chr, _INVISIBLE)) + "]"
)
_BIDI = re.compile("[" + "".join(map(chr, BIDI_CONTROLS)) + "]")


_PRINTABLE_OR_NEWLINE = b"\n" + bytes(range(0x20, 0x7F))
_ASCII_SPACES = bytes(code for code in range(128) if chr(code).isspace())  # what split() drops


def strip_bidi(text: str) -> str:
    """``text`` without bidirectional controls."""
    # An ASCII text holds none: the pattern's scan of a whole body is skipped.
    return text if text.isascii() else _BIDI.sub("", text)


def visible_length(text: str) -> int:
    """``len("".join(text.split()))``: the characters of ``text`` that are not spaces."""
    if text.isascii():  # bytes.translate deletes them ~4x faster than the split builds words
        return len(text.encode("ascii").translate(None, _ASCII_SPACES))
    return len("".join(text.split()))  # (counting each of the 29 spaces is no faster)


@dataclass(frozen=True)
class NoiseData:
    """The contents of ``noise.toml``, compiled."""

    line: re.Pattern[str]
    closing: re.Pattern[str]
    author_prefixes: tuple[str, ...]
    author_separators: re.Pattern[str]
    author_junk: re.Pattern[str]
    author_selectors: tuple[str, ...]
    author_labels: frozenset[str]
    author_max_words: int
    author_max_chars: int
    boilerplate: tuple[str, ...]
    drop_tags: tuple[str, ...]
    lead_hints: tuple[str, ...]


@cache
def noise_data() -> NoiseData:
    """Load and compile ``noise.toml`` once."""
    data = tomllib.loads((resources.files("cleaner") / "noise.toml").read_text(encoding="utf-8"))
    lines, authors, dom = data["lines"], data["authors"], data["dom"]
    separators = sorted(authors["separators"], key=len, reverse=True)
    return NoiseData(
        line=re.compile("^(?:" + "|".join(lines["patterns"]) + ")$", re.IGNORECASE),
        closing=re.compile("^(?:" + "|".join(lines["closing"]) + r")\s*:?$", re.IGNORECASE),
        author_prefixes=tuple(sorted(authors["prefixes"], key=len, reverse=True)),
        author_separators=re.compile("|".join(map(re.escape, separators)), re.IGNORECASE),
        author_junk=re.compile("|".join(authors["junk_patterns"]), re.IGNORECASE),
        author_selectors=tuple(authors["selectors"]),
        author_labels=frozenset(label.casefold() for label in authors["labels"]),
        author_max_words=int(authors["max_words"]),
        author_max_chars=int(authors["max_chars"]),
        boilerplate=tuple(dom["boilerplate"]),
        drop_tags=tuple(dom["drop_tags"]),
        lead_hints=tuple(data["lead"]["hints"]),
    )


def text_key(text: str) -> str:
    """``text`` compared for sameness: no case, spaces or punctuation ("Le Monde" = "LE-MONDE")."""
    if text.isascii():  # the same deletion by bytes.translate: ~15x faster (every body line)
        return text.lower().encode("ascii").translate(None, _ASCII_NOT_ALNUM).decode("ascii")
    return _NOT_ALNUM.sub("", text.casefold())


def normalize_text(text: str) -> str:
    """NFC, one space between words (line breaks included), no control or invisible characters."""
    if text.isascii():  # already NFC, no invisible character, and str.split()'s spaces
        # A printable text holds no control character: the scan for one is skipped (it
        # costs three times the test, on most lines of every page).
        if text.isprintable():
            return _single_spaced_printable(text)  # (single_spaced would test both again)
        return single_spaced(_CONTROL.sub("", text))
    # Deleted before NFC: a control character between a letter and its combining accent
    # keeps NFC from composing them, and deleting it afterwards would leave them apart.
    return _SPACES.sub(" ", unicodedata.normalize("NFC", _DELETED.sub("", text))).strip()


def single_spaced(text: str) -> str:
    """``" ".join(text.split())``: one space between words, none around them."""
    # Printable ASCII has no space but " ": without a double, leading or trailing one it
    # is single-spaced already (most texts are), and the split is five times the test.
    if text.isascii() and text.isprintable():
        return _single_spaced_printable(text)
    return " ".join(text.split())


def _single_spaced_printable(text: str) -> str:
    """`single_spaced` of a printable ASCII text."""
    return text if _spaced_once(text) else " ".join(text.split())


def _spaced_once(text: str) -> bool:
    """No double space in ``text``, and none at its start or end."""
    return "  " not in text and not text.startswith(" ") and not text.endswith(" ")


def lines_normalized(text: str) -> bool:
    """True when every ``"\n"``-separated line of ``text`` is its own `normalize_text` (and
    so its own `single_spaced`): printable ASCII, single-spaced. Tested on a whole body in
    a few scans, instead of scanning each of its lines twice (most bodies are)."""
    return (
        text.isascii()
        and not text.encode("ascii").translate(None, _PRINTABLE_OR_NEWLINE)
        and _spaced_once(text)
        and " \n" not in text
        and "\n " not in text
    )


def is_noise_line(line: str, exact: Iterable[str] = (), patterns: Iterable[str] = ()) -> bool:
    """True for a line that is UI chrome rather than article text."""
    return is_noise_spaced(single_spaced(line), exact, patterns)


def is_noise_spaced(folded: str, exact: Iterable[str] = (), patterns: Iterable[str] = ()) -> bool:
    """`is_noise_line` of a line already single-spaced (`normalize_text` leaves it so)."""
    if not folded:
        return True
    # Most calls (every body line) pass no site strings: no generator is made for them.
    if exact and any(folded == " ".join(item.split()) for item in exact):
        return True
    if patterns and any(re.search(pattern, folded) for pattern in patterns):
        return True
    return bool(noise_data().line.match(folded))


def strip_truncation(body: str, suffixes: Iterable[str]) -> tuple[str, bool]:
    """Remove a teaser's trailing dots; return the text and whether it was cut."""
    stripped = body.rstrip()
    # All _DOTS can match in a text without trailing spaces: its end. Checked first, as a
    # search would try every position of a long body.
    dotted = stripped.endswith(("...", "…"))
    if dotted or any(stripped.endswith(s) for s in suffixes if s):
        return (_DOTS.sub("", stripped).rstrip() if dotted else stripped), True
    return stripped, False
