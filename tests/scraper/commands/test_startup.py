"""A run that never cleans does not pay for the cleaner's extractor at start-up, nor for
the records' models, the site rules, the discovery parsers, or the libraries only
cleaning and reading WARC files need."""

from __future__ import annotations

import subprocess
import sys

import pytest

import cleaner
import cleaner.extraction
import scraper.discovery

# In a fresh interpreter (this one has imported everything already): what the entry
# point imports for `scraper fetch-many`: its module, and through it the run, the
# fetcher, the stores and the cleaning pool.
_PROBE = """
import sys
from scraper.commands.app import _register_commands
_register_commands(["fetch-many", "urls.txt", "--raw-only"])
extractor = ("cleaner.extraction", "cleaner.text", "trafilatura", "htmldate", "py3langid")
# tld only compares sites; warcio (and fsspec with it) only formats and reads records,
# which the WARC writer process does.
unused = ("tld", "warcio", "fsspec")
# A raw-only run saves no record: the records' models and the site rules (pydantic
# schemas, rule files) come with the first page cleaned or rejected. Given its links, it
# discovers nothing: no listing, feed or sitemap parser (lxml, charset detection).
records = ("cleaner.models", "cleaner.rules", "cleaner.pages", "cleaner.noise")
discovery = (
    "scraper.discovery.walk",
    "scraper.discovery.listing",
    "scraper.discovery.feeds",
    "scraper.discovery.sitemaps",
    "lxml",
    "charset_normalizer",
)
names = extractor + unused + records + discovery
print(" ".join(name for name in names if name in sys.modules))
"""


def test_fetch_many_does_not_import_the_extractor_before_a_page_is_cleaned() -> None:
    probe = subprocess.run(
        [sys.executable, "-c", _PROBE],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip() == "", f"imported before any page is cleaned: {probe.stdout}"


def test_the_package_still_gives_the_extract_function_once_its_module_is_imported() -> None:
    # The module the function lives in is imported above, before this lookup: a
    # submodule named `extract` would have replaced the function on the package.
    from cleaner import declared_url, extract, extract_text

    assert extract is cleaner.extraction.extract
    assert declared_url is cleaner.extraction.declared_url
    assert callable(extract_text)
    assert all(hasattr(cleaner, name) for name in cleaner.__all__)


def test_the_packages_give_every_name_they_list_on_first_use() -> None:
    from cleaner import Article, Reject, SiteRules
    from scraper.discovery import Link, discover, parse_sitemap

    assert Article is cleaner.models.Article
    assert Reject is cleaner.models.Reject
    assert SiteRules is cleaner.rules.SiteRules
    assert Link is scraper.discovery.links.Link
    assert discover is scraper.discovery.walk.discover
    assert parse_sitemap is scraper.discovery.sitemaps.parse_sitemap
    assert all(hasattr(scraper.discovery, name) for name in scraper.discovery.__all__)
    with pytest.raises(AttributeError, match="no attribute 'Nothing'"):
        _ = cleaner.Nothing  # type: ignore[attr-defined]
