"""Cleaning off the event loop: worker processes fed through a bounded queue, each page
under a deadline enforced from outside the cleaner.

A page cleaned on the event loop stalls every fetch in flight, so the fetch loop only
hands pages to `CleaningPool.submit`, which waits while the queue is full (that wait is
what keeps memory flat: the fetch loop stops taking pages, so the fetcher stops starting
requests). Each worker (`scraper.jobs.cleaning_worker`) holds one page at a time, so the
pool knows which page a worker is on and since when: a worker still busy past
``deadline`` seconds is killed and replaced, and its page becomes a `Reject` saying so.
A worker that dies (a crash in a C parser, the OOM killer) costs its one page the same way.
Workers that die before they are ready (a broken install: the cleaner cannot be imported)
are started again a few times, then the pool gives up with `CleaningUnavailable` instead
of starting processes for ever while the run waits.

The pool starts one worker and grows to ``workers`` only while pages keep waiting: a worker
costs about a second of CPU and a few hundred MB to start, which a run of a handful of
pages (a cron run with little new) would pay for nothing.

`InlineCleaner` is the same interface in this process, for one-off commands and
``--workers 0`` (no deadline then beyond the cleaner's own input caps).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pickle
import subprocess
import sys
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import NamedTuple, Protocol, Self

from cleaner import Article, Reject, RejectReason
from cleaner.fingerprint import Fingerprint
from scraper.errors import ScraperError
from scraper.fetch.http import FetchedPage
from scraper.jobs.cleaning_worker import FRAME, frame
from scraper.jobs.pipeline import clean_page
from scraper.store.duplicates import Unset, article_fingerprint

Clean = Callable[[FetchedPage], Article | Reject]
Result = Article | Reject

# Workers dying before they are ready, in a row, before the pool gives up.
_MAX_FAILED_STARTS = 3


class CleaningUnavailable(ScraperError):
    """No cleaning worker could start: nothing can be cleaned in this run."""


class Cleaned(NamedTuple):
    """A page's outcome and, for an article, its near-duplicate fingerprint: computed in
    the worker too, as it costs milliseconds a page the event loop would otherwise pay."""

    result: Result
    fingerprint: Fingerprint | Unset | None = Unset.UNSET


class Cleaner(Protocol):
    """Where the run sends pages to be cleaned."""

    async def submit(self, page: FetchedPage) -> asyncio.Future[Cleaned]:
        """Queue ``page`` (waiting while the queue is full); the future holds its result."""
        ...


def _failed(page: FetchedPage, reason: RejectReason, detail: str) -> Reject:
    return Reject(url=page.url, reason=reason, detail=detail, fetched_at=page.fetched_at)


def guarded(clean: Clean, page: FetchedPage) -> Result:
    """One bad page is one reject, even when the cleaner has a bug."""
    try:
        return clean(page)
    except Exception as exc:
        return _failed(page, RejectReason.NOT_ARTICLE, f"the cleaner failed: {exc!r}")


def cleaned(clean: Clean, page: FetchedPage) -> Cleaned:
    """`guarded`, with the fingerprint of an article (left unset if computing it fails:
    the saver then computes it, and fails, as it always did)."""
    result = guarded(clean, page)
    if not isinstance(result, Article):
        return Cleaned(result, None)
    try:
        return Cleaned(result, article_fingerprint(result))
    except Exception:
        return Cleaned(result)


class InlineCleaner:
    """Cleans in this process, at once."""

    def __init__(self, clean: Clean = clean_page) -> None:
        self._clean = clean

    async def submit(self, page: FetchedPage) -> asyncio.Future[Cleaned]:
        future: asyncio.Future[Cleaned] = asyncio.get_running_loop().create_future()
        future.set_result(cleaned(self._clean, page))
        return future


@dataclass
class _Job:
    page: FetchedPage | None
    future: asyncio.Future[Cleaned]


@dataclass
class _Worker:
    process: subprocess.Popen[bytes]
    buffer: bytearray = field(default_factory=bytearray)
    ready: bool = False
    started: float = 0.0  # the loop's clock when the process was started
    job: _Job | None = None
    page: FetchedPage | None = None  # the page in the worker, for its reject if it dies
    timer: asyncio.TimerHandle | None = field(default=None, repr=False)


class CleaningPool:
    """``workers`` cleaning processes; use as ``async with CleaningPool(...) as pool``.

    Args:
        workers: worker processes (at least 1).
        deadline: seconds one page may take before its worker is killed.
        clean: the cleaning function, importable by its module and name.
        max_queued: pages waiting for a worker beyond those being cleaned.
        grow_after: seconds pages must keep waiting, every worker busy, before another
            worker starts; by default as long as the first worker took to be ready
            (a backlog shorter than that is gone before a new worker could help).
    """

    def __init__(
        self,
        workers: int,
        *,
        deadline: float,
        clean: Clean = clean_page,
        max_queued: int | None = None,
        grow_after: float | None = None,
    ) -> None:
        self.size = max(1, workers)
        self.grow_after = grow_after
        self.deadline = deadline
        # One page waiting per worker is enough to keep them busy (the loop hands a page
        # over in microseconds); more would only hold more bodies in this process.
        self.max_queued = self.size if max_queued is None else max(0, max_queued)
        self.killed = 0  # workers killed past the deadline
        self._failed_starts = 0  # workers dead before they were ready, in a row
        self._unavailable: CleaningUnavailable | None = None
        self._spec = f"{clean.__module__}:{clean.__qualname__}"
        self._workers: list[_Worker] = []
        self._queue: deque[_Job] = deque()
        self._room = asyncio.Semaphore(self.size + self.max_queued)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._warm_up_seconds = 0.0  # how long the first worker took to be ready
        self._backlog_since: float | None = None  # every worker busy, pages waiting
        self._grow_timer: asyncio.TimerHandle | None = None

    async def __aenter__(self) -> Self:
        self._loop = asyncio.get_running_loop()
        self._workers = [self._start()]
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @property
    def queued(self) -> int:
        """Pages waiting for a worker."""
        return len(self._queue)

    @property
    def pids(self) -> list[int]:
        return [worker.process.pid for worker in self._workers]

    def _start(self) -> _Worker:
        assert self._loop is not None
        process = subprocess.Popen(
            [sys.executable, "-m", "scraper.jobs.cleaning_worker", self._spec],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert process.stdout is not None
        os.set_blocking(process.stdout.fileno(), False)
        worker = _Worker(process, started=self._loop.time())
        self._loop.add_reader(process.stdout.fileno(), self._on_readable, worker)
        return worker

    async def submit(self, page: FetchedPage) -> asyncio.Future[Cleaned]:
        """Raises:
        CleaningUnavailable: the workers cannot start."""
        if self._unavailable is not None:
            raise self._unavailable
        await self._room.acquire()
        assert self._loop is not None
        job = _Job(page, self._loop.create_future())
        job.future.add_done_callback(lambda _: self._room.release())
        self._queue.append(job)
        self._dispatch()
        return job.future

    def _dispatch(self) -> None:
        for worker in self._workers:
            if not self._queue:
                break
            if worker.ready and worker.job is None:
                self._give(worker, self._queue.popleft())
        self._watch_backlog()

    def _watch_backlog(self) -> None:
        """Note when a backlog starts (pages waiting while every worker is ready and
        busy) and arrange to grow the pool if it lasts; forget it when it clears."""
        assert self._loop is not None
        backlog = bool(self._queue) and all(w.ready and w.job is not None for w in self._workers)
        if not backlog or len(self._workers) >= self.size:
            self._backlog_since = None
            if self._grow_timer is not None:
                self._grow_timer.cancel()
                self._grow_timer = None
            return
        if self._backlog_since is None:
            self._backlog_since = self._loop.time()
            self._grow_timer = self._loop.call_later(self._grow_delay(), self._grow)

    def _grow_delay(self) -> float:
        if self.grow_after is not None:
            return self.grow_after
        return self._warm_up_seconds

    def _grow(self) -> None:
        self._grow_timer = None
        if self._backlog_since is not None and len(self._workers) < self.size:
            self._workers.append(self._start())
        self._backlog_since = None  # the new worker is not ready: no backlog until it is

    def _give(self, worker: _Worker, job: _Job) -> None:
        assert self._loop is not None and job.page is not None
        stdin = worker.process.stdin
        assert stdin is not None
        page, job.page = job.page, None  # the body lives in the worker now, not here too
        worker.job, worker.page = job, page
        try:
            stdin.write(frame(page))
            stdin.flush()
        except OSError:
            self._replace(worker, RejectReason.NOT_ARTICLE, "the cleaning process died")
            return
        worker.timer = self._loop.call_later(self.deadline, self._on_deadline, worker, job)

    def _on_readable(self, worker: _Worker) -> None:
        stdout = worker.process.stdout
        assert stdout is not None
        try:
            data = os.read(stdout.fileno(), 1 << 20)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            code = worker.process.poll()
            if not worker.ready:
                self._failed_starts += 1
                if self._failed_starts >= _MAX_FAILED_STARTS:
                    self._give_up(worker, code)
                    return
            self._replace(
                worker, RejectReason.NOT_ARTICLE, f"the cleaning process died (exit {code})"
            )
            return
        worker.buffer += data
        while len(worker.buffer) >= FRAME.size:
            (size,) = FRAME.unpack_from(worker.buffer)
            if len(worker.buffer) < FRAME.size + size:
                return
            answer = pickle.loads(worker.buffer[FRAME.size : FRAME.size + size])
            del worker.buffer[: FRAME.size + size]
            self._answered(worker, answer)

    def _answered(self, worker: _Worker, answer: object) -> None:
        if answer == "ready":
            worker.ready = True
            self._failed_starts = 0
            assert self._loop is not None
            if self._warm_up_seconds == 0.0:
                self._warm_up_seconds = self._loop.time() - worker.started
        else:
            job = worker.job
            if worker.timer is not None:
                worker.timer.cancel()
            worker.job = worker.page = worker.timer = None
            if job is not None and not job.future.done():
                job.future.set_result(answer)  # type: ignore[arg-type]
        self._dispatch()

    def _on_deadline(self, worker: _Worker, job: _Job) -> None:
        if worker.job is not job:
            return
        self.killed += 1
        why = f"cleaning took longer than {self.deadline:g} s: stopped"
        self._replace(worker, RejectReason.TIMEOUT, why)

    def _replace(self, worker: _Worker, reason: RejectReason, why: str) -> None:
        """Stop ``worker``, reject its page, start another in its place."""
        job, page = worker.job, worker.page
        self._stop(worker)
        self._workers[self._workers.index(worker)] = self._start()
        if job is not None and page is not None and not job.future.done():
            job.future.set_result(Cleaned(_failed(page, reason, why), None))
        self._dispatch()

    def _give_up(self, worker: _Worker, code: int | None) -> None:
        """Fail every waiting page: ``worker`` was the last of too many failed starts."""
        self._stop(worker)
        self._workers.remove(worker)
        self._unavailable = CleaningUnavailable(
            f"cleaning workers exit before they are ready ({self._failed_starts} in a row, "
            f"last exit status {code}); their error is on stderr above. "
            "--workers 0 cleans in this process instead"
        )
        while self._queue:
            job = self._queue.popleft()
            if not job.future.done():
                job.future.set_exception(self._unavailable)

    def _stop(self, worker: _Worker) -> None:
        assert self._loop is not None
        process = worker.process
        if worker.timer is not None:
            worker.timer.cancel()
        if process.stdout is not None:
            with contextlib.suppress(ValueError, OSError):
                self._loop.remove_reader(process.stdout.fileno())
        if worker.ready and worker.job is None and process.stdin is not None:
            with contextlib.suppress(OSError):
                process.stdin.close()  # end of file: an idle worker exits by itself
            try:
                process.wait(timeout=1)
            except subprocess.TimeoutExpired:
                process.kill()
        else:
            process.kill()
        process.wait()
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()

    def close(self) -> None:
        """Stop every worker; pages queued or in flight are dropped (their futures
        cancelled): the caller has saved what was clean."""
        if self._grow_timer is not None:
            self._grow_timer.cancel()
            self._grow_timer = None
        for worker in self._workers:
            if worker.job is not None:
                worker.job.future.cancel()
            self._stop(worker)
        self._workers.clear()
        while self._queue:
            self._queue.popleft().future.cancel()


__all__ = [
    "Cleaned",
    "Cleaner",
    "CleaningPool",
    "CleaningUnavailable",
    "InlineCleaner",
    "cleaned",
    "guarded",
]
