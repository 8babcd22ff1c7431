"""I/O side of the pipeline: fetching, storage, state and the CLI.

``from scraper import Crawler`` is the Python API of the scraping side (see
`scraper.jobs.crawler`); it is imported on first use, so importing any other
module of the package stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Crawler", "__version__"]

if TYPE_CHECKING:
    from scraper.jobs.crawler import Crawler


def __getattr__(name: str) -> Any:
    if name == "Crawler":
        from scraper.jobs.crawler import Crawler

        return Crawler
    raise AttributeError(f"module 'scraper' has no attribute {name!r}")
