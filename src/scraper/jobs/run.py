"""One scheduled run: discover, fetch what is new or changed, clean, validate, save.

The fetch loop only fetches; pages are cleaned in worker processes (`scraper.jobs.cleaning`)
and each outcome is saved the moment it is clean. Ctrl-C or SIGTERM stops the fetching,
keeps what was saved, and marks the run ``interrupted``.

Crash safety comes from the order of effects: a record file is written atomically
before the state database learns about it, so a run killed at any point leaves
either the old record or the new one, and the next run redoes whatever the state
does not confirm. Re-doing is idempotent: an unchanged record is not rewritten.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections import Counter
from collections.abc import Callable, Coroutine, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

import cleaner
from cleaner import RejectReason, canonicalize_url
from cleaner.fingerprint import Fingerprint
from scraper.clock import Clock
from scraper.discovery import Link
from scraper.discovery.sources import Source, SourcesConfig
from scraper.errors import FetchError, StorageError
from scraper.fetch.fetcher import Fetcher, FetchOutcome, FetchRequest
from scraper.fetch.http import address_policy
from scraper.fetch.page import HTML_TYPES, FetchedPage
from scraper.jobs.cleaning import (
    Clean,
    Cleaned,
    Cleaner,
    CleaningPool,
    CleaningUnavailable,
    InlineCleaner,
    Result,
)
from scraper.jobs.cluster import Executor
from scraper.jobs.pipeline import (
    clean_page,
    content_hash,
    reject_for_error,
    settle_teaser,
    worth_a_look,
)
from scraper.jobs.progress import Reporter
from scraper.jobs.summary import Outcome, RunSummary, summary_json, summary_text
from scraper.settings import Politeness, Settings
from scraper.store.duplicates import Unset, mark_duplicate
from scraper.store.records import (
    clean_path,
    dumped_json,
    load_json,
    remove_stale_temp_files,
    save_reject,
    write_atomic,
)
from scraper.store.state import StateDB
from scraper.store.warc_writer import WarcWriterProcess

if TYPE_CHECKING:
    from cleaner import Article, Reject


def _is_transient(error: FetchError) -> bool:
    """Worth trying again next run (the fetcher already retried within this one)."""
    if error.reason in (RejectReason.NETWORK_ERROR, RejectReason.TIMEOUT):
        return True
    return error.reason is RejectReason.HTTP_ERROR and (error.status or 0) in _RETRY_LATER


_RETRY_LATER = frozenset({429, 500, 502, 503, 504})

# Seen marks written in one transaction (~5 ms), between turns of the event loop: a
# robots.txt load takes a few turns to connect and send, and 10,000 marks at once would
# hold the loop for ~50 ms. Smaller, and the commits start to cost more than that.
_MARKS_AT_ONCE = 1000


def _comparable(record: dict[str, object]) -> dict[str, object]:
    """A record without the fields that change on every fetch."""
    return {key: value for key, value in record.items() if key != "fetched_at"}


async def discover_links(
    sources: list[Source], fetcher: Fetcher, reporter: Reporter, clock: Clock
) -> tuple[list[Link], dict[str, list[str]]]:
    """Links from every source, deduplicated by canonical URL in source order, and the
    listing/feed/sitemap URLs that failed, by source name."""
    # The parsers (lxml, charset detection, the listing rules): not for a run over given
    # links (fetch-many), ~60 ms of its start-up.
    from scraper.discovery import discover, fetcher_fetch

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


class _Fetch(NamedTuple):
    """What the state keeps of one response (`StateDB.record_fetch`), without its body."""

    status: int
    etag: str | None
    last_modified: str | None
    when: datetime

    @classmethod
    def of(cls, page: FetchedPage | None) -> _Fetch | None:
        if page is None:
            return None
        return cls(page.status, page.header("etag"), page.header("last-modified"), page.fetched_at)


@dataclass
class _Waiting:
    """A teaser held back until its original is in (or known not to be a whole article)."""

    url: str
    page_hash: str
    article: Article
    found: Fingerprint | Unset | None = Unset.UNSET  # its fingerprint, when known


class Run:
    """The state of one run; `execute` does the work.

    Every outcome is saved as soon as it is known (record or reject, then its state row),
    so memory stays flat in the URL count and a stopped run keeps its work. A teaser that
    names its original waits, unsaved, until the original is in; then the original is
    saved once, credited to the aggregator. Unsaved, because a teaser on disk would look
    done to the next run, which would then never fetch its original.
    """

    def __init__(
        self,
        config: SourcesConfig,
        sources: list[Source],
        state: StateDB,
        reporter: Reporter,
        clock: Clock,
        executor: Executor | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        cleaner: Cleaner | None = None,
        raw_only: bool = False,
    ) -> None:
        self.executor = executor
        self.cleaner = cleaner or InlineCleaner()
        self.raw_only = raw_only
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
        self._asked: set[str] = set()  # the URLs this run was asked for (discovered or given)
        self._follow_originals = True
        self._follow: dict[str, FetchRequest] = {}  # originals to fetch for their teasers
        self._waiting: dict[str, list[_Waiting]] = {}  # original URL -> teasers waiting on it
        self._arrived: set[str] = set()  # URLs whose outcome this run has settled
        self._failure: StorageError | CleaningUnavailable | None = None

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
        return FetchRequest(
            url=url,
            source=source,
            politeness=self._politeness(source),
            etag=known["etag"] if known else None,
            last_modified=known["last_modified"] if known else None,
            accept=HTML_TYPES,
            referrer=referrer,
        )

    def _robots_requests(self, links: list[Link], first: int) -> Iterator[FetchRequest]:
        """One request per origin among the ``first`` links, for `Fetcher.prefetch_robots`:
        no state lookups, which `_request` does once per link when it is fetched."""
        origins: set[str] = set()
        for link in links[:first]:
            origin = "/".join(link.url.split("/", 3)[:3])  # scheme://host[:port], canonical
            if origin not in origins:
                origins.add(origin)
                politeness = self._politeness(link.source)
                yield FetchRequest(
                    link.url, link.source, politeness, accept=HTML_TYPES, referrer=link.found_on
                )

    def _politeness(self, source: str | None) -> Politeness | None:
        """The per-source politeness of ``source``, if it is one of the run's sources."""
        if source not in self.by_name:
            return None
        return self.by_name[source].effective_politeness(self.settings.politeness)

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

    def _fetched(self, outcome: FetchOutcome) -> str | None:
        """Count a fetch; the hash of its body when there is one. The state learns of the
        fetch in `_note_fetch`, in the transaction that saves what it produced."""
        page = outcome.page
        if outcome.error is not None or page is None:
            return None
        self.summary.fetched += 1
        # Raw only: nothing compares the hash (reclean computes its own), so do not pay it.
        return "" if self.raw_only else content_hash(page.body)

    def _note_fetch(self, url: str, fetch: _Fetch | None) -> None:
        if fetch is not None:
            self.state.record_fetch(url, *fetch)

    async def _fetch_pass(self, fetcher: Fetcher, requests: Iterable[FetchRequest]) -> None:
        """Fetch ``requests``; clean and settle each outcome as it comes."""
        if self.executor is not None:
            # Brings the WARC reader (warcio, ISA-L) that a run on this machine leaves to
            # its writer process.
            from scraper.jobs.sharded import fetch_on_cluster

            requests = list(requests)
            if not requests:
                return
            held = {r.url: h for r in requests if (h := self._held_hash(r.url)) is not None}
            raw = self.data_dir / "raw"
            async for outcome, result in fetch_on_cluster(
                self.executor, self.settings, requests, held, raw
            ):
                page_hash = self._fetched(outcome)
                with self.state.batch():
                    self._note_fetch(outcome.request.url, _Fetch.of(outcome.page))
                    self._settle(outcome.request, outcome.error, page_hash, result)
            return
        cleaning: set[asyncio.Task[None]] = set()
        try:
            async for outcome in fetcher.fetch_all(requests):
                if self._failure is not None:
                    raise self._failure
                page_hash = self._fetched(outcome)
                page, request, error = outcome.page, outcome.request, outcome.error
                fetch = _Fetch.of(page)
                if self.raw_only and page_hash is not None:
                    self._note_fetch(request.url, fetch)
                    self._count(Outcome.STORED, request.url)
                elif (
                    error is not None
                    or page is None
                    or page.status == 304
                    or (page.status == 200 and page_hash == self._held_hash(request.url))
                ):
                    with self.state.batch():
                        self._note_fetch(request.url, fetch)
                        self._settle(request, error, page_hash, None)
                else:
                    future = await self.cleaner.submit(page)
                    when = self._when_clean(request, page_hash, fetch, future)
                    task = asyncio.create_task(when)
                    cleaning.add(task)
                    task.add_done_callback(cleaning.discard)
            if cleaning:
                await asyncio.gather(*cleaning)
        finally:
            for task in cleaning:
                task.cancel()
        if self._failure is not None:
            raise self._failure

    async def _when_clean(
        self,
        request: FetchRequest,
        page_hash: str | None,
        fetch: _Fetch | None,
        future: asyncio.Future[Cleaned],
    ) -> None:
        try:
            result, found = await future
            # The record file is written inside, so before the commit; the response's
            # validators commit with it: a run killed before the save leaves the ones
            # of the record we hold, not those of a response nothing was saved from (the
            # next run's conditional request would get a 304 and keep the old record).
            with self.state.batch():
                self._note_fetch(request.url, fetch)
                self._settle(request, None, page_hash, result, found)
        except (StorageError, CleaningUnavailable) as exc:  # the fetch loop raises it:
            self._failure = exc  # the run cannot save, or cannot clean

    # -- settling ----------------------------------------------------------------------------

    def _count(self, outcome: Outcome, url: str, **fields: object) -> None:
        self.summary.outcomes[outcome] += 1
        if "reason" in fields:
            self.summary.reasons[str(fields["reason"])] += 1
        level = "warning" if outcome is Outcome.FAILED else "info"
        self.reporter.event(outcome.value, level=level, url=url, **fields)
        self.reporter.advance()

    def _settle(
        self,
        request: FetchRequest,
        error: FetchError | None,
        page_hash: str | None,
        result: Result | None,
        found: Fingerprint | Unset | None = Unset.UNSET,
    ) -> None:
        """Decide and save what one fetched URL becomes (None: nothing new to clean);
        ``found``: an article's fingerprint, when the worker computed it."""
        url = request.url
        self._arrived.add(url)
        if url in self._asked:
            if error is not None:
                if _is_transient(error):
                    self.summary.attention += 1
                    self.state.record_error(url, str(error))
                    fields = {"reason": error.reason.value, "detail": error.detail}
                    self._count(Outcome.FAILED, url, **fields)
                else:
                    self._reject(reject_for_error(error))
            elif result is None:
                self._count(Outcome.UNCHANGED, url)
            elif isinstance(result, cleaner.Reject):
                self._reject(result)
            elif (
                not self._held_back(request, page_hash or "", result, found)
                and url not in self._waiting
            ):
                self._save_counted(url, page_hash or "", result, found)
        # else: an original fetched for its teasers only, saved through them
        if url in self._waiting:
            self._release(url, page_hash if error is None else None, result)

    def _held_back(
        self,
        request: FetchRequest,
        page_hash: str,
        article: Article,
        found: Fingerprint | Unset | None = Unset.UNSET,
    ) -> bool:
        """Keep a teaser back while its original may still come; True when it waits."""
        if not (article.truncated and article.source_url):
            return False
        original = canonicalize_url(article.source_url)
        waiting = _Waiting(request.url, page_hash, article, found)
        if original in self._arrived:
            counted = original in self._asked
            self._settle_teaser(waiting, self._whole_record(original), original, counted=counted)
            return True
        if original not in self._asked:
            if not self._follow_originals:
                return False
            self._follow.setdefault(original, self._request(original, request.source, request.url))
        self._waiting.setdefault(original, []).append(waiting)
        return True

    def _release(self, original: str, page_hash: str | None, result: Result | None) -> None:
        """The original is in: settle every teaser waiting on it."""
        whole: Article | None = None
        if isinstance(result, cleaner.Article):
            whole = None if result.truncated else result
        elif result is None:  # unchanged or not fetched now: the record we hold, if whole
            whole = self._whole_record(original)
        counted = False
        for waiting in self._waiting.pop(original, []):
            self._settle_teaser(waiting, whole, original, original_hash=page_hash, counted=counted)
            counted = original in self._asked

    def _settle_teaser(
        self,
        waiting: _Waiting,
        whole: Article | None,
        original: str,
        *,
        original_hash: str | None = None,
        counted: bool,
    ) -> None:
        """Save a teaser as its whole original credited to the aggregator, or as itself.

        ``counted``: the original was asked for and already counted in this run.
        """
        full = settle_teaser(waiting.article, whole)
        if full is None:
            self._save_counted(waiting.url, waiting.page_hash, waiting.article, waiting.found)
            return
        kind, saved = self._save(full, replaces=self._previous_paths(waiting.url, original))
        self._record(waiting.url, waiting.page_hash, full, saved)
        if original_hash is not None and whole is not None and whole is not full:
            self._record(original, original_hash, full, saved)
        if counted:
            self.summary.duplicates += 1
            self.reporter.advance()
            return
        self._count(kind, waiting.url, record=full.id, via=original)
        if original in self._asked:
            self.summary.duplicates += 1
            self.reporter.advance()

    def _whole_record(self, url: str) -> Article | None:
        """The whole article we hold on disk for ``url``, if any (saved earlier)."""
        known = self._held_record(url)
        if known is None:
            return None
        with contextlib.suppress(OSError, ValueError):
            article = cleaner.Article.model_validate(
                load_json(self.data_dir / known["record_path"])
            )
            return None if article.truncated else article
        return None

    def flush_waiting(self) -> None:
        """Teasers whose original never came (a failed or unfetched original): saved as
        teasers. Not after an interrupt: the next run must fetch their originals."""
        for original in list(self._waiting):
            for waiting in self._waiting.pop(original):
                self._save_counted(waiting.url, waiting.page_hash, waiting.article, waiting.found)

    # -- saving ------------------------------------------------------------------------------

    def _save_counted(
        self,
        url: str,
        page_hash: str,
        article: Article,
        found: Fingerprint | Unset | None = Unset.UNSET,
    ) -> None:
        kind, saved = self._save(article, replaces=self._previous_paths(url), found=found)
        self._record(url, page_hash, article, saved)
        self._count(kind, url, record=article.id)

    def _save(
        self,
        article: Article,
        *,
        replaces: list[str],
        found: Fingerprint | Unset | None = Unset.UNSET,
    ) -> tuple[Outcome, str]:
        """Write ``article`` unless an identical record is on disk; remove records it
        replaces. ``found``: the fingerprint of ``article``, when known. Returns what the
        save was, and the record's path under the data folder."""
        path = clean_path(self.data_dir, article)
        relative = str(path.relative_to(self.data_dir))
        article = mark_duplicate(self.state, self.data_dir, article, path, found)
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
                    return Outcome.UNCHANGED, relative
            outcome = Outcome.UPDATED
        write_atomic(path, dumped_json(new))
        for previous in replaces:
            if previous and previous != relative:
                with contextlib.suppress(FileNotFoundError):
                    (self.data_dir / previous).unlink()
                    outcome = Outcome.UPDATED if outcome is Outcome.NEW else outcome
        source = self.summary.fill.setdefault(article.source, Counter())
        source["articles"] += 1
        source["date"] += article.date is not None
        source["authors"] += bool(article.authors)
        return outcome, relative

    def _record(self, url: str, page_hash: str, article: Article, relative: str) -> None:
        """Note in the state that ``url`` produced ``article``, saved at ``relative``."""
        self.state.record_result(
            url, content_hash=page_hash, record_id=article.id, record_path=relative
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

    # -- the run -----------------------------------------------------------------------------

    async def execute(
        self, fetcher: Fetcher, links: list[Link] | None = None, follow_originals: bool = True
    ) -> RunSummary:
        """Discover (unless ``links`` are given), fetch, clean and save.

        With ``follow_originals``, a teaser that links to its original leads to fetching it.
        """
        started = self.monotonic()
        try:
            if links is None:
                links = await self.discover_all(fetcher)
            else:
                self.summary.discovered = len(links)
            # robots.txt first, so its round trip overlaps the seen marks (~50 ms at 10,000
            # links). Not for a cluster: its hosts fetch robots.txt themselves.
            first = self._robots_requests(links, fetcher.max_buffered)
            prefetching = self.executor is None and fetcher.prefetch_robots(first) > 0
            now = self.clock()
            for start in range(0, len(links), _MARKS_AT_ONCE):
                if prefetching:
                    await asyncio.sleep(0)  # the loads' next step: connect, send, read
                chunk = links[start : start + _MARKS_AT_ONCE]
                self.state.mark_all_seen(((link.url, link.source) for link in chunk), now)
            self._asked = {link.url for link in links}
            self._follow_originals = follow_originals and not self.raw_only
            self.reporter.start("fetching", total=len(links))
            # Built as the fetcher reads them, not all before the first fetch: each one
            # asks the state for the URL's row, ~25 us a link, which at 10,000 links
            # would keep every connection idle for a quarter of a second.
            requests = (self._request(link.url, link.source, link.found_on) for link in links)
            del links
            await self._fetch_pass(fetcher, requests)
            follow, self._follow = list(self._follow.values()), {}
            await self._fetch_pass(fetcher, follow)
            self.flush_waiting()
        finally:
            self.summary.seconds = self.monotonic() - started
        return self.summary


def _cleaner_for(
    workers: int | None, settings: Settings, clean: Clean
) -> contextlib.AbstractAsyncContextManager[Cleaner]:
    if workers == 0:
        return contextlib.nullcontext(InlineCleaner(clean))
    size = workers if workers is not None else (os.cpu_count() or 1)
    return CleaningPool(size, deadline=settings.limits.clean_seconds, clean=clean)


async def _stoppable(work: Coroutine[Any, Any, RunSummary], summary: RunSummary) -> RunSummary:
    """Run ``work``; Ctrl-C or SIGTERM cancels it and returns the summary so far."""
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(work)

    def stop() -> None:
        summary.interrupted = True
        task.cancel()

    installed = []
    for number in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(number, stop)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread
            continue
        installed.append(number)
    try:
        return await task
    except asyncio.CancelledError:
        if not summary.interrupted:
            raise
        return summary
    finally:
        for number in installed:
            loop.remove_signal_handler(number)


async def run_once(
    config: SourcesConfig,
    sources: list[Source],
    *,
    reporter: Reporter,
    clock: Clock,
    links: list[Link] | None = None,
    follow_originals: bool = True,
    executor: Executor | None = None,
    workers: int | None = None,
    raw_only: bool = False,
    clean: Clean = clean_page,
) -> RunSummary:
    """Run the pipeline once over ``sources`` (or over ``links``, skipping discovery).

    ``workers`` cleaning processes (None: one per core; 0: clean in this process);
    ``raw_only`` fetches into the raw store without cleaning. The caller holds the run
    lock. The run is logged in the state database, ``interrupted`` after Ctrl-C/SIGTERM.
    """
    data_dir = config.settings.data_dir
    remove_stale_temp_files(data_dir)  # left by a run killed mid-write
    state = StateDB(data_dir / "state.sqlite")
    run_id = state.start_run(clock())
    run = Run(config, sources, state, reporter, clock, executor, raw_only=raw_only)
    status = "failed"
    in_process = executor is not None or raw_only
    try:
        # Its own process: compressing WARC records would take half the fetching core.
        with WarcWriterProcess(data_dir / "raw") as raw_store:
            async with (
                Fetcher(config.settings, raw_store=raw_store, clock=clock) as fetcher,
                _cleaner_for(0 if in_process else workers, config.settings, clean) as cleaning,
            ):
                run.cleaner = cleaning
                summary = await _stoppable(
                    run.execute(fetcher, links, follow_originals), run.summary
                )
        status = summary.status
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


__all__ = ["Outcome", "Run", "RunSummary", "dry_run", "run_once", "summary_json", "summary_text"]
