"""Cleaning workers, forked from one warm parent:
``python -m scraper.jobs.cleaning_worker MODULE:FUNCTION CONTROL_FD``.

The parent imports the cleaner, loads its models (the language identifier, trafilatura's
stoplists) with a warm-up page, then sends ``ready`` on the control socket (a Unix
SOCK_SEQPACKET socket, fd CONTROL_FD) and forks one worker per message the pool sends
there, answering each with the worker's pid and the two ends of its pipes (SCM_RIGHTS).
It reaps its workers and tells the pool how each one ended (its wait status), so the
reject of a page whose worker died can say why: an exit status, or the signal that
killed it (SIGKILL is what the out-of-memory killer sends).
So the ~180 MB of libraries and models are loaded once and shared copy-on-write by every
worker, instead of once per worker; a worker that replaces a crashed one starts in
milliseconds. The parent cleans nothing itself: every worker starts from the same pages.

A worker reads pages from its pipe, one frame each (a 4-byte length, then a pickled
`FetchedPage`), and answers each with one frame holding its `Cleaned` (the `Article` or
`Reject`, and an article's near-duplicate fingerprint), until end of file. It cleans
them one at a time in the order sent, so the order of answers is the order of pages; the
pool (`scraper.jobs.cleaning`) sends a busy worker one page more, to wait in its pipe.
A plain ``-m`` process, not `multiprocessing`: it never re-imports the caller's main
module, and it imports only what cleaning needs.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import importlib
import os
import pickle
import select
import signal
import socket
import struct
import sys
import threading
import traceback
from collections.abc import Callable
from typing import IO, Any, NoReturn

FRAME = struct.Struct("!I")  # length of the pickle that follows
_PIPE_BYTES = 1 << 20
# The warm parent's messages to the pool, after b"ready": a worker forked (with the pool's
# ends of its two pipes as SCM_RIGHTS), and a worker ended, with its wait status.
FORKED = struct.Struct("!4sI")  # b"fork", pid
EXITED = struct.Struct("!4sIi")  # b"exit", pid, wait status


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


def _warm_up() -> None:
    """The libraries' first-use set-up, done before the pool's deadline clock runs on a
    real page."""
    from cleaner.warm import warm_up

    # Best effort: what fails here (a full disk under a library's model cache) fails the
    # same way on a real page, where it becomes that page's reject, not a traceback.
    with contextlib.suppress(Exception):
        warm_up()


def _load_language_model() -> None:
    """Map the language identifier's model from its cache (milliseconds; ~0.5 s of LZMA
    decompression, which releases the GIL, when the cache is built), and hand it to the
    cleaner."""
    from cleaner.language import detect_language, use_identifier
    from scraper.jobs.language_cache import load_identifier

    with contextlib.suppress(Exception):  # as in `_warm_up`: a real page meets it again
        use_identifier(load_identifier())
        detect_language(_LANGUAGE_SAMPLE)


_LANGUAGE_SAMPLE = "A sentence long enough for the language model to be asked about it."


def serve(spec: str, control: socket.socket) -> None:
    """The warm parent: load and warm the cleaner once, then fork a worker per request."""
    # A Ctrl-C at the terminal reaches the whole process group; the pool decides what
    # becomes of the page in flight, not an exception in the middle of a parse.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Answers go on the workers' own pipes; whatever a library prints goes to stderr.
    os.dup2(2, 1)
    # The model loads beside the imports below instead of after them: the pool's first
    # page is cleaned ~0.3 s sooner. Joined before the first fork (a forked child gets
    # only the thread that forked it).
    loader = threading.Thread(target=_load_language_model, name="language-model")
    loader.start()
    from scraper.jobs.cleaning import cleaned

    clean = load_function(spec)
    loader.join()
    _warm_up()
    # What is loaded now stays out of the collector's passes, which would otherwise write
    # to every object's header and so copy the shared pages into each worker.
    gc.freeze()
    # The pool closing the socket is the end, whenever it comes: a run can be over
    # before this parent was ready, or between two workers.
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        control.send(b"ready")
        _fork_and_reap(control, lambda page: cleaned(clean, page))
    with contextlib.suppress(ChildProcessError):
        while True:  # the pool stops its workers first: this waits for the last ones
            os.waitpid(-1, 0)


def _fork_and_reap(control: socket.socket, clean: Callable[[Any], object]) -> None:
    """Fork a worker per message of the pool; reap each one that ends and say how.

    Reaped here, not left to the kernel (SIG_IGN): a reaped child's CPU time counts in
    this process's children's usage, and so in the run's. A pidfd per worker says when it
    ends, so no signal handler interrupts a fork or a send halfway.
    """
    alive: dict[int, int] = {}  # pidfd -> pid
    while True:
        readable, _, _ = select.select([control.fileno(), *alive], [], [])
        for pidfd in set(readable) & alive.keys():
            pid = alive.pop(pidfd)
            os.close(pidfd)
            _, status = os.waitpid(pid, 0)
            control.send(EXITED.pack(b"exit", pid, status))
        if control.fileno() in readable:
            if not control.recv(16):  # end of file: the pool is gone
                return
            pid = _fork_worker(control, clean)
            alive[os.pidfd_open(pid)] = pid


def _fork_worker(control: socket.socket, clean: Callable[[Any], object]) -> int:
    """Fork one worker and hand the pool its pid and the pool's ends of its two pipes."""
    pages, to_worker = os.pipe()
    from_worker, answers = os.pipe()
    # A page (30-80 KB, often more) and its answer fit a pipe whole, so handing either over
    # does not wait for the other side to be scheduled (the fetch loop blocks on a full
    # pipe); the default holds 64 KB.
    for end in (to_worker, answers):
        with contextlib.suppress(OSError):  # above /proc/sys/fs/pipe-max-size: the default
            fcntl.fcntl(end, fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
    pid = os.fork()
    if pid == 0:
        control.close()
        os.close(to_worker)
        os.close(from_worker)
        _work(clean, pages, answers)
    os.close(pages)
    os.close(answers)
    try:
        socket.send_fds(control, [FORKED.pack(b"fork", pid)], [to_worker, from_worker])
    finally:
        os.close(to_worker)
        os.close(from_worker)
    return pid


def _work(clean: Callable[[Any], object], pages_fd: int, answers_fd: int) -> NoReturn:
    """A forked worker's life: clean pages from one pipe, answer on the other, then exit."""
    code = 0
    try:
        with os.fdopen(pages_fd, "rb") as pages, os.fdopen(answers_fd, "wb") as answers:
            answers.write(frame("ready"))
            answers.flush()
            while (data := read_frame(pages)) is not None:
                answers.write(frame(clean(pickle.loads(data))))
                answers.flush()
    except BrokenPipeError:
        pass  # the pool is gone: nobody to answer
    except BaseException:
        traceback.print_exc()
        code = 1
    finally:
        os._exit(code)  # not the parent's exit handlers: they are the parent's


if __name__ == "__main__":
    serve(sys.argv[1], socket.socket(fileno=int(sys.argv[2])))
