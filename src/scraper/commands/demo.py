"""`scraper demo`: the whole pipeline against a bundled example web on 127.0.0.1."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from scraper.clock import utc_now
from scraper.commands.app import Options, app, fail, shared
from scraper.commands.exitcodes import ExitCode
from scraper.demo.server import DemoServer
from scraper.demo.site import DemoSite
from scraper.discovery.sources import Source, SourcesConfig
from scraper.errors import StorageError
from scraper.jobs.cleaning import CleaningUnavailable
from scraper.jobs.run import run_once, summary_text
from scraper.settings import Politeness, Settings
from scraper.store.lock import LockHeld, RunLock


def demo_config(site: DemoSite, data_dir: Path) -> SourcesConfig:
    """Sources for the demo web: an aggregator's listings, a feed and a sitemap."""
    settings = Settings(
        data_dir=data_dir,
        # The demo server is on loopback, and we are its only client.
        allow_private_addresses=True,
        politeness=Politeness(delay=0.05),
    )
    listings = [site.url(site.listing_path(key)) for key in site.columnists]
    listings += [
        site.url(site.newspaper_path(key))
        for key, publisher in site.publishers.items()
        if publisher.get("aggregated", False)
    ]
    return SourcesConfig(
        settings=settings,
        sources=[
            Source(name="demo-aggregator", kind="aggregator", urls=listings, listing="qoshe"),
            Source(name="demo-feed", kind="feed", urls=[site.url("/lakeside/feed.xml")]),
            Source(name="demo-sitemap", kind="sitemap", urls=[site.url("/ledger/sitemap.xml")]),
        ],
    )


DEMO_DATA = Path("demo-data")
# Fixed, so that a second run sees the same URLs and is incremental.
DEMO_PORT = 8765


@app.command()
@shared("logging")
def demo(
    data_dir: Annotated[
        Path, typer.Option("--data-dir", help="Where the demo's records go.")
    ] = DEMO_DATA,
    port: Annotated[
        int,
        typer.Option(
            "--port",
            envvar="SCRAPER_DEMO_PORT",
            help="Port of the demo web; keep it fixed so a second run is incremental.",
        ),
    ] = DEMO_PORT,
    *,
    options: Options,
) -> None:
    """Serve a bundled example web on 127.0.0.1 and run the whole pipeline against it.

    No network access or configuration needed: a QOSHE-shaped aggregator (columnist and
    newspaper pages, teasers cut with "........" and credited "© Publisher" in the real
    site's chrome), a publisher's RSS feed and another's gzip'd sitemap. Run it twice to
    see an incremental run (conditional requests, nothing rewritten); then follow a
    columnist with `scraper feed --columnist "Jo Parker" --data-dir demo-data`.
    """
    run_demo(data_dir, port, options)


def run_demo(data_dir: Path, port: int, options: Options) -> None:
    """The demo: serve the example web, run the pipeline on it, print what was saved."""
    reporter = options.reporter()
    try:
        server = DemoServer(port=port)
    except OSError as exc:
        fail(
            ExitCode.CANNOT_START,
            f"cannot serve the demo on 127.0.0.1:{port} ({exc.strerror}); try --port",
        )
    with server:
        typer.echo(f"demo web serving at {server.base_url}")
        config = demo_config(server.site, data_dir)
        try:
            with RunLock(data_dir / "run.lock"), reporter:
                summary = asyncio.run(
                    run_once(config, config.sources, reporter=reporter, clock=utc_now)
                )
        except (LockHeld, CleaningUnavailable) as exc:
            fail(ExitCode.CANNOT_START, str(exc))
        except StorageError as exc:
            fail(ExitCode.OUTPUT, str(exc))
    text = summary_text(summary, data_dir)
    for path in sorted((data_dir / "clean").rglob("*.json")):
        text += f"\n  {path}"
    options.summary("demo", summary.counts(), text)
    if not summary.ok:
        raise typer.Exit(int(ExitCode.PARTIAL))
