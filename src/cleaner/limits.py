"""Input guards, checked before parsing, so no page can keep a worker busy for minutes.

LESSONS 10: extraction must not hang on huge pages. Three cheap checks bound the
work: the input size, the number of tags, and the nesting depth (the HTML parser's
time grows with the square of the depth: 24,000 nested ``<div>`` take ~6 s to parse,
3,000 take ~0.03 s). Real article pages in fundus-dev are up to 1.5 MB with up to
~8,100 tags; the caps leave ample room above that.
"""

from __future__ import annotations

import re

from cleaner.errors import ExtractionError
from cleaner.reasons import RejectReason

MAX_INPUT_BYTES = 5 * 1024 * 1024
MAX_TAGS = 50_000
MAX_DEPTH = 3_000

# The attributes are taken whole (greedy, one fast loop) and a trailing "/" looked for
# after: a lazy run that tried "/>" at every character cost 4x more on big pages.
_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)([^>]*)>")
# Elements that never nest (void) or that pages routinely leave unclosed: not counted.
_FLAT = frozenset(
    [
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
        "p",
        "li",
        "dt",
        "dd",
        "option",
        "tr",
        "td",
        "th",
    ]
)


def nesting_depth(html: str) -> int:
    """An upper estimate of the element nesting depth, from the tag sequence alone.

    Modelled on what an HTML parser does, so markup cannot hide depth from it: ``<div/>``
    opens a div (only SVG and MathML honour ``/>``), and an end tag closes something
    only when that element is open (a stray ``</span>`` closes nothing).
    """
    stack: list[str] = []
    open_count: dict[str, int] = {}
    deepest = 0
    # Every tag ends with ">": past the last one nothing can match, and a run of "<a"
    # without any ">" after it would make each start scan to the end (quadratic).
    for closing, name, attributes in _TAG.findall(html, 0, html.rfind(">") + 1):
        name = name.lower()
        if name in _FLAT:
            continue
        if closing:
            if open_count.get(name):
                while stack:  # closes it and whatever was left open inside it
                    inner = stack.pop()
                    open_count[inner] -= 1
                    if inner == name:
                        break
            continue
        if attributes.endswith("/") and (open_count.get("svg") or open_count.get("math")):
            continue
        stack.append(name)
        open_count[name] = open_count.get(name, 0) + 1
        deepest = max(deepest, len(stack))
    return deepest


def check_size(html: str | bytes) -> None:
    """Raise `ExtractionError` (``too_large``) for input beyond the byte cap."""
    if len(html) > MAX_INPUT_BYTES:
        raise ExtractionError(
            RejectReason.TOO_LARGE, f"{len(html):,} bytes is over the {MAX_INPUT_BYTES:,} cap"
        )


def check_structure(html: str) -> None:
    """Raise `ExtractionError` (``too_large``) for too many tags or too deep nesting."""
    tags = html.count("<")  # every tag start; far cheaper than parsing to count nodes
    if tags > MAX_TAGS:
        raise ExtractionError(
            RejectReason.TOO_LARGE, f"{tags:,} tags is over the {MAX_TAGS:,} node cap"
        )
    # Only a start tag opens an element, and no start tag begins with "</": fewer start
    # tags than the cap cannot nest deeper than it (most pages; the estimate costs more).
    if tags - html.count("</") > MAX_DEPTH:
        depth = nesting_depth(html)
        if depth > MAX_DEPTH:
            raise ExtractionError(
                RejectReason.TOO_LARGE, f"nesting depth {depth:,} is over the {MAX_DEPTH:,} cap"
            )
