"""Author names: split, stripped of byline words, and validated against junk."""

from __future__ import annotations

import re
from collections.abc import Iterable

from cleaner.noise import noise_data, normalize_text

_ALNUM = re.compile(r"[\W_]+")


def _key(text: str) -> str:
    return _ALNUM.sub("", text.casefold())


def _strip_prefix(name: str) -> str:
    lowered = name.casefold()
    for prefix in noise_data().author_prefixes:
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
    key = _key(name)
    return bool(key) and all(key != _key(site) for site in site_names if site)


def clean_authors(
    raw: Iterable[str], site_names: Iterable[str] = (), *, scraped: bool = False
) -> list[str]:
    """Split "A and B" strings, drop byline words, keep plausible names, in order."""
    sites = [site for site in site_names if site]
    names: list[str] = []
    for value in raw:
        value = _strip_prefix(normalize_text(value))
        for part in noise_data().author_separators.split(value):
            name = _strip_prefix(part.strip(" :,-–—"))
            if is_plausible_name(name, sites, scraped=scraped) and name not in names:
                names.append(name)
    return names
