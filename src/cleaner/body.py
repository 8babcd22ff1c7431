"""Generic main-text extraction on a selectolax tree: pick the container, keep its prose.

A Readability-style score: every paragraph credits its parent fully and its
grandparent by half; containers marked as the article (``<article>``, ``<main>``,
``itemprop=articleBody``, article-body class names) get a bonus, boilerplate class
names a malus, and link-heavy containers are discounted. The winner's paragraphs,
sub-headings, list items, quotes and table rows (a line each, cells joined by " | ") are
kept in order, minus boilerplate inside it.

A paragraph is any run of text between block boundaries: a ``<p>``, but also a ``<div>``,
``<td>`` or list item with no block inside it, and each ``<br>``-separated line of one
(pages built from ``<div>`` and ``<br>`` have no ``<p>`` at all).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import NamedTuple

from selectolax.lexbor import LexborHTMLParser as HTMLParser
from selectolax.lexbor import LexborNode as Node

from cleaner.lead import lead_blocks
from cleaner.noise import BREAK as _BREAK
from cleaner.noise import is_noise_line, is_noise_spaced, noise_data, normalize_text, visible_length

_BLOCKS = "p, h2, h3, h4, h5, h6, li, blockquote, pre, dd, dt, td, th, caption"
_LOOSE_BLOCKS = f"{_BLOCKS}, div, section"  # where the article is written without <p>
# Elements that end a paragraph: an element holding one of these is not a leaf block.
_STRUCTURE = (
    "p, div, section, article, aside, header, main, ul, ol, li, dl, dd, dt, table, tr, td, th,"
    " caption, blockquote, pre, h1, h2, h3, h4, h5, h6"
)
_LOOSE_WRAPPERS = frozenset({"div", "section"})
_LOOSE_PARAGRAPHS = "div, section, td, li, dd"  # leaves of these hold prose too, without <p>
_INLINE = frozenset(
    {"a", "span", "em", "strong", "b", "i", "u", "small", "mark", "abbr", "sup", "sub", "code"}
)
# Where an inline element is running text, whatever its class (a "popup" link in a
# sentence, a "hljs-comment" span in a code listing).
_FLOW = frozenset(
    {"p", "li", "h2", "h3", "h4", "h5", "h6", "blockquote", "td", "dd", "span", "pre", "code"}
)
_CONTAINER_SUFFIXES = ("s", "list", "box", "area", "wrap", "wrapper", "container", "section")
_DISTINCTIVE = 7  # letters; a boilerplate word this long may match inside a class word
_PART = re.compile(r"[a-z0-9]+")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
_HEADINGS = frozenset({"h2", "h3", "h4", "h5", "h6"})
_CELLS = frozenset({"td", "th"})
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
_SHORT_LINE = 60  # characters; a line this short standing alone may be a section's label
_ARTICLE_BONUS = 1.5
_BOILERPLATE_FACTOR = 0.2
_CLIMB_GAIN = 1.3  # an ancestor with this much more prose than the winner is the article
_CLIMB_LEVELS = 4  # how far up wrappers (one paragraph per <div>) are looked through
_LOOSE_RATIO = 2.0  # loose text counts where it is this many times the <p> prose
_LIST_SHARE = 0.5  # link-only lines holding this share of the text: the article is a list
_MAJORITY = 0.5  # an element holding this share of the article's prose is never boilerplate


def _attrs(node: Node) -> str:
    attributes = node.attributes
    return f"{attributes.get('class') or ''} {attributes.get('id') or ''}".lower()


@dataclass(frozen=True)
class _Words:
    """Boilerplate words compiled for `_attr_matches`: set lookups per class part."""

    inside: re.Pattern[str] | None  # long single words, matched inside a part
    parts: frozenset[str]  # single words, and each with a container suffix
    runs: tuple[tuple[int, frozenset[tuple[str, ...]]], ...]  # (size, runs of parts)
    glued: frozenset[str]  # multi-part words written as one ("readmore")


@cache
def _compile_words(words: tuple[str, ...]) -> _Words:
    inside: set[str] = set()
    parts: set[str] = set()
    runs: dict[int, set[tuple[str, ...]]] = {}
    glued: set[str] = set()
    for word in words:
        wanted = tuple(_PART.findall(word.lower()))
        if not wanted:
            continue
        last = [wanted[-1], *(wanted[-1] + suffix for suffix in _CONTAINER_SUFFIXES)]
        if len(wanted) == 1:
            parts.update(last)
            if len(wanted[0]) >= _DISTINCTIVE:
                inside.add(wanted[0])
        else:
            runs.setdefault(len(wanted), set()).update((*wanted[:-1], end) for end in last)
            glued.add("".join(wanted))
    return _Words(
        re.compile("|".join(map(re.escape, sorted(inside)))) if inside else None,
        frozenset(parts),
        tuple((size, frozenset(found)) for size, found in sorted(runs.items())),
        frozenset(glued),
    )


def _attr_matches(attrs: str, words: tuple[str, ...]) -> bool:
    """True when a boilerplate word is a whole word of a class or id value.

    Words, not substrings: "menu" must not hit "menclose" math markup, nor "popup" a
    "popup-link" mid-sentence. A value is split at "-", "_" and camelCase
    ("relatedPosts"); a word matches its own run of parts, or a part that is the word
    plus a container suffix ("comments", "sharebox"). Long single words (7 letters and
    more: "sidebar", "caption") are distinctive enough to match inside a part
    ("imagecaption").
    """
    return any(_value_matches(value, words) for value in attrs.split())


# Class words recur across a site's elements in ever new combinations ("btn btn-share",
# "btn btn-primary"): each word is matched once, whatever it is combined with.
@lru_cache(maxsize=8192)
def _value_matches(value: str, words: tuple[str, ...]) -> bool:
    compiled = _compile_words(words)
    parts = _PART.findall(_CAMEL.sub("-", value).lower())
    if compiled.inside is not None and compiled.inside.search(" ".join(parts)):
        return True
    if any(part in compiled.parts or part in compiled.glued for part in parts):
        return True
    for size, runs in compiled.runs:
        if any(tuple(parts[i : i + size]) in runs for i in range(len(parts) - size + 1)):
            return True
    return False


def _is_boilerplate(node: Node, tokens: Iterable[str]) -> bool:
    return _has_boilerplate_class(node.attributes, tokens)


def _has_boilerplate_class(attributes: Mapping[str, str | None], tokens: Iterable[str]) -> bool:
    attrs = f"{attributes.get('class') or ''} {attributes.get('id') or ''}"
    return bool(attrs.strip()) and _is_boilerplate_attrs(attrs, tuple(tokens))


# A page repeats its class values on many elements (3 in 4 calls hit), and both tests are
# functions of the value alone: the hint search is cached with the word match.
@lru_cache(maxsize=8192)
def _is_boilerplate_attrs(attrs: str, words: tuple[str, ...]) -> bool:
    return not _ARTICLE_HINTS.search(attrs) and _attr_matches(attrs, words)


def linked_chars(root: Node) -> dict[int, int]:
    """Characters of link text in and under every element of ``root`` (by ``mem_id``):
    what ``sum(len(a.text(deep=True)) for a in node.css("a"))`` gives for each ``node``.

    One pass over the links instead of one selector run under each element asked about
    (a paragraph, a candidate, a line: hundreds a page); valid until the tree changes.
    """
    totals: dict[int, int] = {}
    for link in root.css("a"):  # (a node's css() includes the node itself)
        if length := len(link.text(deep=True)):
            _count_up(totals, link, length)
    return totals


def _count_up(totals: dict[int, int], node: Node | None, length: int) -> None:
    """Add ``length`` to the totals of ``node`` and of every element above it."""
    while node is not None:
        totals[node.mem_id] = totals.get(node.mem_id, 0) + length
        node = node.parent


def _link_density(node: Node, text_length: int, link_chars: Mapping[int, int]) -> float:
    if text_length == 0:
        return 1.0
    return min(1.0, link_chars.get(node.mem_id, 0) / text_length)


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
    """Remove elements that never hold article prose (scripts, forms, navigation, images).

    Every ``<br>`` becomes a break mark in the text, so that lines survive text extraction.
    """
    # A table in a <figure> (block editors wrap every table in one) is article text: the
    # figure goes, the table stays.
    for table in tree.css("figure table"):
        figure = table.parent
        while figure is not None and figure.tag != "figure":
            figure = figure.parent
        if figure is not None:
            figure.unwrap()
    tree.strip_tags(list(noise_data().drop_tags))
    for node in tree.css("br"):
        node.replace_with(_BREAK)


def _non_leaves(root: Node) -> set[int]:
    """Elements that hold a structural element (so their text is not one paragraph)."""
    marked: set[int] = set()
    for node in root.css(_STRUCTURE):
        parent = node.parent
        while parent is not None and parent.mem_id not in marked:
            marked.add(parent.mem_id)
            parent = parent.parent
    return marked


def _paragraphs(
    root: Node, link_chars: Mapping[int, int]
) -> tuple[list[tuple[Node, list[str]]], bool]:
    """Prose paragraphs under ``root``: each element with its ``<br>``-separated lines.

    ``<p>``, ``<pre>`` and ``<blockquote>`` as written, and leaf ``<div>``, ``<td>``, list
    items that are not mostly links: the prose of pages without ``<p>``. The flag says
    whether the loose ones count.
    """
    found: list[tuple[Node, list[str]]] = []
    for node in root.css("p, pre, blockquote"):
        found.append((node, node.text(deep=True).split(_BREAK)))
    written = sum(len(line) for _, lines in found for line in lines if len(line) >= _MIN_PARAGRAPH)
    loose: list[tuple[Node, list[str]]] = []
    non_leaves = _non_leaves(root)
    for node in root.css(_LOOSE_PARAGRAPHS):
        if node.mem_id in non_leaves:
            continue
        text = node.text(deep=True)
        if len(text) < _MIN_PARAGRAPH or _link_density(node, len(text), link_chars) > 0.5:
            continue
        loose.append((node, text.split(_BREAK)))
    # Teasers and captions sit in <div>s on every page: loose text counts only where it
    # outweighs the <p> prose (a page written without <p>).
    unwritten = sum(
        len(line) for _, lines in loose for line in lines if len(line) >= _MIN_PARAGRAPH
    )
    if unwritten > written * _LOOSE_RATIO:
        return [*found, *loose], True
    return found, False


def _score_containers(
    paragraphs: list[tuple[Node, list[str]]],
) -> tuple[dict[int, float], dict[int, Node]]:
    scores: dict[int, float] = {}
    nodes: dict[int, Node] = {}
    for paragraph, lines in paragraphs:
        points = 0.0
        for text in lines:
            length = len(text.strip())
            if length >= _MIN_PARAGRAPH:
                points += 1.0 + text.count(",") + text.count("،") + text.count("、")
                points += min(length / 100, 3)
        if not points:
            continue
        parent = paragraph.parent
        for share in (1.0, 0.5):
            if parent is None or parent.tag in {"html", "#document"}:
                break
            key = parent.mem_id
            nodes[key] = parent
            scores[key] = scores.get(key, 0.0) + points * share
            parent = parent.parent
    return scores, nodes


def _prose_lengths(
    paragraphs: list[tuple[Node, list[str]]], link_chars: Mapping[int, int]
) -> dict[int, int]:
    """Characters of prose paragraphs in and under every element (keyed by ``mem_id``)."""
    totals: dict[int, int] = {}
    for paragraph, lines in paragraphs:
        length = sum(len(line.strip()) for line in lines if len(line.strip()) >= _MIN_PARAGRAPH)
        if not length or (
            paragraph.tag == "p"
            and _link_density(paragraph, sum(map(len, lines)), link_chars) > 0.5
        ):
            continue
        _count_up(totals, paragraph, length)
    return totals


def find_container(tree: HTMLParser) -> Node | None:
    """The element that holds the article text, or None when no prose is found."""
    root = tree.body
    if root is None:
        return None
    link_chars = linked_chars(root)
    found = _find_container(root, _paragraphs(root, link_chars)[0], link_chars)
    return found[0] if found else None


def _find_container(
    root: Node, paragraphs: list[tuple[Node, list[str]]], link_chars: Mapping[int, int]
) -> tuple[Node, dict[int, int]] | None:
    scores, nodes = _score_containers(paragraphs)
    if not scores:
        return None
    tokens = noise_data().boilerplate
    best: Node | None = None
    best_score = 0.0
    for key, raw in scores.items():
        candidate = nodes[key]
        bound = raw * _weight(candidate, tokens)
        # The link discount only lowers the score: a candidate whose bound cannot beat
        # the best so far is not read (its text is the page's costliest read).
        if bound <= best_score:
            continue
        text_length = len(candidate.text(deep=True))
        score = bound * (1.0 - _link_density(candidate, text_length, link_chars))
        if score > best_score:
            best, best_score = candidate, score
    if best is None:
        return None
    # Articles split into wrappers (one paragraph per <div>, text / ad slot / text): climb
    # while an ancestor a few levels up holds clearly more prose than the winner.
    prose = _prose_lengths(paragraphs, link_chars)
    while True:
        target: Node | None = None
        node: Node | None = best.parent
        levels = 0
        while levels < _CLIMB_LEVELS:
            if node is None or node.tag in {"body", "html"} or _is_boilerplate(node, tokens):
                break
            if prose.get(node.mem_id, 0) >= prose.get(best.mem_id, 0) * _CLIMB_GAIN:
                target = node
            # A wrapper around one element only (page builders nest five of them around
            # each section) is not a level: it adds no text of its own.
            levels += _has_siblings(node)
            node = node.parent
        if target is None:
            break
        best = target
    # An endless-scroll page: the container holds several whole articles, each under its
    # own <h1>; the page's own article comes first.
    stories = [node for node in best.css("article") if len(node.css("h1")) == 1]
    return (stories[0] if len(stories) >= 2 else best), prose


def _has_siblings(node: Node) -> bool:
    """True when ``node`` holds more than one element."""
    children = node.iter(include_text=False)
    return next(children, None) is not None and next(children, None) is not None


def _is_hidden(node: Node) -> bool:
    return _hides(node.attributes)


def _hides(attributes: Mapping[str, str | None]) -> bool:
    if "hidden" in attributes or attributes.get("aria-hidden") == "true":
        return True
    style = attributes.get("style")
    if style:
        style = style.replace(" ", "").lower()
        if "display:none" in style or "visibility:hidden" in style:
            return True
    classes = attributes.get("class")
    return bool(classes) and _hiding_classes(classes)


@lru_cache(maxsize=4096)
def _hiding_classes(classes: str) -> bool:
    # Asked for every element of the container; a page repeats its class values.
    return not _HIDDEN_CLASSES.isdisjoint(classes.lower().split())


def _remove_boilerplate(container: Node, prose: dict[int, int]) -> None:
    """Delete hidden and boilerplate-classed elements inside the container.

    Not an inline element in running text (a "popup" link mid-sentence), and not an
    element holding most of the article's prose: that is the article, whatever its class
    says ("read-more" on the hidden rest of a long piece).
    """
    tokens = noise_data().boilerplate
    majority = prose.get(container.mem_id, 0) * _MAJORITY
    for node in container.css("[class], [id], [hidden], [aria-hidden], [style]"):
        if node.mem_id == container.mem_id:
            continue
        attributes = node.attributes  # built anew on each access: once per element here
        if not (_hides(attributes) or _has_boilerplate_class(attributes, tokens)):
            continue
        parent = node.parent
        if node.tag in _INLINE and parent is not None and parent.tag in _FLOW:
            continue
        if majority and prose.get(node.mem_id, 0) > majority:
            continue
        node.decompose()


def _inside_link(node: Node, container: Node) -> bool:
    """True for a block wrapped in a link: a teaser card, not article text."""
    parent = node.parent
    while parent is not None and parent.mem_id != container.mem_id:
        if parent.tag == "a":
            return True
        parent = parent.parent
    return False


def _leaf_blocks(container: Node, loose: bool = False) -> list[Node]:
    """Block elements with no block element inside them, in document order."""
    # Includes the container itself when it is a block.
    blocks = container.css(_LOOSE_BLOCKS if loose else _BLOCKS)
    ids = {node.mem_id for node in blocks}
    outer: set[int] = set()
    for node in blocks:
        parent = node.parent
        while parent is not None and parent.mem_id not in outer:
            if parent.mem_id in ids:
                outer.add(parent.mem_id)
            if parent.mem_id == container.mem_id:
                break
            parent = parent.parent
    return [node for node in blocks if node.mem_id not in outer]


def _flat_row(node: Node, leaf_ids: set[int], seen: dict[int, list[Node] | None]) -> Node | None:
    """The table row of a cell whose row holds two or more cells, all leaves, else None.

    Such a row is one line of the body, its cells joined: a cell alone is a value ("30 %",
    "Rest") that the noise and repeat filters would take for interface. `seen` keeps each
    row's answer (its cells, or None), so a wide row is walked once, not once per cell.
    """
    if node.tag not in _CELLS:
        return None
    row = node.parent
    if row is None or row.tag != "tr":
        return None
    if row.mem_id not in seen:
        cells = [cell for cell in row.iter() if cell.tag in _CELLS]
        # A one-cell row is a layout table's: its lines stay lines.
        flat = len(cells) >= 2 and all(cell.mem_id in leaf_ids for cell in cells)
        seen[row.mem_id] = cells if flat else None
    return row if seen[row.mem_id] is not None else None


def _cell_text(cell: Node) -> str:
    return normalize_text(cell.text(deep=True, separator="").replace(_BREAK, " "))


class _Block(NamedTuple):
    """One line of the container's text, with what the filters below need to know."""

    text: str
    linked: bool  # a link-only line
    row: bool  # a table row (its values may repeat)
    level: int  # a sub-heading's level (2 for <h2> ... 6), 0 for other text


