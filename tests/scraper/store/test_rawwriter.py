"""The raw store's writer process: same WARC files as `WarcStore`, nothing half-written when
either process dies, and the writer's failures raised in the fetching process."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from scraper.errors import StorageError
from scraper.store.warc import WarcStore, iter_pages
from scraper.store.warc_writer import WarcWriterProcess
from scraper.store.warc_writer_child import encode, serve
from tests.scraper.store.test_rawstore import T0, _page


def _column(i: int, size: int = 50_000) -> bytes:
    line = f"<p>Column {i}: the night bus to the harbour runs late again.</p>\n".encode()
    return (line * (size // len(line) + 1))[:size]


def _big_page(i: int) -> object:
    page = _page(i)
    return type(page)(**{**page.__dict__, "body": _column(i)})


def test_pages_written_by_the_child_read_back_in_order_and_rotate(tmp_path: Path) -> None:
    with WarcWriterProcess(tmp_path, max_file_bytes=1000) as store:
        writer = store.pid
        for i in range(6):
            store.append(_page(i, 200 if i % 2 else 304))
    files = sorted(tmp_path.glob("*.warc.gz"))
    assert len(files) >= 3, "rotated by size"
    assert all(f"-{writer}-" in f.name for f in files), "the child's own files"
    pages = list(iter_pages(tmp_path))
    assert [p.final_url for p in pages] == [f"http://127.0.0.1/col/{i}" for i in range(6)]
    assert pages[1].body == _page(1).body and pages[0].status == 304
    assert pages[1].fetched_at == T0


@pytest.mark.parametrize("max_queued", [64 * 1024 * 1024, 200_000])
def test_inside_an_event_loop_append_waits_only_past_the_cap_and_close_writes_everything(
    tmp_path: Path, max_queued: int
) -> None:
    async def fetch_like() -> int:
        most = 0
        with WarcWriterProcess(tmp_path, max_queued=max_queued) as store:
            writer = store.pid
            assert writer is not None
            os.kill(writer, signal.SIGSTOP)  # a stalled writer takes nothing from the pipe
            # It resumes in any case: an append waiting for it ends, and `most` tells.
            resume = threading.Timer(0.5, os.kill, (writer, signal.SIGCONT))
            resume.start()
            try:
                for i in range(120):  # ~6 MB: more than the pipe holds
                    store.append(_big_page(i))  # type: ignore[arg-type]
                    most = max(most, store.queued)
                    if i % 10 == 0:
                        await asyncio.sleep(0)  # the loop sends the rest when the pipe has room
            finally:
                resume.cancel()
                os.kill(writer, signal.SIGCONT)
        return most

    most = asyncio.run(fetch_like())
    pages = list(iter_pages(tmp_path))
    assert [p.body for p in pages] == [_column(i) for i in range(120)]
    if max_queued > 6_000_000:
        # 6 MB appended, at most the 1 MB pipe taken: append kept the rest, it never waited
        assert most > 4_000_000, most
    else:
        assert 0 < most <= max_queued, "past the cap, append waits for the writer"


def test_a_frame_cut_by_a_dying_sender_is_dropped_whole(tmp_path: Path) -> None:
    frames = [encode(_page(i)) for i in range(3)]
    stream = b"".join(frames)
    for cut in (len(frames[0]) + len(frames[1]) + 3, len(stream) - 1):
        folder = tmp_path / str(cut)
        report = io.StringIO()
        assert serve(io.BytesIO(stream[:cut]), WarcStore(folder), report) == 0
        assert [p.final_url for p in iter_pages(folder)] == [
            "http://127.0.0.1/col/0",
            "http://127.0.0.1/col/1",
        ]
        assert report.getvalue() == ""


_SENDER = """
import sys
import threading
from pathlib import Path
from scraper.store.warc_writer import WarcWriterProcess
from tests.scraper.store.test_rawwriter import _big_page

store = WarcWriterProcess(Path(sys.argv[1]))
print(store.pid, flush=True)
i = 0
while True:
    store.append(_big_page(i))
    i += 1
    if i == 40:
        print("sent", flush=True)
