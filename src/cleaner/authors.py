"""Author names: split, stripped of byline words, and validated against junk."""

from __future__ import annotations

import re
from collections.abc import Iterable
from itertools import islice

from selectolax.lexbor import LexborHTMLParser as HTMLParser
from selectolax.lexbor import LexborNode as Node

from cleaner.noise import noise_data, normalize_text, text_key

_MAX_BYLINE_NODES = 8  # more matches than this are a list of teasers, not a byline
_MAX_BYLINE_NAMES = 4  # more names from one selector: a staff list, not this article's byline
_LABEL_TAGS = "strong, b, dt, th"
_MAX_BYLINE_LINES = 400  # text lines read from the top of the page for a "By Name" line


def strip_byline_prefix(name: str) -> str:
    """``name`` without a leading byline word ("By", "von", …, from noise.toml)."""
    lowered = name.casefold()
    prefixes = noise_data().author_prefixes
    # One C-level test first: it runs on every body line and every line at the top of a
    # page, and almost none starts with a byline word.
    if not lowered.startswith(prefixes):
        return name
    for prefix in prefixes:
        if lowered.startswith(prefix) and (
            not prefix[-1].isalpha() or len(name) == len(prefix) or not name[len(prefix)].isalpha()
        ):
            return name[len(prefix) :].strip(" :,-–—")
    return name


def is_plausible_name(name: str, site_names: Iterable[str] = (), *, scraped: bool = False) -> bool:
    """False for UI strings, e-mails, dates, URLs and the site's own name.

    ``scraped`` names come from page elements rather than structured metadata, and must
    also not read as a phrase (mostly lower-case words, as in an author's bio line).
    """
    data = noise_data()
    if not name or len(name) > data.author_max_chars:
        return False
    if len(name.split()) > data.author_max_words or data.author_junk.search(name):
        return False
    words = name.split()
    if scraped and len(words) > 1 and sum(word[0].islower() for word in words) * 2 > len(words):
        return False  # a phrase ("published every Thursday"), not a name
    key = text_key(name)
    return bool(key) and all(key != text_key(site) for site in site_names if site)


_SENTENCE_END = re.compile(r"([^\W\d_]{3,})[.!?] +[^\W\d_]")


def _reads_as_prose(part: str) -> bool:
    """A piece of a byline that runs past the end of a sentence ("technology. Based in").

    The word before the stop is in lower case: "Prof. Max Muster", "Mrs. Roe" are names.
    """
    return any(match.group(1).islower() for match in _SENTENCE_END.finditer(part))


def clean_authors(
    raw: Iterable[str], site_names: Iterable[str] = (), *, scraped: bool = False
) -> list[str]:
    """Split "A and B" strings, drop byline words, keep plausible names, in order."""
    sites = [site for site in site_names if site]
    names: list[str] = []
    for value in raw:
        value = strip_byline_prefix(normalize_text(value))
        parts = noise_data().author_separators.split(value)
        if scraped and any(_reads_as_prose(part.strip(" :,-–—")) for part in parts):
            continue  # an author's bio split at its commas, not a list of names
        for part in parts:
            name = strip_byline_prefix(part.strip(" :,-–—"))
            if is_plausible_name(name, sites, scraped=scraped) and name not in names:
                names.append(name)
    return names


def _innermost(nodes: list[Node]) -> list[Node]:
    """The nodes that contain none of the others (a byline's name, not its wrapper)."""
    ids = {node.mem_id for node in nodes}
    outer: set[int] = set()
    for node in nodes:
        parent = node.parent
        while parent is not None:
            if parent.mem_id in ids:
                outer.add(parent.mem_id)
            parent = parent.parent
    return [node for node in nodes if node.mem_id not in outer]


def _labelled_value(label: Node) -> str:
    """The text a label introduces: the next cell of a table or list, else the rest of its line."""
    if label.tag in {"dt", "th"}:
        cell = label.next
        while cell is not None and cell.tag not in {"dd", "td"}:
            cell = cell.next
        return cell.text(separator=" ") if cell is not None else ""
    parent = label.parent
    if parent is None:
        return ""
    line = normalize_text(parent.text(separator=" "))
    head = normalize_text(label.text(separator=" "))
    return line[len(head) :] if line.startswith(head) else ""


def byline_authors(tree: HTMLParser, site_names: list[str]) -> list[str]:
    """Author names shown on the page: byline selectors in order, then labelled fields."""
    data = noise_data()
    for selector in data.author_selectors:
        nodes = _innermost(tree.css(selector))[:_MAX_BYLINE_NODES]
        texts = (node.text(separator=" ") for node in nodes)
        names = clean_authors(texts, site_names, scraped=True)
        if 0 < len(names) <= _MAX_BYLINE_NAMES:
            return names
    # "<strong>Author</strong> Jane Roe" in a fact list: the label names the field.
    for label in tree.css(_LABEL_TAGS):
        if normalize_text(label.text()).rstrip(": ").casefold() in data.author_labels:
            names = clean_authors([_labelled_value(label)], site_names, scraped=True)
            if 0 < len(names) <= _MAX_BYLINE_NAMES:
                return names
    return []


def prefixed_byline(tree: HTMLParser, site_names: list[str]) -> list[str]:
    """Names after a visible byline word: "By Jane Roe", or "By" on its own then the name.

    The first line of the page's text that reads so gives the names: a byline without
    a class or link the selectors know.
    """
    body = tree.body
    if body is None:
        return []
    data = noise_data()
    bare = {prefix.rstrip(":") for prefix in data.author_prefixes}
    # Blank lines (most of a page's) normalize to nothing: skipped before normalizing.
    page_lines = body.text(separator="\n").split("\n")
    normalized = map(normalize_text, (line for line in page_lines if line and not line.isspace()))
    lines = list(islice(filter(None, normalized), _MAX_BYLINE_LINES))  # normalized as read
    for index, line in enumerate(lines):
        if len(line) > data.author_max_chars:
            continue
        if line.casefold().rstrip(": ") in bare:
            candidate = lines[index + 1] if index + 1 < len(lines) else ""
        elif strip_byline_prefix(line) != line:
            candidate = strip_byline_prefix(line)
        else:
            continue
        names = clean_authors([candidate], site_names, scraped=True)
        if 0 < len(names) <= _MAX_BYLINE_NAMES and all(name[0].isupper() for name in names):
            return names
    return []
