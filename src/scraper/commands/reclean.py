"""`scraper reclean [RAW_PATH]`: rebuild clean/ and rejects/ from the raw WARC store."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

from scraper.commands.app import Options, app, fail, shared
from scraper.commands.exitcodes import ExitCode
from scraper.errors import ConfigError, StorageError
from scraper.jobs.cluster import ClusterUnavailable, DaskNotInstalled, dask_executor, parse_cluster
from scraper.jobs.progress import printable
from scraper.jobs.reclean import Reporter, Summary, reclean
from scraper.store.lock import LockHeld, RunLock

_PHASES = {"index": "reading WARC headers", "clean": "cleaning"}
_SHOWN_PROBLEMS = 10  # the first few are enough to act on; the count says the rest


class _Lines:
    """Progress as plain lines (logs, cron mail): at most one line every few seconds."""

    def __init__(self, stream: TextIO, every: float = 5.0) -> None:
        self.stream, self.every = stream, every
        self.total, self.done, self.last = 0, 0, 0.0

    def start(self, phase: str, total: int) -> None:
        self.phase, self.total, self.done, self.last = phase, total, 0, time.monotonic()
        print(f"reclean: {_PHASES[phase]}: {total}", file=self.stream, flush=True)

    def advance(self, phase: str, amount: int) -> None:
        self.done += amount
        now = time.monotonic()
        if self.done >= self.total or now - self.last >= self.every:
            self.last = now
            share = 100 * self.done / self.total if self.total else 100.0
            line = f"reclean: {_PHASES[phase]}: {self.done}/{self.total} ({share:.0f} %)"
            print(line, file=self.stream, flush=True)


class _Bar:
    """Progress as a rich bar on a terminal."""

    def __init__(self, progress: Any) -> None:
        self.progress = progress
        self.tasks: dict[str, Any] = {}

    def start(self, phase: str, total: int) -> None:
        self.tasks[phase] = self.progress.add_task(_PHASES[phase], total=total)

    def advance(self, phase: str, amount: int) -> None:
        self.progress.advance(self.tasks[phase], amount)


def _counts(summary: Summary, where: str) -> dict[str, Any]:
    return {
        "files": summary.files,
        "records": summary.records,
        "discovery": summary.discovery,
        "superseded": summary.superseded,
        "cleaned": summary.cleaned,
        "articles": summary.articles,
        "teasers": summary.teasers,
        "rejects": dict(sorted(summary.rejects.items())),
        "written": summary.written,
        "unchanged": summary.unchanged,
        "removed": summary.removed,
        "errors": len(summary.errors),
        "damaged": len(summary.damaged),
        "unreadable": len(summary.unreadable),
        "seconds": round(summary.seconds, 2),
        "where": where,
    }


def _report(summary: Summary, where: str, options: Options) -> None:
    rejects = ", ".join(f"{reason} {count}" for reason, count in sorted(summary.rejects.items()))
    lines = [
        f"records read: {summary.records} responses in {summary.files} WARC files "
        f"({summary.superseded} superseded by a later fetch of the same URL); "
        f"{summary.discovery} robots.txt, feed, sitemap and listing responses skipped",
        f"articles: {summary.articles} (teasers settled into their originals: {summary.teasers})",
        f"rejects: {sum(summary.rejects.values())}" + (f" ({rejects})" if rejects else ""),
        f"files written: {summary.written}, unchanged: {summary.unchanged}, "
        f"stale removed: {summary.removed}",
        f"errors: {len(summary.errors)}, damaged files: "
        f"{len(summary.damaged) + len(summary.unreadable)}",
        f"time: {summary.seconds:.1f} s, {summary.pages_per_second:.0f} pages/s ({where})",
    ]
    options.summary("reclean", _counts(summary, where), "\n".join(lines))
    for label, problems in (
        ("warning", summary.damaged),
        ("error", summary.unreadable),
        ("error", summary.errors),
    ):
        for problem in problems[:_SHOWN_PROBLEMS]:
            typer.echo(f"scraper: {label}: {printable(problem)}", err=True)
        if len(problems) > _SHOWN_PROBLEMS:
            typer.echo(
                f"scraper: {label}: ... and {len(problems) - _SHOWN_PROBLEMS} more", err=True
            )


def _run(
    raw: Path, data_dir: Path, cluster: str | None, prune: bool, reporter: Reporter | None
) -> Summary:
    if cluster is None:
        return reclean(raw, data_dir, prune=prune, reporter=reporter)
    with dask_executor(parse_cluster(cluster)) as executor:
        return reclean(raw, data_dir, executor=executor, prune=prune, reporter=reporter)


@app.command(name="reclean")
@shared("logging", "settings")
def reclean_command(
    raw_path: Annotated[
        Path | None,
        typer.Argument(help="A WARC file or a folder of them. [default: <data-dir>/raw]"),
    ] = None,
    cluster: Annotated[
        str | None,
        typer.Option(
            "--cluster",
            help="Run on Dask: local, local:N (N worker processes here) or a scheduler "
            "address such as tcp://scheduler:8786. Needs the [dask] extra.",
        ),
    ] = None,
    prune: Annotated[
        bool | None,
        typer.Option(
            "--prune/--no-prune",
            help="Remove records the raw store no longer produces. "
            "[default: only when RAW_PATH is <data-dir>/raw]",
        ),
    ] = None,
    *,
    options: Options,
) -> None:
    """Re-run the cleaner over every stored response and rebuild data/clean and data/rejects.

    When a URL was fetched several times, the latest fetch wins. Output is the same with
    or without --cluster.

    Exit codes: 0 ok, 2 bad arguments or --cluster, 10 cannot write a record,
    11 partial (some WARC files or records unreadable, or pages failed to clean),
    12 another run holds the data folder's lock, or the cluster cannot be reached.
    """
    settings = options.settings()
    raw = raw_path if raw_path is not None else settings.data_dir / "raw"
    if not raw.exists():
        fail(ExitCode.USAGE, f"no such file or folder: {raw}")
    if prune is None:
        # A sub-folder or a single file holds only part of the store: pruning would delete
        # every record that came from the rest of it.
        prune = raw.resolve() == (settings.data_dir / "raw").resolve()
    try:
        if cluster is not None:
            parse_cluster(cluster)  # a typo fails before anything starts
        # The run lock: a `run` or `fetch-many` writing records meanwhile could see a newer
        # fetch overwritten by the older one this reclean read before it.
        with RunLock(settings.data_dir / "run.lock"):
            if options.quiet or options.log_json:
                summary = _run(raw, settings.data_dir, cluster, prune, None)  # no progress
            elif sys.stderr.isatty():
                from rich.console import Console
                from rich.progress import Progress

                with Progress(console=Console(stderr=True), transient=True) as progress:
                    summary = _run(raw, settings.data_dir, cluster, prune, _Bar(progress))
            else:
                summary = _run(raw, settings.data_dir, cluster, prune, _Lines(sys.stderr))
    except ConfigError as exc:
        fail(ExitCode.USAGE, str(exc))
    except DaskNotInstalled as exc:
        fail(ExitCode.USAGE, str(exc))
    except (ClusterUnavailable, LockHeld) as exc:
        fail(ExitCode.CANNOT_START, str(exc))
    except StorageError as exc:
        fail(ExitCode.OUTPUT, str(exc))
    _report(summary, cluster or "in-process", options)
    if summary.partial:
        raise typer.Exit(int(ExitCode.PARTIAL))
