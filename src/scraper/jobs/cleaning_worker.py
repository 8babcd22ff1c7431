"""A cleaning worker: ``python -m scraper.jobs.cleaning_worker MODULE:FUNCTION``.

Reads pages from stdin, one frame each (a 4-byte length, then a pickled `FetchedPage`),
and answers each with one frame holding its `Cleaned` (the `Article` or `Reject`, and
an article's near-duplicate fingerprint), until end of file.
The pool (`scraper.jobs.cleaning`) sends a page only to an idle worker, so the order of
answers is the order of pages. A plain ``-m`` process, not `multiprocessing`: it never
re-imports the caller's main module, and it imports only what cleaning needs.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pickle
import signal
import struct
import sys
from collections.abc import Callable
from typing import IO, Any

FRAME = struct.Struct("!I")  # length of the pickle that follows


def read_frame(stream: IO[bytes]) -> bytes | None:
    """One frame's payload, or None at end of file (a cut frame counts as the end)."""
    head = stream.read(FRAME.size)
    if len(head) < FRAME.size:
        return None
    (size,) = FRAME.unpack(head)
    data = stream.read(size)
    return data if len(data) == size else None


def frame(value: object) -> bytes:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    return FRAME.pack(len(data)) + data


def load_function(spec: str) -> Callable[[Any], Any]:
    module, _, name = spec.partition(":")
    function: Callable[[Any], Any] = getattr(importlib.import_module(module), name)
    return function


# A small page with a short body and its date only in the text, so that cleaning it runs
# every stage (the date and body fallbacks included: htmldate reads only a page with
# digits) and their libraries' first-use set-up is done before the pool's deadline clock
# runs on a real page.
_WARM_UP = (
    b"<html><head><title>Warm-up</title></head><body><article><h1>Warm-up</h1>"
    b"<p>A short paragraph of text, long enough to be read as one, for the warm-up.</p>"
    b"<p>Filed on 3 March 2021.</p>"
    b"</article></body></html>"
)


def _warm_up() -> None:
    from datetime import UTC, datetime

    from cleaner import ExtractionError, extract

    # Best effort: what fails here (a full disk under a library's model cache) fails the
    # same way on a real page, where it becomes that page's reject, not a traceback.
    with contextlib.suppress(ExtractionError, Exception):
        extract(_WARM_UP, url="https://warm-up.invalid/page", fetched_at=datetime.now(UTC))


def serve(spec: str) -> None:
    # A Ctrl-C at the terminal reaches the whole process group; the pool decides what
    # becomes of the page in flight, not an exception in the middle of a parse.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Answers go on a private copy of stdout; whatever a library prints goes to stderr.
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    from scraper.jobs.cleaning import cleaned

    clean = load_function(spec)
    _warm_up()
    answers.write(frame("ready"))
    answers.flush()
    while (data := read_frame(sys.stdin.buffer)) is not None:
        answers.write(frame(cleaned(clean, pickle.loads(data))))
        answers.flush()


if __name__ == "__main__":
    serve(sys.argv[1])