def container_blocks(
    container: Node,
    title: str | None = None,
    prose: dict[int, int] | None = None,
    loose: bool = False,
) -> list[str]:
    """The article's paragraphs and sub-headings from its container, noise removed."""
    _remove_boilerplate(container, prose or {})
    link_chars = linked_chars(container)  # counted after the removal: links went with it
    folded_title = " ".join((title or "").split()).casefold()
    blocks: list[_Block] = []
    leaves = _leaf_blocks(container, loose)
    leaf_ids = {node.mem_id for node in leaves}
    row_cells: dict[int, list[Node] | None] = {}
    rows_done: set[int] = set()
    for node in leaves:
        if _inside_link(node, container):
            continue
        row = _flat_row(node, leaf_ids, row_cells)
        if row is not None:
            if row.mem_id not in rows_done:
                rows_done.add(row.mem_id)
                cells = [_cell_text(cell) for cell in row_cells[row.mem_id] or ()]
                text = " | ".join(cell for cell in cells if cell)
                if text:
                    linked_row = _link_density(row, len(text), link_chars) > 0.6
                    blocks.append(_Block(text, linked_row, True, 0))
            continue
        lines = [normalize_text(line) for line in node.text(deep=True, separator="").split(_BREAK)]
        if node.tag in _LOOSE_WRAPPERS and len(lines) == 1 and len(lines[0]) < _MIN_PARAGRAPH:
            continue  # a label, date or counter in a <div> of its own
        density = _link_density(node, sum(map(len, lines)), link_chars)
        level = int(node.tag[1]) if node.tag in _HEADINGS else 0
        for text in lines:
            if not text or is_noise_spaced(text):
                continue
            if level and text.casefold() == folded_title:
                continue
            linked = (node.tag == "li" and density > 0.5) or (
                not level and len(text) < 200 and density > 0.6
            )
            blocks.append(_Block(text, linked, False, level))
    blocks = _without_closing_sections(blocks)
    # Link-only lines are related articles and tags, unless they are much of the text (the
    # article is a list of links): then only those before or after all prose go.
    prose_at = [index for index, block in enumerate(blocks) if not block.linked]
    if not prose_at:
        return []
    links = sum(len(block.text) for block in blocks if block.linked)
    if links >= _LIST_SHARE * sum(len(block.text) for block in blocks):
        kept = blocks[prose_at[0] : prose_at[-1] + 1]
    else:
        kept = [block for block in blocks if not block.linked]
    # A short block printed twice in one container is interface (offers, prompts): the
    # first copy stays, the repeats go. Not a table row: tables repeat their values.
    seen: set[str] = set()
    unique = []
    for block in kept:
        if len(block.text) < _MAX_REPEATED and block.text in seen and not block.row:
            continue
        seen.add(block.text)
        unique.append(block.text)
    return unique


