"""One scheduled run: discover, fetch what is new or changed, clean, validate, save.

Crash safety comes from the order of effects: a record file is written atomically
before the state database learns about it, so a run killed at any point leaves
either the old record or the new one, and the next run redoes whatever the state
does not confirm. Re-doing is idempotent: an unchanged record is not rewritten.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cleaner import Article, Reject, RejectReason, canonicalize_url
from scraper.discovery import Link, discover, fetcher_fetch
from scraper.discovery.sources import Source, SourcesConfig
from scraper.errors import FetchError
from scraper.fetch.fetcher import Fetcher, FetchOutcome, FetchRequest
from scraper.fetch.http import HTML_TYPES, Clock, address_policy
from scraper.jobs.cluster import Executor
from scraper.jobs.pipeline import content_hash, reject_for_error, settle_teaser, worth_a_look
from scraper.jobs.progress import Reporter, printable
from scraper.jobs.sharded import Cleaned, fetch_and_judge, fetch_on_cluster
from scraper.store.duplicates import mark_duplicate
from scraper.store.records import (
    clean_path,
    load_json,
    remove_stale_temp_files,
    save_reject,
    to_json,
    write_atomic,
)
from scraper.store.state import StateDB
from scraper.store.warc_writer import WarcWriterProcess


class Outcome(enum.StrEnum):
    """What happened to one discovered URL in a run."""

    NEW = "new"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    REJECTED = "rejected"
    FAILED = "failed"


@dataclass
class RunSummary:
    """The counts a run reports at its end and stores in the state database."""

    discovered: int = 0
    fetched: int = 0
    duplicates: int = 0  # discovered twice (teaser and original): one record
    outcomes: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)  # of rejected and failed URLs
    attention: int = 0  # rejected or failed pages worth a look (`worth_a_look`)
    source_errors: dict[str, list[str]] = field(default_factory=dict)
    fill: dict[str, Counter[str]] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """No source failed to list, and every page that failed is settled: gone (404,
        410), disallowed, or not an article. A cron run exits 0 then."""
        return not self.source_errors and not self.attention

    def counts(self) -> dict[str, object]:
        return {
            "discovered": self.discovered,
            "fetched": self.fetched,
            "duplicates": self.duplicates,
            **{outcome.value: self.outcomes[outcome] for outcome in Outcome},
            "reasons": dict(sorted(self.reasons.items())),
            "needs_attention": self.attention,
            "source_errors": {name: len(errors) for name, errors in self.source_errors.items()},
            "fill_rates": {
                name: {
                    key: round(count / counts["articles"], 3) if key != "articles" else count
                    for key, count in counts.items()
                }
                for name, counts in self.fill.items()
                if counts["articles"]
            },
            "seconds": round(self.seconds, 2),
        }


def _is_transient(error: FetchError) -> bool:
    """Worth trying again next run (the fetcher already retried within this one)."""
    if error.reason in (RejectReason.NETWORK_ERROR, RejectReason.TIMEOUT):
        return True
    return error.reason is RejectReason.HTTP_ERROR and (error.status or 0) in _RETRY_LATER


_RETRY_LATER = frozenset({429, 500, 502, 503, 504})


def _comparable(record: dict[str, object]) -> dict[str, object]:
    """A record without the fields that change on every fetch."""
    return {key: value for key, value in record.items() if key != "fetched_at"}


async def discover_links(
    sources: list[Source], fetcher: Fetcher, reporter: Reporter, clock: Clock
) -> tuple[list[Link], dict[str, list[str]]]:
    """Links from every source, deduplicated by canonical URL in source order, and the
    listing/feed/sitemap URLs that failed, by source name."""
    now = clock()
    policy = address_policy(fetcher.settings)
    results = await asyncio.gather(
        *(
            discover(
                source,
                fetcher_fetch(fetcher, source),
                now=now,
                policy=policy,
                max_bytes=fetcher.settings.limits.max_bytes,
            )
            for source in sources
        )
    )
    links: dict[str, Link] = {}
    errors: dict[str, list[str]] = {}
    for source, result in zip(sources, results, strict=True):
        for url, message in result.errors:
            errors.setdefault(source.name, []).append(f"{url}: {message}")
            reporter.event(
                "source_error", level="warning", source=source.name, url=url, error=message
            )
        for link in result.links:
            links.setdefault(link.url, link)
        reporter.event("discovered", source=source.name, links=len(result.links))
    return list(links.values()), errors


class Run:
    """The state of one run; `execute` does the work."""

    def __init__(
        self,
        config: SourcesConfig,
        sources: list[Source],
        state: StateDB,
        reporter: Reporter,
        clock: Clock,
        executor: Executor | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.executor = executor
        self.config = config
        self.settings = config.settings
        self.data_dir = config.settings.data_dir
        self.sources = sources
        self.by_name = {source.name: source for source in sources}
        self.state = state
        self.reporter = reporter
        self.clock = clock
        self.monotonic = monotonic
        self.summary = RunSummary()

    # -- discovery ---------------------------------------------------------------------------

    async def discover_all(self, fetcher: Fetcher) -> list[Link]:
        links, errors = await discover_links(self.sources, fetcher, self.reporter, self.clock)
        self.summary.source_errors = errors
        self.summary.discovered = len(links)
        return links

    # -- fetching ----------------------------------------------------------------------------

    def _request(self, url: str, source: str | None, referrer: str | None) -> FetchRequest:
        """A request that is conditional only when we still hold the record it produced."""
        known = self._held_record(url)
        politeness = (
            self.by_name[source].effective_politeness(self.settings.politeness)
            if source in self.by_name
            else None
        )
        return FetchRequest(
            url=url,
            source=source,
            politeness=politeness,
            etag=known["etag"] if known else None,
            last_modified=known["last_modified"] if known else None,
            accept=HTML_TYPES,
            referrer=referrer,
        )

    def _held_record(self, url: str) -> dict[str, Any] | None:
        """The state row of ``url`` if the record it produced is still on disk."""
        known = self.state.url_row(url)
        if known is None or not known["record_path"]:
            return None
        return known if (self.data_dir / known["record_path"]).exists() else None

    def _held_hash(self, url: str) -> str | None:
        """The content hash behind the record we still hold for ``url``, if any."""
        known = self._held_record(url)
        return None if known is None else known["content_hash"]

    def _count(self, outcome: Outcome, url: str, **fields: object) -> None:
        self.summary.outcomes[outcome] += 1
        if "reason" in fields:
            self.summary.reasons[str(fields["reason"])] += 1
        level = "warning" if outcome is Outcome.FAILED else "info"
        self.reporter.event(outcome.value, level=level, url=url, **fields)
        self.reporter.advance()

    # -- saving ------------------------------------------------------------------------------

    def _save(self, article: Article, *, replaces: list[str]) -> Outcome:
        """Write ``article`` unless an identical record is on disk; remove records it replaces."""
        path = clean_path(self.data_dir, article)
        article = mark_duplicate(self.state, self.data_dir, article, path)
        new = article.model_dump(mode="json")
        outcome = Outcome.NEW
        if path.exists():
            with contextlib.suppress(OSError, ValueError):
                old = load_json(path)
                if new["aggregator"] is None and old.get("aggregator"):
                    # Found on an aggregator once: keep saying so when the publisher's own
                    # feed brings the same article back.
                    article = article.model_copy(update={"aggregator": old["aggregator"]})
                    new = article.model_dump(mode="json")
                if _comparable(old) == _comparable(new):
                    return Outcome.UNCHANGED
            outcome = Outcome.UPDATED
        write_atomic(path, to_json(article))
        relative = str(path.relative_to(self.data_dir))
        for previous in replaces:
            if previous and previous != relative:
                with contextlib.suppress(FileNotFoundError):
                    (self.data_dir / previous).unlink()
                    outcome = Outcome.UPDATED if outcome is Outcome.NEW else outcome
        source = self.summary.fill.setdefault(article.source, Counter())
        source["articles"] += 1
        source["date"] += article.date is not None
        source["authors"] += bool(article.authors)
        return outcome

    def _record(self, url: str, outcome: FetchOutcome, article: Article) -> None:
        page = outcome.page
        assert page is not None
        path = clean_path(self.data_dir, article)
        self.state.record_result(
            url,
            content_hash=content_hash(page.body),
            record_id=article.id,
            record_path=str(path.relative_to(self.data_dir)),
        )

    def _previous_paths(self, *urls: str) -> list[str]:
        paths = []
        for url in urls:
            known = self.state.url_row(url)
            if known is not None and known["record_path"]:
                paths.append(known["record_path"])
        return paths

    def _reject(self, reject: Reject) -> None:
        save_reject(self.data_dir, reject)
        self.summary.attention += worth_a_look(reject.reason, reject.status)
        self.state.record_error(
            canonicalize_url(reject.url), f"{reject.reason.value}: {reject.detail}"
        )
        self._count(Outcome.REJECTED, reject.url, reason=reject.reason.value, detail=reject.detail)

    async def _fetch_and_clean(
        self, fetcher: Fetcher, requests: list[FetchRequest]
    ) -> dict[str, Cleaned]:
        """Fetch ``requests``; return each URL's outcome and cleaned result (None: nothing
        new to clean), fetching here or, with an executor, on the cluster's workers."""
        held = {r.url: h for r in requests if (h := self._held_hash(r.url)) is not None}
        if self.executor is None:
            stream = fetch_and_judge(fetcher, requests, held)
        else:
            raw = self.data_dir / "raw"
            stream = fetch_on_cluster(self.executor, self.settings, requests, held, raw)
        results: dict[str, Cleaned] = {}
        async for outcome, result in stream:
            page = outcome.page
            if outcome.error is None and page is not None:
                self.summary.fetched += 1
                self.state.record_fetch(
                    outcome.request.url,
                    status=page.status,
                    etag=page.header("etag"),
                    last_modified=page.header("last-modified"),
                    when=page.fetched_at,
                )
            results[outcome.request.url] = (outcome, result)
        return results

    async def execute(
        self, fetcher: Fetcher, links: list[Link] | None = None, follow_originals: bool = True
    ) -> RunSummary:
        """Discover (unless ``links`` are given), fetch, clean and save.

        With ``follow_originals``, a teaser that links to its original leads to fetching it.
        """
        started = self.monotonic()
        if links is None:
            links = await self.discover_all(fetcher)
        else:
            self.summary.discovered = len(links)
        now = self.clock()
        for link in links:
            self.state.mark_seen(link.url, link.source, now)
        self.reporter.start("fetching", total=len(links))
        requests = [self._request(link.url, link.source, link.found_on) for link in links]
        first = await self._fetch_and_clean(fetcher, requests)

        # Teasers with a link to the original: fetch the original; the full article wins.
        teaser_of: dict[str, str] = {}  # original URL -> the first teaser URL that led to it
        if follow_originals:
            for url, (_, result) in first.items():
                if isinstance(result, Article) and result.truncated and result.source_url:
                    teaser_of.setdefault(canonicalize_url(result.source_url), url)
        second = await self._fetch_and_clean(
            fetcher,
            [
                self._request(original, first[teaser][0].request.source, teaser)
                for original, teaser in teaser_of.items()
                if original not in first
            ],
        )
        done = {**first, **second}
        # An original that a teaser on this run led to is settled with its teaser.
        merged: set[str] = set()
        for original, teaser_url in teaser_of.items():
            teaser = first[teaser_url][1]
            if (
                original in done
                and isinstance(teaser, Article)
                and settle_teaser(teaser, done[original][1]) is not None
            ):
                merged.add(original)
        for url, (outcome, result) in first.items():
            if url in merged:
                self.summary.duplicates += 1
                self.reporter.advance()
                continue
            self._settle(url, outcome, result, done)
        self.summary.seconds = self.monotonic() - started
        return self.summary

    def _settle(
        self,
        url: str,
        outcome: FetchOutcome,
        result: Article | Reject | None,
        done: dict[str, Cleaned],
    ) -> None:
        """Decide and save what one discovered URL becomes."""
        error = outcome.error
        if error is not None:
            if _is_transient(error):
                self.summary.attention += 1
                self.state.record_error(url, str(error))
                self._count(Outcome.FAILED, url, reason=error.reason.value, detail=error.detail)
            else:
                self._reject(reject_for_error(error))
            return
        if result is None:
            self._count(Outcome.UNCHANGED, url)
            return
        if isinstance(result, Reject):
            self._reject(result)
            return
        article = result
        if article.truncated and article.source_url:
            original_url = canonicalize_url(article.source_url)
            original = done.get(original_url)
            full = settle_teaser(article, original[1]) if original is not None else None
            if original is not None and full is not None:
                kind = self._save(full, replaces=self._previous_paths(url, original_url))
                self._record(url, outcome, full)
                self._record(original_url, original[0], full)
                self._count(kind, url, record=full.id, via=original_url)
                return
        kind = self._save(article, replaces=self._previous_paths(url))
        self._record(url, outcome, article)
        self._count(kind, url, record=article.id)


