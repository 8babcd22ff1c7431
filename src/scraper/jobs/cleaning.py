"""Cleaning off the event loop: worker processes fed through a bounded queue, each page
under a deadline enforced from outside the cleaner.

A page cleaned on the event loop stalls every fetch in flight, so the fetch loop only
hands pages to `CleaningPool.submit`, which waits while the queue is full (that wait is
what keeps memory flat: the fetch loop stops taking pages, so the fetcher stops starting
requests). The workers are forked from one warm parent (`scraper.jobs.cleaning_worker`)
that loaded the cleaner and its models once, so they share those pages. A busy worker
has its next page waiting in its pipe (when it fits there whole), so it goes on at once
instead of waiting for the event loop to read its answer and hand the next page over (the
loop may be in a record's fsync then). Pages are cleaned in the order given, so the pool
knows which page a worker is on and since when: a worker still busy past ``deadline``
seconds is killed and replaced, its page becomes a `Reject` saying so, and the page
waiting behind it goes back to the queue. A worker that dies (a crash in a C parser, the
OOM killer) costs its one page the same way; the reject says how it ended (its exit
status or signal), as the warm parent that reaped it reports. A warm parent that dies
before it is ready (a broken install: the cleaner cannot be imported) is started again a
few times, then the pool gives up with `CleaningUnavailable` instead of starting
processes for ever while the run waits.

`InlineCleaner` is the same interface in this process, for one-off commands and
``--workers 0`` (no deadline then beyond the cleaner's own input caps).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import pickle
import select
import signal
import socket
import subprocess
import sys
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import IO, TYPE_CHECKING, NamedTuple, Protocol, Self, TypeAlias

import cleaner
from cleaner import RejectReason
from cleaner.fingerprint import Fingerprint
from scraper.errors import ScraperError
from scraper.fetch.page import FetchedPage
from scraper.jobs.cleaning_worker import EXITED, FORKED, FRAME, frame
from scraper.jobs.pipeline import clean_page
from scraper.store.duplicates import Unset, article_fingerprint

if TYPE_CHECKING:
    from cleaner import Article, Reject

# Strings: the records' models are imported with the first page cleaned, not with this
# module, which a run that only fetches (--raw-only) imports too.
Result: TypeAlias = "Article | Reject"
Clean: TypeAlias = Callable[[FetchedPage], Result]

# Warm parents (or workers) dying before they are ready, in a row, before the pool gives up.
_MAX_FAILED_STARTS = 3
# Seconds an idle worker or the warm parent gets to exit at end of file before it is killed.
_EXIT_GRACE = 1.0
# Seconds a dead worker's page waits for the warm parent to say how the worker ended.
_EXIT_REPORT_WAIT = 1.0
# Pages a worker holds: the one it cleans and the next, waiting in its pipe.
_DEPTH = 2
# Room left in a pipe beyond a waiting page's body, for the rest of its frame (URLs,
# headers): a page handed to a busy worker must fit the pipe whole, or the write would
# block the event loop until the worker is done with the page before.
_FRAME_SLACK = 64 * 1024


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
    return cleaner.Reject(url=page.url, reason=reason, detail=detail, fetched_at=page.fetched_at)


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
    if not isinstance(result, cleaner.Article):
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
    pid: int
    pages: IO[bytes]  # our end of the pipe the worker reads pages from
    answers: int  # our end of the pipe it answers on (a file descriptor, non-blocking)
    # The worker is the warm parent's child, reaped by it (which says how it ended): a
    # pidfd names this one process even once its pid is free again (None: it was gone
    # before we could ask).
    pidfd: int | None
    capacity: int = 0  # bytes its page pipe holds
    buffer: bytearray = field(default_factory=bytearray)
    ready: bool = False
    # The pages given to the worker, in order, with their jobs: the first is the one it
    # cleans (for its reject if the worker dies), the next waits in its pipe.
    jobs: deque[tuple[_Job, FetchedPage]] = field(default_factory=deque)
    timer: asyncio.TimerHandle | None = field(default=None, repr=False)  # the first's deadline


@dataclass
class _Parent:
    """The warm parent the workers are forked from, and our end of its control socket."""

    process: subprocess.Popen[bytes]
    control: socket.socket
    ready: bool = False
    asked: int = 0  # workers asked for and not yet received


class CleaningPool:
    """``workers`` cleaning processes; use as ``async with CleaningPool(...) as pool``.

    Args:
        workers: worker processes (at least 1).
        deadline: seconds one page may take before its worker is killed.
        clean: the cleaning function, importable by its module and name.
        max_queued: pages waiting for a worker beyond those being cleaned.
    """

    def __init__(
        self,
        workers: int,
        *,
        deadline: float,
        clean: Clean = clean_page,
        max_queued: int | None = None,
    ) -> None:
        self.size = max(1, workers)
        self.deadline = deadline
        # One page waiting per worker is enough to keep them busy (it waits in the
        # worker's pipe); more would only hold more bodies in this process.
        self.max_queued = self.size if max_queued is None else max(0, max_queued)
        self.killed = 0  # workers killed past the deadline
        self.parents_started = 0  # warm parents started (once, unless one died)
        self._failed_starts = 0  # parents or workers dead before they were ready, in a row
        self._unavailable: CleaningUnavailable | None = None
        self._spec = f"{clean.__module__}:{clean.__qualname__}"
        self._parent: _Parent | None = None
        self._workers: list[_Worker] = []
        # Wait statuses the warm parent reported for workers whose death we have not seen
        # yet, and the pages of dead workers waiting for their status, by pid.
        self._exits: dict[int, int] = {}
        self._dead: dict[int, tuple[_Job, FetchedPage, asyncio.TimerHandle]] = {}
        self._queue: deque[_Job] = deque()
        self._room = asyncio.Semaphore(self.size + self.max_queued)
        self._loop: asyncio.AbstractEventLoop | None = None

    async def __aenter__(self) -> Self:
        self._loop = asyncio.get_running_loop()
        self._start_parent()
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
        return [worker.pid for worker in self._workers]

    @property
    def parent_pid(self) -> int | None:
        return self._parent.process.pid if self._parent is not None else None

    def _start_parent(self) -> None:
        assert self._loop is not None
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        command = [sys.executable, "-m", "scraper.jobs.cleaning_worker", self._spec]
        with theirs:
            process = subprocess.Popen(
                [*command, str(theirs.fileno())],
                stdin=subprocess.DEVNULL,
                pass_fds=[theirs.fileno()],
            )
        ours.setblocking(False)
        self.parents_started += 1
        self._parent = _Parent(process, ours)
        self._loop.add_reader(ours.fileno(), self._on_parent, self._parent)

    def _ask_for_workers(self) -> None:
        """Ask the warm parent for the workers the pool is short of."""
        parent = self._parent
        if parent is None or not parent.ready:
            return  # asked for once it is ready
        for _ in range(self.size - len(self._workers) - parent.asked):
            try:
                parent.control.send(b"fork")
            except OSError:
                return  # it died: its end of file says so
            parent.asked += 1

    def _on_parent(self, parent: _Parent) -> None:
        try:
            message, fds, _, _ = socket.recv_fds(parent.control, 16, 2)
        except BlockingIOError:
            return
        except OSError:
            message, fds = b"", []
        if not message:
            self._parent_died(parent)
        elif message == b"ready":
            parent.ready = True
            self._ask_for_workers()
        elif message.startswith(b"exit"):
            _, pid, status = EXITED.unpack(message)
            self._exit_reported(pid, status)
        else:
            parent.asked -= 1
            _, pid = FORKED.unpack(message)
            self._add_worker(pid, *fds)

    def _add_worker(self, pid: int, pages: int, answers: int) -> None:
        assert self._loop is not None
        try:
            pidfd: int | None = os.pidfd_open(pid)
        except ProcessLookupError:
            pidfd = None  # already gone: its pipe's end of file says so
        os.set_blocking(answers, False)
        try:
            capacity = fcntl.fcntl(pages, fcntl.F_GETPIPE_SZ)
        except OSError:
            capacity = 0  # then a worker takes its next page only when idle
        worker = _Worker(pid, os.fdopen(pages, "wb"), answers, pidfd, capacity)
        self._workers.append(worker)
        self._loop.add_reader(answers, self._on_readable, worker)

    def _parent_died(self, parent: _Parent) -> None:
        """Start another warm parent, unless too many in a row died before being ready."""
        assert self._loop is not None
        self._loop.remove_reader(parent.control.fileno())
        parent.control.close()
        code = parent.process.wait()
        self._parent = None
        if not parent.ready:
            self._failed_starts += 1
            if self._failed_starts >= _MAX_FAILED_STARTS:
                self._give_up(code)
                return
        self._start_parent()

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
        """Idle workers first, then a next page for each busy one, while pages wait."""
        for busy in (False, True):
            for worker in list(self._workers):
                if not self._queue:
                    return
                if worker not in self._workers:  # died as a page was handed to it
                    continue
                if not worker.ready or len(worker.jobs) != busy:
                    continue
                page = self._queue[0].page
                assert page is not None
                if busy and len(page.body) + _FRAME_SLACK > worker.capacity:
                    continue
                self._give(worker, self._queue.popleft())

    def _give(self, worker: _Worker, job: _Job) -> None:
        assert self._loop is not None and job.page is not None
        page, job.page = job.page, None  # the body lives in the worker now, not here too
        worker.jobs.append((job, page))
        try:
            worker.pages.write(frame(page))
            worker.pages.flush()
        except OSError:
            self._died(worker)
            return
        if len(worker.jobs) == 1:
            self._start_clock(worker)

    def _start_clock(self, worker: _Worker) -> None:
        """The deadline of the page ``worker`` is on now."""
        assert self._loop is not None
        job = worker.jobs[0][0]
        worker.timer = self._loop.call_later(self.deadline, self._on_deadline, worker, job)

    def _on_readable(self, worker: _Worker) -> None:
        try:
            data = os.read(worker.answers, 1 << 20)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            if not worker.ready:
                self._failed_starts += 1
                if self._failed_starts >= _MAX_FAILED_STARTS:
                    self._stop(worker)
                    self._workers.remove(worker)
                    self._give_up(None)
                    return
            self._died(worker)
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
        else:
            if worker.timer is not None:
                worker.timer.cancel()
                worker.timer = None
            if worker.jobs:
                job, _ = worker.jobs.popleft()
                if not job.future.done():
                    job.future.set_result(answer)  # type: ignore[arg-type]
            if worker.jobs:  # it is on the next page now
                self._start_clock(worker)
        self._dispatch()

    def _on_deadline(self, worker: _Worker, job: _Job) -> None:
        if not worker.jobs or worker.jobs[0][0] is not job:
            return
        self.killed += 1
        why = f"cleaning took longer than {self.deadline:g} s: stopped"
        self._replace(worker, RejectReason.TIMEOUT, why)

    def _died(self, worker: _Worker) -> None:
        """Replace a worker that died; its page is rejected with how the worker ended,
        once the warm parent (which reaped it) has said so."""
        assert self._loop is not None
        job, page = self._retire(worker)
        status = self._exits.pop(worker.pid, None)
        if job is not None and page is not None and not job.future.done():
            if status is not None:
                self._reject_dead(job, page, status)
            else:
                timer = self._loop.call_later(
                    _EXIT_REPORT_WAIT, self._exit_reported, worker.pid, None
                )
                self._dead[worker.pid] = (job, page, timer)
        self._dispatch()

    def _exit_reported(self, pid: int, status: int | None) -> None:
        """The warm parent's word on how worker ``pid`` ended (None: it never came)."""
        if pid in self._dead:
            job, page, timer = self._dead.pop(pid)
            timer.cancel()
            self._reject_dead(job, page, status)
        elif status is not None and any(worker.pid == pid for worker in self._workers):
            self._exits[pid] = status  # its pipe's end of file is still to come

    def _reject_dead(self, job: _Job, page: FetchedPage, status: int | None) -> None:
        if not job.future.done():
            why = "the cleaning process died" + _how_it_ended(status)
            job.future.set_result(Cleaned(_failed(page, RejectReason.NOT_ARTICLE, why), None))

    def _replace(self, worker: _Worker, reason: RejectReason, why: str) -> None:
        """Stop ``worker``, reject its page, start another in its place."""
        job, page = self._retire(worker)
        if job is not None and page is not None and not job.future.done():
            job.future.set_result(Cleaned(_failed(page, reason, why), None))
        self._dispatch()

    def _retire(self, worker: _Worker) -> tuple[_Job | None, FetchedPage | None]:
        """Stop ``worker`` and ask for another; the job and page it was on. The page
        waiting behind it goes back to the front of the queue, for another worker."""
        job, page = worker.jobs[0] if worker.jobs else (None, None)
        self._stop(worker)
        waiting = list(worker.jobs)[1:]
        worker.jobs.clear()
        self._workers.remove(worker)
        for queued, body in reversed(waiting):
            if not queued.future.done():
                queued.page = body
                self._queue.appendleft(queued)
        self._ask_for_workers()
        return job, page

    def _give_up(self, code: int | None) -> None:
        """Fail every waiting page: the last start was one too many that failed."""
        status = "" if code is None else f", last exit status {code}"
        self._unavailable = CleaningUnavailable(
            f"cleaning workers exit before they are ready ({self._failed_starts} in a row"
            f"{status}); their error is on stderr above. "
            "--workers 0 cleans in this process instead"
        )
        while self._queue:
            job = self._queue.popleft()
            if not job.future.done():
                job.future.set_exception(self._unavailable)

    def _stop(self, worker: _Worker) -> None:
        """End ``worker``: an idle one at the end of its pages, a busy one at once."""
        assert self._loop is not None
        if worker.timer is not None:
            worker.timer.cancel()
        with contextlib.suppress(ValueError, OSError):
            self._loop.remove_reader(worker.answers)
        idle = not worker.jobs
        if idle:
            with contextlib.suppress(OSError):
                worker.pages.close()  # end of file: an idle worker exits by itself
        if worker.pidfd is not None:
            if not idle or not _exited(worker.pidfd, _EXIT_GRACE):
                with contextlib.suppress(ProcessLookupError):
                    signal.pidfd_send_signal(worker.pidfd, signal.SIGKILL)
                _exited(worker.pidfd, None)
            os.close(worker.pidfd)
        with contextlib.suppress(OSError):
            worker.pages.close()
        with contextlib.suppress(OSError):
            os.close(worker.answers)

    def close(self) -> None:
        """Stop every worker, then their warm parent; pages queued or in flight are
        dropped (their futures cancelled): the caller has saved what was clean."""
        for worker in self._workers:
            for job, _ in worker.jobs:
                job.future.cancel()
            self._stop(worker)
        self._workers.clear()
        for job, _, timer in self._dead.values():
            timer.cancel()
            job.future.cancel()
        self._dead.clear()
        self._exits.clear()
        while self._queue:
            self._queue.popleft().future.cancel()
        parent, self._parent = self._parent, None
        if parent is not None:
            assert self._loop is not None
            with contextlib.suppress(ValueError, OSError):
                self._loop.remove_reader(parent.control.fileno())
            parent.control.close()  # end of file: a ready parent exits
            if not parent.ready:
                # Still loading the cleaner: nothing of it is needed any more, and
                # waiting for its warm-up would hold a short run up by a second.
                parent.process.kill()
            try:
                parent.process.wait(timeout=_EXIT_GRACE)
            except subprocess.TimeoutExpired:
                parent.process.kill()
                parent.process.wait()


def _how_it_ended(status: int | None) -> str:
    """``status`` (a wait status; None: unknown) as the end of a reject's detail."""
    if status is None:
        return ""
    code = os.waitstatus_to_exitcode(status)
    if code >= 0:
        return f" (exit status {code})"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = f"signal {-code}"
    hint = ": out of memory?" if -code == signal.SIGKILL else ""
    return f" (killed by {name}{hint})"


def _exited(pidfd: int, timeout: float | None) -> bool:
    """Whether the process of ``pidfd`` has ended, waiting up to ``timeout`` seconds."""
    readable, _, _ = select.select([pidfd], [], [], timeout)
    return bool(readable)


__all__ = [
    "Cleaned",
    "Cleaner",
    "CleaningPool",
    "CleaningUnavailable",
    "InlineCleaner",
    "cleaned",
    "guarded",
]
