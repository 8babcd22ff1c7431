"""The headline: a cascade of witnesses, with the site-name suffix stripped."""

from __future__ import annotations

import re
from collections.abc import Iterable

from cleaner.dates import is_bare_date
from cleaner.noise import normalize_text, text_key

# Spaced separators ("Title | Site", "Title * Site", "Post • Blog"), and bars that need no
# spaces; Korean titles use the letter ㅣ (U+3163, never part of a composed syllable) as a
# bar. A match starts only where a space run starts, (?<!\s): tried from inside a long run
# of spaces that no separator follows, each start would rescan the run (quadratic in its
# length).
_SEPARATORS = re.compile(r"(?<!\s)\s+[|\-–—:·•»/*]\s+|(?:(?<!\s)\s+)?[|»：｜ㅣ]\s*")
_TRAILING_SEPARATOR = re.compile(r"(?<!\s)\s*[|\-–—:·•»/*：｜ㅣ]\s*$")
_NUMERIC_DATE = re.compile(r"^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}$")


def _separators(title: str) -> list[re.Match[str]]:
    """Separator runs in ``title``, minus a » that closes a «quote» (German, Swiss titles)."""
    found = []
    opened = closed = counted_to = 0  # quote marks before counted_to, counted once
    for match in _SEPARATORS.finditer(title):
        between = title[counted_to : match.start()]
        opened, closed = opened + between.count("«"), closed + between.count("»")
        counted_to = match.start()
        if "»" in match.group(0) and opened > closed:
            continue
        found.append(match)
    return found


def _host_labels(host: str) -> list[str]:
    """The distinctive labels of a host name ("www.example-news.co.uk" -> ["examplenews"])."""
    labels = [label for label in host.lower().split(".") if label and label != "www"]
    if len(labels) > 1:
        labels = labels[:-1]  # the top-level domain names nobody
    return [text_key(label) for label in labels if len(label) > 1 and label not in {"co", "com"}]


def _is_site_like(segment: str, site_keys: set[str], host_labels: list[str]) -> bool:
    key = text_key(segment)
    if not key:
        return True  # a bare separator run
    if key in site_keys or _NUMERIC_DATE.match(segment.strip()):
        return True
    if any(len(site) >= 3 and key.startswith(site) for site in site_keys):
        return True  # "NTV Haber" for the site "NTV"
    for label in host_labels:
        if key == label or (len(label) >= 4 and label in key) or (len(key) >= 4 and key in label):
            return True
    return False


def strip_site_name(title: str, site_names: Iterable[str], host: str = "") -> str:
    """Drop "| Site Name" (and anything after it) or a leading "Site Name |" from a title."""
    site_keys = {text_key(name) for name in site_names if name and text_key(name)}
    labels = _host_labels(host)
    separators = _separators(title)
    if not separators:
        return title
    starts = [0, *(m.end() for m in separators)]
    ends = [*(m.start() for m in separators), len(title)]
    segments = [title[start:end] for start, end in zip(starts, ends, strict=True)]
    for index in range(1, len(segments)):
        if _is_site_like(segments[index], site_keys, labels):
            return title[: separators[index - 1].start()].strip()
    if _is_site_like(segments[0], site_keys, labels):
        return title[separators[0].end() :].strip()
    return title


def strip_section(title: str, sections: Iterable[str]) -> str:
    """Drop a trailing "- Section" naming the article's section, spaced or not ("Title-News")."""
    for section in sections:
        if len(title) > len(section) and title.endswith(section):
            separator = _TRAILING_SEPARATOR.search(title[: -len(section)])
            if separator is not None and separator.start() > 0:
                return title[: separator.start()].rstrip()
    return title


def choose_title(
    candidates: Iterable[str | None],
    site_names: Iterable[str],
    host: str = "",
    sections: Iterable[str] = (),
) -> str | None:
    """The first candidate that is not empty and not just the site's name, suffix stripped."""
    names = [name for name in site_names if name]
    section_names = [section for section in sections if section]
    site_keys = {text_key(name) for name in names}
    texts = [normalize_text(candidate) for candidate in candidates if candidate]
    for text in texts:
        if not text or text_key(text) in site_keys:
            continue
        stripped = strip_section(strip_site_name(text, names, host), section_names)
        if stripped and not is_bare_date(stripped):
            return _confirmed_prefix(stripped, texts)
    return None


def witness_order(
    og_title: str | None,
    ld_title: str | None,
    h1: str | None,
    title_tag: str | None,
    site_names: Iterable[str],
    host: str = "",
    sections: Iterable[str] = (),
) -> list[str | None]:
    """The title witnesses in order of trust: og:title, the JSON-LD headline, the first
    ``<h1>``, ``<title>``; the ``<h1>`` first when og:title only repeats ``<title>``
    and the JSON-LD headline is the ``<h1>``'s text.

    An SEO plugin copies the document title into og:title: a headline that the page
    shows and that its article data states outweighs that copy.
    """
    usual = [og_title, ld_title, h1, title_tag]
    if not (og_title and ld_title and h1 and title_tag):
        return usual
    names, section_names = list(site_names), list(sections)

    def key(witness: str) -> str:
        return text_key(choose_title([witness], names, host, section_names) or "")

    # Cheapest test first: on most news pages og:title is not the document title's copy.
    og = key(og_title)
    if not og or og != key(title_tag):
        return usual
    heading = key(h1)
    if heading and heading != og and heading == key(ld_title):
        return [h1, og_title, ld_title, title_tag]
    return usual


def _confirmed_prefix(title: str, witnesses: list[str]) -> str:
    """The title cut before a trailing " - Segment" when another witness ends there too.

    "Headline - National" in og:title with "Headline" as h1 or JSON-LD headline: the
    segment only one witness has is a section or kicker, not part of the headline.
    """
    # A head's key is a prefix of the title's key (text_key works character by character),
    # so each head is known by its key's length, grown segment by segment: a title of
    # thousands of separators costs one pass, not one key per head.
    title_key = text_key(title)
    lengths = {len(key) for key in map(text_key, witnesses) if title_key.startswith(key)}
    position = key_length = 0
    for separator in _separators(title):
        key_length += len(text_key(title[position : separator.start()]))
        position = separator.start()
        if key_length in lengths and (head := title[:position].strip()):
            return head
    return title
