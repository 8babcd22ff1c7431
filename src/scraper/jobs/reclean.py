"""Re-run the pure cleaner over the raw WARC store and rebuild ``clean/`` and ``rejects/``.

Two passes, each split into independent tasks that run in this process or on Dask workers
(`scraper.jobs.cluster`), and the driver alone writes:

1. index: one task per WARC file reads the headers of every response record (URL, WARC-Date,
   status, offset) without cleaning anything;
2. clean: the driver keeps one winner per URL (the latest fetch), groups the winners into
   batches of record offsets, and each task cleans its batch and returns records as JSON text.

Workers return records instead of writing them because "latest fetch wins" needs the global
view: two workers holding fetches of one URL would otherwise race, and a task retried after a
lost worker would write twice. The driver writes each record atomically, skips files whose
content is already right, and resolves any two winners that land on one file by the same rank,
so the output depends on the input alone, never on how the work was split or in what order
results arrived. Superseded fetches are never cleaned at all.

Which fetch wins, for one URL (as requested, canonicalized): a 2xx, 404 or 410 response beats
a transient one (304, 429, other 4xx/5xx), so a re-check that answered 304 or a passing 503 does
not erase a good article; then the later WARC-Date; then the later file in path order; then the
later record in the file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from cleaner import Article, RejectReason, article_id, canonicalize_url
from scraper.errors import StorageError
from scraper.jobs.cluster import Executor, InProcess
from scraper.jobs.pipeline import settle_teaser
from scraper.jobs.reclean_tasks import (
    IndexEntry,
    Outcome,
    clean_batch,
    index_file,
    list_warc_files,
)
from scraper.store.duplicates import Candidate, assign_duplicates, original_rank
from scraper.store.records import remove_stale_temp_files, to_json, write_atomic

Rank = tuple[bool, datetime, int, int]  # (definitive, WARC-Date, file index, offset)

_DEFINITIVE_4XX = frozenset({404, 410})
# Reject reasons a response in the raw store decides; the others (network_error, timeout,
# robots_disallowed, ...) come from fetches that stored no response, so the raw store
# cannot rebuild them and pruning keeps them unless their URL was fetched again.
_RESPONSE_REASONS = frozenset(
    {
        RejectReason.BLOCKED,
        RejectReason.HTTP_ERROR,
        RejectReason.NOT_HTML,
        RejectReason.NOT_ARTICLE,
        RejectReason.EMPTY_BODY,
        RejectReason.NO_TITLE,
        RejectReason.FUTURE_DATE,
        RejectReason.INVALID_URL,
    }
)


class Reporter(Protocol):
    """Where the driver reports progress (a rich bar, plain lines, or nothing)."""

    def start(self, phase: str, total: int) -> None: ...

    def advance(self, phase: str, amount: int) -> None: ...


class _Silent:
    def start(self, phase: str, total: int) -> None:
        pass

    def advance(self, phase: str, amount: int) -> None:
        pass


@dataclass
class Summary:
    """What a reclean did; every count is independent of how the work was split."""

    files: int = 0
    records: int = 0  # response records of article fetches read from the raw store
    discovery: int = 0  # responses to robots.txt, feed, sitemap and listing fetches: skipped
    superseded: int = 0  # older fetches of a URL, not cleaned
    cleaned: int = 0
    articles: int = 0
    rejects: Counter[str] = field(default_factory=Counter)
    written: int = 0  # files created or changed
    unchanged: int = 0
    removed: int = 0  # stale records pruned
    teasers: int = 0  # aggregator teasers settled into their originals, as `scraper run` does
    errors: list[str] = field(default_factory=list)
    damaged: list[str] = field(default_factory=list)  # tails cut short: reported, not partial
    unreadable: list[str] = field(default_factory=list)  # records lost: a partial result
    seconds: float = 0.0

    @property
    def partial(self) -> bool:
        return bool(self.errors or self.unreadable)

    @property
    def pages_per_second(self) -> float:
        return self.cleaned / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class _Winner:
    rank: Rank
    file: int
    offset: int


def reclean(
    raw: Path,
    data_dir: Path,
    *,
    executor: Executor | None = None,
    prune: bool = True,
    batch_size: int | None = None,
    reporter: Reporter | None = None,
) -> Summary:
    """Rebuild ``data_dir/clean`` and ``data_dir/rejects`` from the WARC files under ``raw``.

    Args:
        raw: a WARC file, or a folder searched for ``*.warc.gz`` and ``*.warc``.
        data_dir: the data folder whose ``clean/`` and ``rejects/`` are rebuilt.
        executor: where tasks run; in this process when None.
        prune: remove records that the raw store no longer produces (only files older than
            this run, so a concurrent fetch's new records are kept).
        batch_size: responses per cleaning task; by default sized to the executor.
        reporter: progress sink.

    The caller holds the run lock (temporary files of killed writers are removed).

    Raises:
        StorageError: a record could not be written (the run stops at the first one).
    """
    executor = executor or InProcess()
    reporter = reporter or _Silent()
    started_wall, started = time.time(), time.perf_counter()
    remove_stale_temp_files(data_dir)  # left by a run or a re-clean killed mid-write
    files = [file.resolve() for file in list_warc_files(raw)]  # workers may sit elsewhere
    summary = Summary(files=len(files))

    winners, urls = _index(files, executor, reporter, summary)
    batches = _batches(winners, files, executor.workers, batch_size)
    final = _clean_and_write(batches, winners, files, executor, reporter, data_dir, summary)
    if prune:
        summary.removed = _prune(data_dir, set(final), urls, started_wall)
    for kind, reason in final.values():
        if kind == "article":
            summary.articles += 1
        else:
            summary.rejects[reason] += 1
    for problems in (summary.errors, summary.damaged, summary.unreadable):
        problems.sort()  # results arrive in any order; the report does not
    summary.seconds = time.perf_counter() - started
    return summary


def _rank(entry: IndexEntry, file: int) -> Rank:
    definitive = 200 <= entry.status < 300 or entry.status in _DEFINITIVE_4XX
    try:
        date = datetime.fromisoformat(entry.date.replace("Z", "+00:00"))
        date = date if date.tzinfo else date.replace(tzinfo=UTC)
    except ValueError:
        date = datetime.min.replace(tzinfo=UTC)
    return definitive, date, file, entry.offset


def _url_key(url: str) -> str:
    try:
        return canonicalize_url(url)
    except ValueError:
        return url


def _index(
    files: list[Path], executor: Executor, reporter: Reporter, summary: Summary
) -> tuple[dict[str, _Winner], set[str]]:
    reporter.start("index", len(files))
    winners: dict[str, _Winner] = {}
    calls = [(str(file),) for file in files]
    for number, result in executor.map_unordered(index_file, calls):
        reporter.advance("index", 1)
        if isinstance(result, BaseException):
            summary.unreadable.append(f"{files[number]}: {type(result).__name__}: {result}")
            continue
        if result.damage == "tail":
            summary.damaged.append(f"{result.path}: truncated tail: {result.detail}")
        elif result.damage == "middle":
            summary.unreadable.append(f"{result.path}: damaged records skipped: {result.detail}")
        elif result.damage == "unreadable":
            summary.unreadable.append(f"{result.path}: unreadable: {result.detail}")
        summary.records += len(result.entries)
        summary.discovery += result.discovery
        for entry in result.entries:
            key = _url_key(entry.url)
            candidate = _Winner(_rank(entry, number), number, entry.offset)
            current = winners.get(key)
            if current is None or candidate.rank > current.rank:
                winners[key] = candidate
    summary.superseded = summary.records - len(winners)
    return winners, set(winners)


def _batches(
    winners: dict[str, _Winner], files: list[Path], workers: int, batch_size: int | None
) -> list[tuple[int, list[int]]]:
    by_file: dict[int, list[int]] = {}
    for winner in winners.values():
        by_file.setdefault(winner.file, []).append(winner.offset)
    if batch_size is None:
        # About eight tasks per worker balance the load; 500 bounds a task's memory.
        batch_size = max(1, min(500, -(-len(winners) // (8 * max(1, workers)))))
    batches: list[tuple[int, list[int]]] = []
    for file in sorted(by_file):
        offsets = sorted(by_file[file])
        for start in range(0, len(offsets), batch_size):
            batches.append((file, offsets[start : start + batch_size]))
    return batches


def _clean_and_write(
    batches: list[tuple[int, list[int]]],
    winners: dict[str, _Winner],
    files: list[Path],
    executor: Executor,
    reporter: Reporter,
    data_dir: Path,
    summary: Summary,
) -> dict[str, tuple[str, str]]:
    """Clean every batch and write its records; return {relative path: (kind, reason)}."""
    ranks = {(w.file, w.offset): w.rank for w in winners.values()}
    url_at = {(w.file, w.offset): url for url, w in winners.items()}
    fetched: dict[str, str] = {}  # requested URL -> the article record it gave
    reporter.start("clean", len(winners))
    owner: dict[str, Rank] = {}
    final: dict[str, tuple[str, str]] = {}
    before: dict[str, bytes | None] = {}  # digest of each file as this run found it
    after: dict[str, bytes] = {}  # digest of what this run last wrote there
    teasers: dict[str, tuple[str, Article]] = {}  # held back until every original is written
    candidates: dict[str, Candidate] = {}  # article path -> its near-duplicate witnesses
    marks: dict[str, str | None] = {}  # article path -> the duplicate_of it was written with

    def write(writer: _Writer, path: str, text: str) -> None:
        """Write ``text`` to ``path`` unless the file already holds it."""
        current = after.get(path)
        if path not in before:
            current = before[path] = _digest_of_file(data_dir / path)
        after[path] = _digest(text.encode("utf-8"))
        if after[path] != current:
            writer.write(data_dir / path, text)

    calls = [(str(files[file]), offsets) for file, offsets in batches]
    with _Writer() as writer:
        for number, result in executor.map_unordered(clean_batch, calls):
            file, offsets = batches[number]
            reporter.advance("clean", len(offsets))
            if isinstance(result, BaseException):
                summary.errors.append(
                    f"{files[file]}: a task of {len(offsets)} records failed: "
                    f"{type(result).__name__}: {result}"
                )
                continue
            for outcome in result:
                summary.cleaned += 1
                if outcome.kind == "error":
                    summary.errors.append(f"{files[file]}: {outcome.text}")
                    continue
                rank = ranks[(file, outcome.offset)]
                if outcome.path in owner and owner[outcome.path] >= rank:
                    continue  # two URLs, one record (one redirected to the other): later wins
                owner[outcome.path] = rank
                final[outcome.path] = (outcome.kind, outcome.reason)
                if outcome.kind == "article":
                    fetched[url_at[(file, outcome.offset)]] = outcome.path
                teasers.pop(outcome.path, None)
                text = outcome.text
                if outcome.kind == "article":
                    text, marks[outcome.path] = _with_previous_mark(data_dir / outcome.path, text)
                    candidates[outcome.path] = _candidate(outcome, text)
                if outcome.kind == "article" and '"truncated": true' in text:
                    article = Article.model_validate_json(text)
                    if article.source_url:
                        teasers[outcome.path] = (text, article)
                        continue
                write(writer, outcome.path, text)
    with _Writer() as writer:
        originals = {
            Path(path).stem: path for path, (kind, _) in final.items() if kind == "article"
        }
        for path, (text, teaser) in teasers.items():
            # The original's record is keyed by its own canonical URL, which the teaser's
            # link need not be: look it up by the URL fetched, as `scraper run` does.
            original_path = fetched.get(_url_key(str(teaser.source_url))) or originals.get(
                article_id(str(teaser.source_url))
            )
            settled = (
                settle_teaser(teaser, _article_at(data_dir / original_path))
                if original_path
                else None
            )
            if original_path is None or settled is None:
                write(writer, path, text)
                continue
            write(writer, original_path, to_json(settled))  # as `scraper run` saves it
            candidates[original_path] = replace(
                candidates[original_path], rank=original_rank(settled)
            )
            candidates.pop(path, None)
            del final[path]
            with contextlib.suppress(FileNotFoundError):
                (data_dir / path).unlink()  # a teaser record from an earlier reclean
            summary.teasers += 1
    with _Writer() as writer:
        # Marked once every article is known, so the marks do not depend on the order in
        # which results arrived. Each was written with the mark its file had before, so
        # re-cleaning an unchanged store rewrites nothing.
        assigned = assign_duplicates(list(candidates.values()))
        for path, candidate in candidates.items():
            mark = assigned[candidate.record_id]
            current = _article_at(data_dir / path)
            if current is not None and current.duplicate_of != mark:
                write(writer, path, to_json(current.model_copy(update={"duplicate_of": mark})))
    summary.written = sum(after[path] != before[path] for path in after)
    summary.unchanged = len(after) - summary.written
    return final


class _Writer:
    """Writes records on a few threads, so that file creation and fsync overlap the cleaning.

    Two writes to one file keep their order; the first failure stops the run.
    """

    def __init__(self, threads: int = 8) -> None:
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="reclean-write")
        self.pending: dict[Path, Future[None]] = {}

    def __enter__(self) -> _Writer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            if exc_info[0] is None:
                for future in self.pending.values():
                    future.result()  # raises the first StorageError
        finally:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def write(self, path: Path, text: str) -> None:
        earlier = self.pending.pop(path, None)
        if earlier is not None:
            earlier.result()
        if len(self.pending) >= 256:
            self._collect()
        self.pending[path] = self.pool.submit(write_atomic, path, text)

    def _collect(self) -> None:
        """Forget finished writes (raising the first failure); bounds memory on large runs."""
        for path, future in list(self.pending.items()):
            if future.done():
                del self.pending[path]
                future.result()


def _with_previous_mark(path: Path, text: str) -> tuple[str, str | None]:
    """``text`` with the ``duplicate_of`` the record at ``path`` had (the cleaner knows
    none), and that mark."""
    previous = _article_at(path)
    mark = previous.duplicate_of if previous is not None else None
    if mark is None:
        return text, None
    article = Article.model_validate_json(text)
    return to_json(article.model_copy(update={"duplicate_of": mark})), mark


def _candidate(outcome: Outcome, text: str) -> Candidate:
    fetched = json.loads(text).get("fetched_at") or ""
    return Candidate(
        record_id=Path(outcome.path).stem,
        fingerprint=outcome.fingerprint,
        rank=outcome.rank,
        truncated='"truncated": true' in text,
        order=str(fetched),
    )


def _article_at(path: Path) -> Article | None:
    """The article record saved at ``path``, if it can be read."""
    try:
        return Article.model_validate_json(path.read_bytes())
    except (OSError, ValueError):
        return None


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


def _digest_of_file(path: Path) -> bytes | None:
    try:
        return _digest(path.read_bytes())
    except OSError:
        return None


def _prune(data_dir: Path, keep: set[str], urls: set[str], started: float) -> int:
    """Remove records this run did not produce; return how many.

    A record under ``clean/`` comes from the raw store alone, so it goes. A reject goes when
    a stored response decides its reason, or when the raw store holds a response for its URL;
    a network failure for a URL with no stored response stays. Files newer than the run are
    a concurrent writer's and stay too.
    """
    removed = 0
    for folder in ("clean", "rejects"):
        root = data_dir / folder
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*.json")):
            relative = path.relative_to(data_dir).as_posix()
            try:
                if relative in keep or path.stat().st_mtime >= started:
                    continue
                if folder == "rejects" and not _reject_is_stale(path, urls):
                    continue
                path.unlink()
                removed += 1
            except OSError as exc:
                raise StorageError(f"cannot remove stale record {path}: {exc.strerror}") from exc
        for directory in sorted(root.rglob("*"), reverse=True):
            if directory.is_dir():
                with contextlib.suppress(OSError):
                    directory.rmdir()  # only succeeds when empty
    return removed


def _reject_is_stale(path: Path, urls: set[str]) -> bool:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        reason = RejectReason(record["reason"])
        url = str(record["url"])
    except (OSError, ValueError, KeyError, TypeError):
        return False  # not one of ours: leave it alone
    return reason in _RESPONSE_REASONS or _url_key(url) in urls
