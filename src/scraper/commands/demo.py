"""`scraper demo`: the whole pipeline against a bundled example web on 127.0.0.1."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from scraper.commands.app import app, fail
from scraper.commands.exitcodes import ExitCode
from scraper.demo.server import DemoServer
from scraper.demo.site import DemoSite
from scraper.discovery.sources import Source, SourcesConfig
from scraper.errors import StorageError
from scraper.fetch.http import utc_now
from scraper.jobs.progress import Reporter, choose_mode
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


@app.command()
def demo(
    data_dir: Annotated[
        Path, typer.Option("--data-dir", help="Where the demo's records go.")
    ] = Path("demo-data"),
    port: Annotated[
        int,
        typer.Option(
            "--port", help="Port of the demo web; keep it fixed so a second run is incremental."
        ),
    ] = 8765,
    log_json: Annotated[
        bool, typer.Option("--log-json", help="Log one JSON object per line on stderr.")
    ] = False,
) -> None:
    """Serve a bundled example web on 127.0.0.1 and run the whole pipeline against it.

    No network access or configuration needed: a QOSHE-shaped aggregator (columnist and
    newspaper pages, teasers cut with "........" and credited "© Publisher" in the real
    site's chrome), a publisher's RSS feed and another's gzip'd sitemap. Run it twice to
    see an incremental run (conditional requests, nothing rewritten); then follow a
    columnist with `scraper feed --columnist "Jo Parker" --data-dir demo-data`.
    """
    reporter = Reporter(choose_mode(log_json), clock=utc_now)
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
        except LockHeld as exc:
            fail(ExitCode.CANNOT_START, str(exc))
        except StorageError as exc:
            fail(ExitCode.OUTPUT, str(exc))
    typer.echo(summary_text(summary, data_dir))
    for path in sorted((data_dir / "clean").rglob("*.json")):
        typer.echo(f"  {path}")
    if not summary.ok:
        raise typer.Exit(int(ExitCode.PARTIAL))
