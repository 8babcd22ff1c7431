"""A run lock that cannot go stale: the kernel drops an flock when its process dies.

A killed run (even by SIGKILL) leaves the lock file behind but not the lock, so the
next run takes it over at once; the file only records who held it last, for messages.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Self

from scraper.errors import ScraperError, StorageError


class LockHeld(ScraperError):
    """Another live process holds the run lock."""

    def __init__(self, path: Path, holder: str) -> None:
        super().__init__(f"another run holds {path} ({holder}); try again when it ends")
        self.path = path
        self.holder = holder


class RunLock:
    """Exclusive, process-wide lock on ``path``; use as a context manager."""

    def __init__(
        self,
        path: Path,
        *,
        wait: float = 0.0,
        poll: float = 0.2,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.path = path
        self.wait = wait
        self.poll = poll
        self._sleep = sleep
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, waiting up to ``wait`` seconds.

        Raises:
            LockHeld: another live process still holds it after the wait.
            StorageError: the lock file cannot be created (a read-only data folder, or
                one that is a file).
        """
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StorageError(
                f"cannot create the run lock {self.path}: {exc.strerror or exc}"
            ) from None
        deadline = time.monotonic() + self.wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "unknown"
                    os.close(fd)
                    raise LockHeld(self.path, holder) from None
                self._sleep(self.poll)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()} since {time.strftime('%Y-%m-%dT%H:%M:%S%z')}".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> Self:
        self.acquire()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
