"""Article HTML that a page ships inside its scripts instead of its DOM.

Server-rendered React frameworks can leave the article out of the markup and carry it
in the hydration data: Next.js's App Router as text rows of its "flight" stream
(``self.__next_f.push([1, "…"])``, a row ``<id>:T<hex byte length>,<text>``), its
Pages Router and similar set-ups as a JSON string property (``"contentHtml": "<p>…"``).
Both are framework formats, not site knowledge: one parser serves every site built so.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from selectolax.lexbor import LexborHTMLParser as HTMLParser

_FLIGHT_PUSH = "self.__next_f.push([1,"
_BLANKS = re.compile(r"\s*")
_JSON = json.JSONDecoder()
_ROW_HEAD = re.compile(rb"[0-9a-f]{1,8}:(?:T([0-9a-f]{1,8}),)?")
_JSON_SCRIPTS = 'script[type="application/json"], script#__NEXT_DATA__'
_PARAGRAPH = re.compile(r"<p[\s>]", re.IGNORECASE)
_MIN_PARAGRAPHS = 3  # fewer is a caption or a teaser, not an article's text
_MAX_JSON_DEPTH = 64


def _flight_payload(html: str) -> bytes:
    """The flight stream, its pushed string chunks decoded and joined, as UTF-8.

    Each pushed string is read by the JSON scanner from where its push starts, not by a
    regex: a pattern over the string's characters kept a backtracking entry per
    character or escape (~130 MB of memory per MB of input); the scanner keeps none, and
    every scan ends at the next quote, so the whole page is read about once.
    """
    chunks = []
    position = html.find(_FLIGHT_PUSH)
    while position >= 0:
        after = position + len(_FLIGHT_PUSH)
        blanks = _BLANKS.match(html, after)
        start = blanks.end() if blanks is not None else after
        try:
            chunk, end = _JSON.raw_decode(html, start)
        except (json.JSONDecodeError, RecursionError):
            end = start
        else:
            if isinstance(chunk, str) and html.startswith("])", end):
                chunks.append(chunk)
        position = html.find(_FLIGHT_PUSH, max(end, start))
    return "".join(chunks).encode("utf-8", errors="replace")


def _flight_texts(html: str) -> Iterator[str]:
    """The text rows of the flight stream; other rows run to the next newline."""
    payload = _flight_payload(html)
    position = 0
    while position < len(payload):
        head = _ROW_HEAD.match(payload, position)
        if head is not None and head.group(1) is not None:
            start = head.end()
            end = start + int(head.group(1), 16)
            yield payload[start:end].decode("utf-8", errors="replace")
            position = end
            continue
        newline = payload.find(b"\n", position)
        if newline < 0:
            return
        position = newline + 1


def _strings(value: Any, depth: int = 0) -> Iterator[str]:
    if depth > _MAX_JSON_DEPTH:
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item, depth + 1)


def _json_texts(tree: HTMLParser) -> Iterator[str]:
    for script in tree.css(_JSON_SCRIPTS):
        try:
            data = json.loads(script.text(deep=True) or "null")
        except (json.JSONDecodeError, RecursionError):
            continue
        yield from _strings(data)


def embedded_article_html(html: str) -> str | None:
    """The HTML fragment in the page's scripts with the most paragraphs (at least three)."""
    best: str | None = None
    best_paragraphs = _MIN_PARAGRAPHS - 1
    # A fresh parse: the caller's tree has had its scripts pruned by then.
    for text in (*_flight_texts(html), *_json_texts(HTMLParser(html))):
        paragraphs = len(_PARAGRAPH.findall(text))
        if paragraphs > best_paragraphs:
            best, best_paragraphs = text, paragraphs
    return best
