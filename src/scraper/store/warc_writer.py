"""The raw WARC store in a writer process of its own, so compression is off the fetching core.

Building and gzip-compressing the WARC records of a page costs ~1.1 ms of CPU, as much
as fetching it; in a thread it would hold the GIL the event loop needs. Here the fetching
process only pickles each page onto a pipe (without ever blocking the event loop while
the pipe has room, see `append`) and a child process (`scraper.store.warc_writer_child`) writes
it with the ordinary `WarcStore`: same files, same rotation, same records.

What a crash leaves:
- the fetching process killed: the child reads what reached the pipe, writes it, and
  exits at end of file; a page cut in the middle of its frame is dropped whole, so no
  record is ever half-written from a half-sent page;
- the child killed: at most a truncated tail in its current file, which readers skip
  (as with `WarcStore` in-process);
- the child failing (disk full, permissions): it reports the `StorageError` message on
  its stdout and exits; the next `append` or `close` raises that error in the fetching
  process.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import select
import signal
import subprocess
import sys
from collections import deque
from pathlib import Path
from types import TracebackType
from typing import Self

from scraper.errors import StorageError
from scraper.fetch.page import FetchedPage
from scraper.store.warc import DEFAULT_COMPRESS_LEVEL, DEFAULT_MAX_FILE_BYTES
from scraper.store.warc_writer_child import encode

_PIPE_BYTES = 1024 * 1024  # Linux's default ceiling for an unprivileged pipe
DEFAULT_MAX_QUEUED = 8 * 1024 * 1024  # past this, `append` waits for the writer
# Held back during one write and its bookkeeping (see `_send_one`).
_HELD_SIGNALS = {signal.SIGINT, signal.SIGTERM}


class WarcWriterProcess:
    """A `WarcStore` run by a child process; `append` and `close` as on `WarcStore`.

    `append` never blocks while less than ``max_queued`` bytes wait for the child: what
    the pipe cannot take yet is kept and written when the pipe has room (by the running
    event loop, or at the next `append`). Past the cap it waits for the child (the child
    is then the bottleneck, and memory stays bounded). `close` sends the rest, waits for
    the child to finish writing, and raises its error if it had one.
    """

    def __init__(
        self,
        directory: Path,
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
        compress_level: int = DEFAULT_COMPRESS_LEVEL,
        max_queued: int = DEFAULT_MAX_QUEUED,
    ) -> None:
        self.directory = directory
        self.max_queued = max_queued
        self._queue: deque[memoryview] = deque()
        self._queued = 0
        self._failure: StorageError | None = None
        self._loop: asyncio.AbstractEventLoop | None = None  # watching the pipe for room
        command = [sys.executable, "-m", "scraper.store.warc_writer_child", str(directory)]
        command += [str(max_file_bytes), str(compress_level)]
        # A session of its own: a Ctrl-C at the terminal reaches the fetching process
        # only, which then closes the pipe; the writer stops at end of file, not mid-record.
        self._child: subprocess.Popen[bytes] | None = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, start_new_session=True
        )
        assert self._child.stdin is not None
        self._fd = self._child.stdin.fileno()
        with contextlib.suppress(OSError):  # a smaller pipe only means more wake-ups
            fcntl.fcntl(self._fd, fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
        os.set_blocking(self._fd, False)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc is None:
            self.close()
            return
        try:  # keep the error already on its way; the writer's goes along as a note
            self.close()
        except StorageError as failure:
            if failure is not exc:
                exc.add_note(f"and the raw store failed: {failure}")

    @property
    def pid(self) -> int | None:
        """The writer process, while it runs."""
        return self._child.pid if self._child is not None else None

    @property
    def queued(self) -> int:
        """Bytes handed to `append` that the writer has not taken yet."""
        return self._queued

    def append(self, page: FetchedPage) -> None:
        """Send the request and response of ``page`` to the writer.

        Raises:
            StorageError: the writer failed (its reason), or was closed.
        """
        if self._child is None:
            raise StorageError(f"raw store {self.directory} is closed")
        self._check()
        self._queue.append(memoryview(encode(page)))
        self._queued += len(self._queue[-1])
        self._send()
        if not self._queue:
            return
        if self._queued > self.max_queued:
            self._send_all(until=self.max_queued // 2)
        if self._queue and self._loop is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:  # no event loop to finish the job later: do it now
                self._send_all()
                return
            loop.add_writer(self._fd, self._on_room)
            self._loop = loop

    def _check(self) -> None:
        """Raise the writer's failure, if it had one (it exits when it fails)."""
        if self._failure is None and self._child is not None and self._child.poll() is not None:
            self._failure = self._child_failure()
        if self._failure is not None:
            raise self._failure

    def _send(self) -> None:
        """Write what the pipe takes now, without waiting."""
        try:
            while self._queue:
                self._send_one()
        except BlockingIOError:
            return

    def _send_one(self) -> None:
        """One write of the oldest frame (or of what is left of it)."""
        head = self._queue[0]
        # A Ctrl-C raised between the write and its bookkeeping would have `close` send
        # those bytes again: a frame written twice, or garbled. The signals wait the few
        # microseconds until both are done; the write never blocks (non-blocking pipe).
        held = signal.pthread_sigmask(signal.SIG_BLOCK, _HELD_SIGNALS)
        try:
            sent = os.write(self._fd, head)
            self._queued -= sent
            if sent == len(head):
                self._queue.popleft()
            else:
                self._queue[0] = head[sent:]
        except BrokenPipeError:
            sent = -1
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
        if sent < 0:
            self._failure = self._child_failure()
            raise self._failure

    def _on_room(self) -> None:
        """Event loop callback: the pipe has room again."""
        with contextlib.suppress(StorageError):  # kept: the next append or close raises it
            self._send()
        if not self._queue or self._failure is not None:
            self._unwatch()

    def _unwatch(self) -> None:
        loop, self._loop = self._loop, None
        if loop is not None and not loop.is_closed():
            loop.remove_writer(self._fd)

    def _send_all(self, until: int = 0) -> None:
        """Write what is queued down to ``until`` bytes, waiting for the writer to make room."""
        while self._queued > until:
            select.select([], [self._fd], [])  # the wait, where a Ctrl-C may land safely
            with contextlib.suppress(BlockingIOError):
                self._send_one()
        if not self._queue:
            self._unwatch()

    def _child_failure(self) -> StorageError:
        """The writer's own words for why it stopped (it says them on stdout)."""
        assert self._child is not None and self._child.stdout is not None
        code = self._child.wait()
        said = self._child.stdout.read().decode("utf-8", "replace").strip()
        if said:
            return StorageError(said)
        if code < 0:
            return StorageError(
                f"raw store writer for {self.directory} was killed by signal {-code}; "
                "pages sent to it since its last record may be missing"
            )
        return StorageError(f"raw store writer for {self.directory} exited with status {code}")

    def close(self) -> None:
        """Send what is left, wait for the writer to write it; raise its error if any."""
        child, failure = self._child, self._failure
        if child is None:
            return
        try:
            if failure is None:
                self._send_all()
        except StorageError as exc:
            failure = exc
        finally:
            self._unwatch()
            self._queue.clear()
            assert child.stdin is not None
            with contextlib.suppress(BrokenPipeError):
                child.stdin.close()  # end of file: the writer finishes and exits
        if failure is None and child.wait() != 0:
            failure = self._child_failure()
        self._child = None
        if child.stdout is not None:
            child.stdout.close()
        if failure is not None:
            self._failure = failure
            raise failure
