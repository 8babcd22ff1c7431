"""The lead (standfirst, summary, dek): the paragraph between headline and body.

Pages put it outside the body container, in the article header, under class names
such as "lead", "intro", "summary" or "standfirst" (listed in ``noise.toml`` [lead]).
It is part of the article, so it goes first in the body.
"""

from __future__ import annotations

import re
from functools import cache

from selectolax.lexbor import LexborNode as Node

from cleaner.noise import is_noise_line, noise_data, normalize_text

_MIN_LEAD = 40  # characters; shorter texts near the headline are kickers and labels
_SCOPE_TAGS = frozenset({"article", "main"})
_SCOPE_LEVELS = 3  # without an <article>/<main>, how far above the container to look


@cache
def _hints() -> re.Pattern[str]:
    words = "|".join(map(re.escape, noise_data().lead_hints))
    return re.compile(rf"(?:^|[\s_-])(?:{words})(?:$|[\s_-])", re.IGNORECASE)


def _scope(container: Node) -> Node | None:
    node = container.parent
    while node is not None and node.tag not in {"body", "html"}:
        if node.tag in _SCOPE_TAGS:
            return node
        node = node.parent
    node = container
    for _ in range(_SCOPE_LEVELS):
        if node.parent is None or node.parent.tag in {"body", "html"}:
            break
        node = node.parent
    return node if node.mem_id != container.mem_id else None


def _is_inside(node: Node, ancestor: Node) -> bool:
    parent = node.parent
    while parent is not None:
        if parent.mem_id == ancestor.mem_id:
            return True
        parent = parent.parent
    return False


def lead_blocks(container: Node, title: str | None) -> list[str]:
    """The lead's paragraphs when the page marks one before the body container."""
    scope = _scope(container)
    if scope is None:
        return []
    hints = _hints()
    folded_title = " ".join((title or "").split()).casefold()
    for node in scope.traverse(include_text=False):
        if node.mem_id == container.mem_id:
            return []  # reached the body: no lead before it
        attrs = f"{node.attributes.get('class') or ''} {node.attributes.get('id') or ''}"
        if not hints.search(attrs) or _is_inside(container, node):
            continue
        text = normalize_text(node.text(deep=True, separator=" "))
        if len(text) < _MIN_LEAD or text.casefold() == folded_title or is_noise_line(text):
            continue
        linked = sum(len(a.text(deep=True)) for a in node.css("a"))
        if linked > 0.3 * len(text):
            continue
        paragraphs = [normalize_text(p.text(deep=True)) for p in node.css("p")]
        paragraphs = [p for p in paragraphs if p]
        return paragraphs or [text]
    return []
