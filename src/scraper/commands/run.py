"""`scraper run`: the scheduled job over the configured sources."""

from __future__ import annotations

import asyncio
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated

import typer

from scraper.commands.app import DataDirOption, ProxyOption, app, fail
from scraper.commands.exitcodes import ExitCode
from scraper.discovery.sources import load_sources
from scraper.errors import ConfigError, StorageError
from scraper.fetch.http import utc_now
from scraper.jobs.cluster import ClusterUnavailable, DaskNotInstalled, dask_executor, parse_cluster
from scraper.jobs.progress import Reporter, choose_mode, printable
from scraper.jobs.run import dry_run as discover_only
from scraper.jobs.run import run_once, summary_json, summary_text
from scraper.store.lock import LockHeld, RunLock


@app.command()
def run(
    config: Annotated[
        Path, typer.Option("--config", "-c", help="Sources and settings file.")
    ] = Path("sources.toml"),
    source: Annotated[
        list[str] | None,
        typer.Option("--source", "-s", help="Run only this source (repeatable)."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Discover and list URLs; fetch and write nothing.")
    ] = False,
    data_dir: DataDirOption = None,
    proxy: ProxyOption = None,
    wait: Annotated[
        float, typer.Option("--wait", help="Seconds to wait for another run to finish.")
    ] = 0.0,
    log_json: Annotated[
        bool, typer.Option("--log-json", help="Log one JSON object per line on stderr.")
    ] = False,
    cluster: Annotated[
        str | None,
        typer.Option(
            "--cluster",
            help="Fetch and clean on Dask: local, local:N or a scheduler address "
            "(tcp://host:8786). Hosts are sharded across workers; this process writes.",
        ),
    ] = None,
) -> None:
    """Discover new columns on the configured sources, fetch what is new or changed,
    clean, validate and save them under data/clean/.

    Safe under cron: runs never overlap (a killed run's lock is taken over at once),
    records are written atomically, and a killed run is completed by the next one.

    Exit codes: 0 ok, 2 --cluster without the [dask] extra, 10 cannot write,
    11 some sources or pages failed (the rest was saved), 12 could not start
    (bad config, another run holds the lock, or the cluster cannot be reached).
    """
    try:
        loaded = load_sources(config)
        if data_dir is not None or proxy is not None:
            changed = loaded.settings.with_overrides(data_dir=data_dir, proxy=proxy)
            loaded = loaded.model_copy(update={"settings": changed})
        chosen = loaded.select(source or [])
        spec = parse_cluster(cluster) if cluster is not None else None
    except ConfigError as exc:
        fail(ExitCode.CANNOT_START, str(exc))
    settings = loaded.settings
    reporter = Reporter(choose_mode(log_json), clock=utc_now)
    if not chosen:
        typer.echo(f"no enabled sources in {config}: enable one, or try `scraper demo`")
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
                run_once(loaded, chosen, reporter=reporter, clock=utc_now, executor=executor)
            )
    except (LockHeld, ClusterUnavailable) as exc:
        fail(ExitCode.CANNOT_START, str(exc))
    except DaskNotInstalled as exc:
        fail(ExitCode.USAGE, str(exc))
    except StorageError as exc:
        fail(ExitCode.OUTPUT, str(exc))
    reporter.event("run_finished", summary=summary.counts())
    typer.echo(summary_json(summary) if log_json else summary_text(summary, settings.data_dir))
    if not summary.ok:
        raise typer.Exit(int(ExitCode.PARTIAL))