async def run_once(
    config: SourcesConfig,
    sources: list[Source],
    *,
    reporter: Reporter,
    clock: Clock,
    links: list[Link] | None = None,
    follow_originals: bool = True,
    executor: Executor | None = None,
) -> RunSummary:
    """Run the pipeline once over ``sources`` (or over ``links``, skipping discovery).

    The caller holds the run lock. The run is logged in the state database.
    """
    data_dir = config.settings.data_dir
    remove_stale_temp_files(data_dir)  # left by a run killed mid-write
    state = StateDB(data_dir / "state.sqlite")
    run_id = state.start_run(clock())
    run = Run(config, sources, state, reporter, clock, executor)
    status = "failed"
    try:
        # Its own process: compressing WARC records would take half the fetching core.
        with WarcWriterProcess(data_dir / "raw") as raw_store:
            async with Fetcher(config.settings, raw_store=raw_store, clock=clock) as fetcher:
                summary = await run.execute(fetcher, links, follow_originals)
        status = "ok" if summary.ok else "partial"
        return summary
    finally:
        state.finish_run(run_id, status, run.summary.counts(), clock())
        state.close()


async def dry_run(
    config: SourcesConfig, sources: list[Source], *, reporter: Reporter, clock: Clock
) -> tuple[list[tuple[Link, bool]], dict[str, list[str]]]:
    """Discover only: each link and whether the state already knows it. Writes nothing."""
    async with Fetcher(config.settings, clock=clock) as fetcher:
        links, errors = await discover_links(sources, fetcher, reporter, clock)
    state_path = config.settings.data_dir / "state.sqlite"
    if not state_path.exists():
        return [(link, False) for link in links], errors
    with StateDB(state_path) as state:
        return [(link, state.is_known(link.url)) for link in links], errors


def summary_text(summary: RunSummary, data_dir: Path) -> str:
    """The human summary printed at the end of a run."""
    o = summary.outcomes
    lines = [
        f"discovered {summary.discovered}, fetched {summary.fetched}: "
        f"{o[Outcome.NEW]} new, {o[Outcome.UPDATED]} updated, {o[Outcome.UNCHANGED]} unchanged, "
        f"{o[Outcome.REJECTED]} rejected, {o[Outcome.FAILED]} failed in {summary.seconds:.1f} s"
        + (f", {summary.attention} worth a look" if summary.attention else "")
        + (
            f" ({summary.duplicates} found both as teaser and original)"
            if summary.duplicates
            else ""
        ),
        f"records in {data_dir / 'clean'}, rejects in {data_dir / 'rejects'}",
    ]
    for name, errors in summary.source_errors.items():
        first = printable(errors[0])
        lines.append(f"source {name}: {len(errors)} listing error(s), first: {first}")
    return "\n".join(lines)
