"""Generic main-text extraction on a selectolax tree: pick the container, keep its prose.

A Readability-style score: every paragraph credits its parent fully and its
grandparent by half; containers marked as the article (``<article>``, ``<main>``,
``itemprop=articleBody``, article-body class names) get a bonus, boilerplate class
names a malus, and link-heavy containers are discounted. The winner's paragraphs,
sub-headings, list items and quotes are kept in order, minus boilerplate inside it.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import cache

from selectolax.lexbor import LexborHTMLParser as HTMLParser
from selectolax.lexbor import LexborNode as Node

from cleaner.lead import lead_blocks
from cleaner.noise import is_noise_line, noise_data, normalize_text

_BLOCKS = "p, h2, h3, h4, h5, h6, li, blockquote, pre, dd"
_HEADINGS = frozenset({"h2", "h3", "h4", "h5", "h6"})
_ARTICLE_HINTS = re.compile(
    r"article[-_]?(?:body|content|text)|story[-_]?(?:body|content|text)|entry[-_]?content|"
    r"post[-_]?(?:body|content)|body[-_]?text|main[-_]?content|rich[-_]?text|articlebody|"
    r"text[-_]?body|content[-_]?body|paywall",
    re.IGNORECASE,
)
_HIDDEN_CLASSES = frozenset({"hidden", "d-none", "is-hidden", "hide", "visually-hidden", "sr-only"})
_MAX_REPEATED = 300  # longer repeated blocks may be a quote the article repeats
_LEAD_SIBLINGS = 3  # how many elements before the container may hold the lead
_MIN_PARAGRAPH = 25  # characters; shorter <p> are labels, dates, counters
_ARTICLE_BONUS = 1.5
_BOILERPLATE_FACTOR = 0.2
_CLIMB_GAIN = 1.3  # an ancestor with this much more prose than the winner is the article
_CLIMB_LEVELS = 4  # how far up wrappers (one paragraph per <div>) are looked through


def _attrs(node: Node) -> str:
    attributes = node.attributes
    return f"{attributes.get('class') or ''} {attributes.get('id') or ''}".lower()


@cache
def _any_of(tokens: tuple[str, ...]) -> re.Pattern[str]:
    """A pattern found wherever one of ``tokens`` is (one C search, not a loop per token)."""
    return re.compile("|".join(map(re.escape, tokens)) if tokens else "(?!)")


def _is_boilerplate(node: Node, tokens: tuple[str, ...]) -> bool:
    attrs = _attrs(node)
    if not attrs.strip() or _ARTICLE_HINTS.search(attrs):
        return False
    return _any_of(tokens).search(attrs) is not None


def _link_density(node: Node, text_length: int) -> float:
    if text_length == 0:
        return 1.0
    linked = sum(len(a.text(deep=True)) for a in node.css("a"))
    return min(1.0, linked / text_length)


def _weight(node: Node, tokens: tuple[str, ...]) -> float:
    tag = node.tag
    attrs = _attrs(node)
    if tag in {"article", "main"} or node.attributes.get("itemprop") == "articleBody":
        return _ARTICLE_BONUS
    if _ARTICLE_HINTS.search(attrs):
        return _ARTICLE_BONUS
    if _is_boilerplate(node, tokens):
        return _BOILERPLATE_FACTOR
    return 1.0


def prune(tree: HTMLParser) -> None:
    """Remove elements that never hold article prose (scripts, forms, navigation, figures)."""
    tree.strip_tags(list(noise_data().drop_tags))


def _score_containers(root: Node) -> tuple[dict[int, float], dict[int, Node]]:
    scores: dict[int, float] = {}
    nodes: dict[int, Node] = {}
    for paragraph in root.css("p, pre, blockquote"):
        text = paragraph.text(deep=True)
        length = len(text.strip())
        if length < _MIN_PARAGRAPH:
            continue
        points = 1.0 + text.count(",") + text.count("،") + text.count("、") + min(length / 100, 3)
        parent = paragraph.parent
        for share in (1.0, 0.5):
            if parent is None or parent.tag in {"html", "#document"}:
                break
            key = parent.mem_id
            nodes[key] = parent
            scores[key] = scores.get(key, 0.0) + points * share
            parent = parent.parent
    return scores, nodes


def _prose_lengths(root: Node) -> dict[int, int]:
    """Characters of prose paragraphs under every element (keyed by ``mem_id``)."""
    totals: dict[int, int] = {}
    for paragraph in root.css("p"):
        text = paragraph.text(deep=True).strip()
        if len(text) < _MIN_PARAGRAPH or _link_density(paragraph, len(text)) > 0.5:
            continue
        node = paragraph.parent
        while node is not None:
            totals[node.mem_id] = totals.get(node.mem_id, 0) + len(text)
            node = node.parent
    return totals


def find_container(tree: HTMLParser, prose: dict[int, int]) -> Node | None:
    """The element that holds the article text, or None when no prose is found.

    ``prose``: `_prose_lengths` of the tree's body.
    """
    root = tree.body
    if root is None:
        return None
    scores, nodes = _score_containers(root)
    if not scores:
        return None
    tokens = noise_data().boilerplate
    best: Node | None = None
    best_score = 0.0
    for key, raw in scores.items():
        candidate = nodes[key]
        text_length = len(candidate.text(deep=True))
        score = raw * _weight(candidate, tokens) * (1.0 - _link_density(candidate, text_length))
        if score > best_score:
            best, best_score = candidate, score
    if best is None:
        return None
    # Articles split into wrappers (one paragraph per <div>, text / ad slot / text): climb
    # while an ancestor a few levels up holds clearly more prose than the winner.
    while True:
        target: Node | None = None
        node: Node | None = best.parent
        for _ in range(_CLIMB_LEVELS):
            if node is None or node.tag in {"body", "html"} or _is_boilerplate(node, tokens):
                break
            if prose.get(node.mem_id, 0) >= prose.get(best.mem_id, 0) * _CLIMB_GAIN:
                target = node
            node = node.parent
        if target is None:
            break
        best = target
    # An endless-scroll page: the container holds several whole articles, each under its
    # own <h1>; the page's own article comes first.
    stories = [node for node in best.css("article") if len(node.css("h1")) == 1]
    return stories[0] if len(stories) >= 2 else best


def _is_hidden(node: Node) -> bool:
    attributes = node.attributes
    if "hidden" in attributes or attributes.get("aria-hidden") == "true":
        return True
    style = (attributes.get("style") or "").replace(" ", "").lower()
    if "display:none" in style or "visibility:hidden" in style:
        return True
    classes = set((attributes.get("class") or "").lower().split())
    return bool(classes & _HIDDEN_CLASSES)


def _remove_boilerplate(container: Node) -> None:
    tokens = noise_data().boilerplate
    for node in container.css("[class], [id], [hidden], [aria-hidden], [style]"):
        if node.mem_id == container.mem_id:
            continue
        if _is_hidden(node) or _is_boilerplate(node, tokens):
            node.decompose()


def _inside_link(node: Node, container: Node) -> bool:
    """True for a block wrapped in a link: a teaser card, not article text."""
    parent = node.parent
    while parent is not None and parent.mem_id != container.mem_id:
        if parent.tag == "a":
            return True
        parent = parent.parent
    return False


def _leaf_blocks(container: Node) -> list[Node]:
    """Block elements with no block element inside them, in document order."""
    blocks = container.css(_BLOCKS)  # includes the container itself when it is a block
    ids = {node.mem_id for node in blocks}
    outer: set[int] = set()
    for node in blocks:
        parent = node.parent
        while parent is not None and parent.mem_id != container.mem_id:
            if parent.mem_id in ids:
                outer.add(parent.mem_id)
            parent = parent.parent
    return [node for node in blocks if node.mem_id not in outer]


def container_blocks(container: Node, title: str | None = None) -> list[str]:
    """The article's paragraphs and sub-headings from its container, noise removed."""
    _remove_boilerplate(container)
    folded_title = " ".join((title or "").split()).casefold()
    blocks: list[str] = []
    for node in _leaf_blocks(container):
        text = normalize_text(node.text(deep=True, separator=""))
        if not text or is_noise_line(text):
            continue
        if node.tag in _HEADINGS and text.casefold() == folded_title:
            continue
        if node.tag == "li" and _link_density(node, len(text)) > 0.5:
            continue  # link lists: related articles, tags
        if node.tag not in _HEADINGS and len(text) < 200 and _link_density(node, len(text)) > 0.6:
            continue
        if _inside_link(node, container):
            continue
        blocks.append(text)
    # A block printed twice in one container is interface (offers, prompts), not prose.
    counts = Counter(block for block in blocks if len(block) < _MAX_REPEATED)
    return [block for block in blocks if counts[block] < 2]


