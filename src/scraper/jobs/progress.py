"""What a long command tells its user: a progress bar on a terminal, log lines otherwise.

Three modes: ``bar`` (rich, for people), ``plain`` (``key=value`` lines, for cron mail
and log files) and ``json`` (one JSON object a line, for log collectors).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Literal, Self, TextIO

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

Mode = Literal["bar", "plain", "json"]
_LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40}


def choose_mode(log_json: bool, stream: TextIO = sys.stderr) -> Mode:
    """JSON when asked, a bar on a terminal, plain lines otherwise."""
    if log_json:
        return "json"
    return "bar" if stream.isatty() else "plain"


class Reporter:
    """Receives the events of a command and shows them in the chosen mode."""

    def __init__(
        self,
        mode: Mode,
        clock: Callable[[], datetime],
        stream: TextIO | None = None,
        verbosity: int = 0,
    ) -> None:
        """``verbosity``: -1 warnings and errors only, 0 also info, 1 and more also debug
        (and, on a terminal, info events above the bar)."""
        self.mode = mode
        self.verbosity = verbosity
        self._threshold = _LEVELS[
            "warning" if verbosity < 0 else "info" if verbosity == 0 else "debug"
        ]
        self._clock = clock
        self._stream = stream if stream is not None else sys.stderr
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def event(self, name: str, *, level: str = "info", **fields: object) -> None:
        """One event: a log line (plain/json), or a line above the bar for warnings."""
        if _LEVELS.get(level, _LEVELS["info"]) < self._threshold:
            return
        if self.mode == "json":
            record = {"ts": self._clock().isoformat(), "level": level, "event": name, **fields}
            self._stream.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        elif self.mode == "plain":
            pairs = " ".join(f"{key}={_plain(value)}" for key, value in fields.items())
            stamp = self._clock().strftime("%Y-%m-%dT%H:%M:%S%z")
            self._stream.write(f"{stamp} {level} {name} {pairs}".rstrip() + "\n")
        elif (level != "info" or self.verbosity > 0) and self._progress is not None:
            line = f"[{level}] {name} " + " ".join(printable(str(v)) for v in fields.values())
            self._progress.console.print(line, markup=False, highlight=False)
        self._stream.flush()

    def start(self, description: str, total: int | None) -> None:
        """Begin (or restart) the bar for a stage of known or unknown length."""
        if self.mode != "bar":
            return
        if self._progress is None:
            # rich only here, for a bar: a run logging lines (cron, --log-json, a pipe)
            # starts ~0.05 s sooner without it.
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(file=self._stream),
                transient=False,
            )
            self._progress.start()
        if self._task is not None:
            self._progress.update(self._task, visible=False)
        self._task = self._progress.add_task(description, total=total)

    def advance(self, amount: int = 1) -> None:
        if self._progress is not None and self._task is not None:
            self._progress.advance(self._task, amount)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


_QUOTED = {'"': '\\"', "\\": "\\\\"}


def printable(text: str) -> str:
    """``text`` safe for a terminal or a log file: what is not printable (escape sequences,
    NUL, bidi overrides, line breaks) as a Python escape, the rest as it is.

    URLs, titles and error messages come from sites: raw, an ESC sequence could rewrite the
    terminal of whoever reads the log, and a newline forge a log line.
    """
    if text.isprintable():
        return text
    return "".join(
        ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text
    )


def _plain(value: object) -> str:
    text = str(value)
    # A printable text holds no whitespace but the space (the others are not printable):
    # three substring tests instead of a Python test per character, on every log line.
    if text and text.isprintable() and not (" " in text or '"' in text or "\\" in text):
        return text
    escaped = "".join(_QUOTED.get(ch, ch) for ch in text)
    return f'"{printable(escaped)}"'
