"""`scraper run`: the scheduled job over the configured sources."""

from __future__ import annotations

import asyncio
import os
from contextlib import nullcontext
from typing import Annotated

import typer

from scraper.clock import utc_now
from scraper.commands.app import (
    DEFAULT_CONFIG,
    Options,
    RawOnlyOption,
    WorkersOption,
    app,
    fail,
    shared,
)
from scraper.commands.demo import DEMO_DATA, DEMO_PORT, run_demo
from scraper.commands.exitcodes import ExitCode
from scraper.discovery.sources import load_sources
from scraper.errors import ConfigError, StorageError
from scraper.jobs.cleaning import CleaningUnavailable
from scraper.jobs.cluster import ClusterUnavailable, DaskNotInstalled, dask_executor, parse_cluster
from scraper.jobs.progress import printable
from scraper.jobs.run import dry_run as discover_only
from scraper.jobs.run import run_once, summary_text
from scraper.store.lock import LockHeld, RunLock


@app.command()
@shared("logging", "settings", "network")
def run(
    source: Annotated[
        list[str] | None,
        typer.Option("--source", metavar="NAME", help="Run only this source (repeatable)."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Discover and list URLs; fetch and write nothing.")
    ] = False,
    wait: Annotated[
        float, typer.Option("--wait", help="Seconds to wait for another run to finish.")
    ] = 0.0,
    demo_if_empty: Annotated[
        bool,
        typer.Option(
            "--demo-if-empty",
            help="With no enabled source, run the offline demo instead (what `make run` "
            "does on a fresh checkout).",
        ),
    ] = False,
    cluster: Annotated[
        str | None,
        typer.Option(
            "--cluster",
            help="Fetch and clean on Dask: local, local:N or a scheduler address "
            "(tcp://host:8786). Hosts are sharded across workers; this process writes.",
        ),
    ] = None,
    workers: WorkersOption = None,
    raw_only: RawOnlyOption = False,
    *,
    options: Options,
) -> None:
    """Discover new columns on the configured sources, fetch what is new or changed,
    clean, validate and save them under data/clean/.

    Safe under cron: runs never overlap (a killed run's lock is taken over at once),
    records are written atomically as each page is cleaned, and a killed or interrupted
    run is completed by the next one.

    Exit codes: 0 ok (pages that are gone, 404/410, or not articles are counted in the
    summary, not failures), 2 --cluster without the [dask] extra, 10 cannot write,
    11 a source or a page failed otherwise (the rest was saved), 12 could not start
    (bad config, another run holds the lock, or the cluster cannot be reached),
    130 interrupted by Ctrl-C or SIGTERM (what was cleaned is saved).
    """
    config = options.config or DEFAULT_CONFIG
    try:
        loaded = load_sources(config)
        loaded = loaded.model_copy(update={"settings": options.settings(loaded.settings)})
        chosen = loaded.select(source or [])
        spec = parse_cluster(cluster) if cluster is not None else None
    except ConfigError as exc:
        fail(ExitCode.CANNOT_START, str(exc))
    settings = loaded.settings
    reporter = options.reporter()
    if not chosen:
        typer.echo(f"no enabled sources in {config}: enable one, or try `scraper demo`")
        if demo_if_empty:
            port = int(os.environ.get("SCRAPER_DEMO_PORT", DEMO_PORT))
            typer.echo("running the demo instead, on a bundled example web (no network):")
            run_demo(DEMO_DATA, port, options)
            typer.echo(
                f"\nAll records as one JSON Lines file: scraper export --data-dir {DEMO_DATA} "
                f"-o records.jsonl\nTo scrape real sites: set `enabled = true` on a source in "
                f"{config} (or add your own), check it with `scraper run --dry-run`, then run "
                "again."
            )
        return
    if dry_run:
        links, errors = asyncio.run(discover_only(loaded, chosen, reporter=reporter, clock=utc_now))
        for link, known in links:
            date = link.published or "-"
            line = f"{'known' if known else 'new  '}  {date:<25}  {link.source}  {link.url}"
            typer.echo(printable(line))
        typer.echo(f"dry run: {len(links)} article URLs, {sum(not k for _, k in links)} new")
        if errors:
            raise typer.Exit(int(ExitCode.PARTIAL))
        return
    try:
        with (
            RunLock(settings.data_dir / "run.lock", wait=wait),
            reporter,
            dask_executor(spec) if spec is not None else nullcontext() as executor,
        ):
            summary = asyncio.run(
                run_once(
                    loaded,
                    chosen,
                    reporter=reporter,
                    clock=utc_now,
                    executor=executor,
                    workers=workers,
                    raw_only=raw_only,
                )
            )
    except (LockHeld, ClusterUnavailable, CleaningUnavailable) as exc:
        fail(ExitCode.CANNOT_START, str(exc))
    except DaskNotInstalled as exc:
        fail(ExitCode.USAGE, str(exc))
    except StorageError as exc:
        fail(ExitCode.OUTPUT, str(exc))
    options.summary("run", summary.counts(), summary_text(summary, settings.data_dir))
    if summary.interrupted:
        raise typer.Exit(int(ExitCode.INTERRUPTED))
    if not summary.ok:
        raise typer.Exit(int(ExitCode.PARTIAL))