def _without_closing_sections(blocks: list[_Block]) -> list[_Block]:
    """``blocks`` without the sections that a closing heading opens.

    "Related articles", "More from Jane Roe", "Latest news" (noise.toml's closing
    headings), as a sub-heading or a short line of its own, open a list of other pages
    inside the article's container whose links are often gone by now (a card's title is
    a heading, its teaser a paragraph). The section runs to the next sub-heading of its
    own level or above (any, after a closing line): an "Also read" box in the middle of a
    piece ends where the piece goes on.
    """
    closing = noise_data().closing
    kept: list[_Block] = []
    cut_above = 0  # while cutting, the deepest heading level that ends the section
    for block in blocks:
        if (block.level or len(block.text) < _SHORT_LINE) and closing.match(block.text):
            cut_above = block.level or 6
            continue
        if block.level and block.level <= cut_above:
            cut_above = 0
        if not cut_above:
            kept.append(block)
    return kept


def _lead_blocks(container: Node, title: str | None, link_chars: Mapping[int, int]) -> list[str]:
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
        texts = [
            normalize_text(p.text(deep=True, separator="").replace(_BREAK, " ")) for p in paragraphs
        ]
        texts = [t for t in texts if len(t) >= _MIN_PARAGRAPH and not is_noise_line(t)]
        if texts and _link_density(sibling, sum(map(len, texts)), link_chars) < 0.3:
            leads.append(texts)
        sibling = sibling.prev
    return [text for group in reversed(leads) for text in group if text != title]