"""


def test_the_fetching_process_killed_leaves_every_page_it_sent_complete(tmp_path: Path) -> None:
    sender = subprocess.Popen(
        [sys.executable, "-c", _SENDER, str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[3],
    )
    assert sender.stdout is not None
    writer = int(sender.stdout.readline())
    assert sender.stdout.readline().strip() == "sent"
    sender.send_signal(signal.SIGKILL)
    sender.wait()
    sender.stdout.close()
    deadline = time.monotonic() + 20
    while Path(f"/proc/{writer}").exists() and time.monotonic() < deadline:
        if Path(f"/proc/{writer}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
            break  # it exited; its parent is gone, so nobody reaps it here
        time.sleep(0.02)
    pages = list(iter_pages(tmp_path))
    assert len(pages) >= 40, "a page sent before the kill is lost"
    for page in pages:
        number = int(page.final_url.rsplit("/", 1)[1])
        assert page.body == _column(number), "a half-written page"
    assert [int(p.final_url.rsplit("/", 1)[1]) for p in pages] == list(range(len(pages)))


def test_a_writer_that_cannot_write_is_reported_with_its_reason(tmp_path: Path) -> None:
    blocker = tmp_path / "raw"
    blocker.write_text("a file where the raw folder should be")
    store = WarcWriterProcess(blocker)
    with pytest.raises(StorageError, match=r"cannot open raw store .*raw"):
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            store.append(_page(1))  # raises once the writer has failed
            time.sleep(0.01)
    with pytest.raises(StorageError, match=r"cannot open raw store"):
        store.close()
    with pytest.raises(StorageError, match="closed"):
        store.append(_page(2))


def test_an_error_in_the_writer_reaches_close_even_with_nothing_more_to_send(
    tmp_path: Path,
) -> None:
    blocker = tmp_path / "raw"
    blocker.write_text("not a folder")
    store = WarcWriterProcess(blocker)
    store.append(_page(1))
    with pytest.raises(StorageError, match=r"cannot open raw store .*File exists"):
        store.close()


def test_a_killed_writer_is_an_error_not_silence(tmp_path: Path) -> None:
    store = WarcWriterProcess(tmp_path)
    store.append(_page(1))
    assert store.pid is not None
    os.kill(store.pid, signal.SIGKILL)
    with pytest.raises(StorageError, match="killed by signal 9"):
        for i in range(2, 400):
            store.append(_big_page(i))  # type: ignore[arg-type]
    with pytest.raises(StorageError, match="killed by signal 9"):
        store.close()


# Ctrl-C raises KeyboardInterrupt as in a terminal's foreground process, even when the suite
# inherited SIGINT ignored (started in the background by a non-interactive shell, as a CI
# runner or cron may do): Python then keeps it ignored, and the loop below never ends.
_INTERRUPTED = """
import signal
import sys
import threading
from pathlib import Path
signal.signal(signal.SIGINT, signal.default_int_handler)
from scraper.store.warc_writer import WarcWriterProcess
from tests.scraper.store.test_rawwriter import _big_page

count = 0
try:
    with WarcWriterProcess(Path(sys.argv[1])) as store:
        while True:
            store.append(_big_page(count))
            count += 1
            if count == 40:
                print("sent", flush=True)
except KeyboardInterrupt:
    print(count, flush=True)
"""


def test_ctrl_c_stops_the_fetcher_and_the_writer_still_writes_all_it_was_sent(
    tmp_path: Path,
) -> None:
    fetcher = subprocess.Popen(
        [sys.executable, "-c", _INTERRUPTED, str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).parents[3],
        start_new_session=True,  # its own process group, as a terminal would have it
    )
    try:
        assert fetcher.stdout is not None
        assert fetcher.stdout.readline().strip() == "sent"
        os.killpg(fetcher.pid, signal.SIGINT)  # what Ctrl-C does: the whole foreground group
        out, _ = fetcher.communicate(timeout=30)
    finally:
        # A fetcher the interrupt did not stop writes pages until the disk is full (seen
        # with SIGINT ignored: 2.8 GB in 17 minutes): it and its writer go with the test.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(fetcher.pid, signal.SIGKILL)
        fetcher.wait()
    sent = int(out)
    pages = list(iter_pages(tmp_path))  # close() waited for the writer: all on disk now
    assert len(pages) in (sent, sent + 1)  # the interrupt may land after a page went out
    assert [p.body for p in pages] == [_column(i) for i in range(len(pages))]
