"""Reading back the saved records in ``data/clean/``: every article, or one source's or
one columnist's, for the commands that publish them (``scraper feed``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from cleaner import Article
from cleaner.noise import text_key
from scraper.store.records import load_json, record_paths


@dataclass
class Catalog:
    """The readable records under a ``clean/`` folder, and the files that were not."""

    articles: list[Article] = field(default_factory=list)
    unreadable: list[Path] = field(default_factory=list)

    def sources(self) -> list[str]:
        """Every publisher name, sorted."""
        return sorted({article.source for article in self.articles}, key=str.casefold)

    def columnists(self) -> list[str]:
        """Every author name, sorted."""
        names = {name for article in self.articles for name in article.authors}
        return sorted(names, key=str.casefold)

    def select(self, source: str | None = None, columnist: str | None = None) -> list[Article]:
        """The articles of ``source`` and/or by ``columnist`` (names compared without case,
        spaces or punctuation), newest first."""
        chosen = self.articles
        if source is not None:
            chosen = [a for a in chosen if text_key(a.source) == text_key(source)]
        if columnist is not None:
            key = text_key(columnist)
            chosen = [a for a in chosen if any(text_key(name) == key for name in a.authors)]
        return sorted(chosen, key=_newest_first_key, reverse=True)


def _newest_first_key(article: Article) -> tuple[str, str]:
    published = article.published
    day = published.isoformat()[:10] if published is not None else ""
    fetched = article.fetched_at.isoformat() if article.fetched_at is not None else ""
    return (day or fetched[:10], fetched)


def read_catalog(data_dir: Path) -> Catalog:
    """Every record under ``data_dir``'s ``clean/``; a file that does not read or validate
    as an Article is listed in ``unreadable``, never fatal."""
    catalog = Catalog()
    for path in record_paths(data_dir):
        try:
            catalog.articles.append(Article.model_validate(load_json(path)))
        except (OSError, ValueError, ValidationError):
            catalog.unreadable.append(path)
    return catalog