@dataclass(frozen=True)
class ScoredBody:
    """The scorer's answer and how sure it can be.

    ``prose_share`` is the container's share of the page's paragraph prose;
    ``text_share`` the answer's share of all the page's visible text, which catches
    what the first misses: an article written outside paragraphs (text runs between
    ``<div>``s) next to one short ``<p>`` that then holds "all" the prose.
    """

    text: str
    prose_share: float
    text_share: float = 1.0


def extract_body(tree: HTMLParser, title: str | None = None) -> ScoredBody | None:
    """The main text of a page as paragraphs separated by a blank line, or None.

    Prunes ``tree`` in place: read everything else from it first.
    """
    prune(tree)
    root = tree.body
    if root is None:
        return None
    link_chars = linked_chars(root)
    paragraphs, loose = _paragraphs(root, link_chars)
    found = _find_container(root, paragraphs, link_chars)
    if found is None:
        return None
    container, prose = found
    share = prose.get(container.mem_id, 0) / max(1, prose.get(root.mem_id, 0))
    # Read before the container's boilerplate goes: the page as pruned, spaces not counted.
    page_chars = visible_length(root.text(deep=True))
    lead = lead_blocks(container, title)
    leads = _lead_blocks(container, title, link_chars)  # before container_blocks changes the tree
    blocks = [*leads, *container_blocks(container, title, prose, loose)]
    blocks = [*(text for text in lead if text not in blocks), *blocks]
    text = "\n\n".join(blocks)
    if not text:
        return None
    return ScoredBody(text, share, visible_length(text) / max(1, page_chars))