def _lead_blocks(container: Node, title: str | None) -> list[str]:
    """Prose just before the container in the same parent: the lead or standfirst."""
    tokens = noise_data().boilerplate
    leads: list[list[str]] = []
    sibling = container.prev
    for _ in range(_LEAD_SIBLINGS):
        while sibling is not None and sibling.tag in {"-text", "-comment"}:
            sibling = sibling.prev
        if sibling is None or _is_boilerplate(sibling, tokens) or _is_hidden(sibling):
            break
        paragraphs = sibling.css("p") if sibling.tag != "p" else [sibling]
        texts = [normalize_text(p.text(deep=True, separator="")) for p in paragraphs]
        texts = [t for t in texts if len(t) >= _MIN_PARAGRAPH and not is_noise_line(t)]
        if texts and _link_density(sibling, sum(map(len, texts))) < 0.3:
            leads.append(texts)
        sibling = sibling.prev
    return [text for group in reversed(leads) for text in group if text != title]


@dataclass(frozen=True)
class ScoredBody:
    """The scorer's answer and how sure it can be: the container's share of the page's prose."""

    text: str
    prose_share: float


def extract_body(tree: HTMLParser, title: str | None = None) -> ScoredBody | None:
    """The main text of a page as paragraphs separated by a blank line, or None.

    Prunes ``tree`` in place: read everything else from it first.
    """
    prune(tree)
    root = tree.body
    if root is None:
        return None
    prose = _prose_lengths(root)  # once: the container search and the share both read it
    container = find_container(tree, prose)
    if container is None:
        return None
    share = prose.get(container.mem_id, 0) / max(1, prose.get(root.mem_id, 0))
    lead = lead_blocks(container, title)
    blocks = [*_lead_blocks(container, title), *container_blocks(container, title)]
    blocks = [*(text for text in lead if text not in blocks), *blocks]
    text = "\n\n".join(blocks)
    return ScoredBody(text, share) if text else None
