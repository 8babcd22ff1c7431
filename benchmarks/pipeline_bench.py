"""End to end (fetch + clean + save) on loopback, side by side with the trafilatura CLI and
an aiohttp + process pool + trafilatura baseline, in one sitting.

The server is fetch_bench's: 20 loopback hosts, 30-80 KB article pages, 50 ms per
response; with 2 requests in flight per host the fetch limit is 800 pages/s. Every client
is a separate command timed by its process wall time (start to exit); its CPU is the
process's and its waited-for children's (os.wait4; `own ms/p` is the command's own process
alone: for ours, the event loop that fetches, hands pages on and saves), and its peak RSS
is the peak of the sum over its whole process tree (cleaning workers and WARC writer
included), sampled every 20 ms. A sum of RSS counts a page shared by several processes
(the cleaning workers are forked from one warmed-up parent, so they share its libraries
and language model) once in each of them; the PSS column (proportional set size, from
/proc/PID/smaps_rollup: a shared page split between the processes that map it) sums to
what the tree holds. PSS is sampled every 100 ms (reading smaps_rollup walks the page
tables: ~1 ms a process). Pages of shared libraries mapped by processes outside the tree
are split with those too, so the PSS sum can be a few MB under the tree's own share. The
`tree MB` column is the tree's resident set with each page counted once: the distinct
physical pages mapped by any of its processes (their page frame numbers, read from
/proc/PID/pagemap), which is what the tree occupies in RAM, shared library pages included
whole; sampled every 500 ms (~8 ms a process), and only where this process may read page
frame numbers (root, or CAP_SYS_ADMIN; "n/a" otherwise). Each client's output is
verified: one record with text per URL, counted by the URL the record names, so a lost or
overwritten record cannot hide.

Why the trafilatura CLI is run this way (a first version counted 128 records of 2,000):
- with ``-o DIR`` it names each output file by a hash of the extracted text
  (`cli_utils.generate_hash_filename`), so pages with the same text overwrite each other.
  The server serves 64 distinct pages (URL n gets page n % 64) and the CLI starts a new
  folder every 1,000 files, so 2,000 URLs left 2 x 64 = 128 files. On stdout each record
  is one JSON line, and ``--with-metadata`` puts its URL in it ("source"), as the
  baseline's records have it;
- its default SLEEP_TIME of 5 s between two requests to one host capped it at 20 hosts /
  5 s = 4 pages/s; the other clients run with no politeness delay;
- its downloader still takes one URL per host per round (courlan's `UrlStore`) and
  extracts in its main process: that is its design, kept.

Clients:
  scraper      `scraper fetch-many URLS` (cleaning workers, one per core)
  raw-only     `scraper fetch-many URLS --raw-only`: fetch into WARC, no cleaning
  trafilatura  `trafilatura -i URLS --json --with-metadata --parallel 20 > FILE`, its
               settings.cfg with SSRF_PROTECTION off (it refuses loopback hosts) and
               SLEEP_TIME 0 (the no-delay politeness every other client gets here)
  baseline     aiohttp (2 per host) + ProcessPoolExecutor (one per core) running
               trafilatura.extract(..., output_format="json") and writing one file a page

Usage:  flock /tmp/bench.lock .venv/bin/python benchmarks/pipeline_bench.py \\
            [--sizes 2000,10000] [--clients scraper,raw-only,trafilatura,baseline] [--faults]
Needs the [bench] extra (psutil) for the RSS sampling.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import psutil

sys.path.insert(0, str(Path(__file__).parent))
from fetch_bench import HOSTS, LIMIT, PER_HOST, _start_server, _urls

BIN = Path(sys.executable).parent
SCRAPER = BIN / "scraper"
TRAFILATURA = BIN / "trafilatura"


@dataclass
class Timed:
    """One command's process wall time, CPU and peak memory (MB) over its process tree."""

    wall: float
    cpu: float  # the command's and its waited-for children's
    own_cpu: float  # the command's own process alone
    peak_mb: float  # RSS summed over the tree
    peak_pss_mb: float
    peak_tree_mb: float | None  # distinct resident pages of the tree; None: not readable
    code: int
    out: str


@dataclass
class Result:
    client: str
    urls: int
    records: int
    timed: Timed
    note: str = ""


def _tree_memory(
    process: psutil.Process, peaks: dict[int, tuple[str, int]], pss: dict[int, int] | None
) -> tuple[int, int]:
    """The RSS and the PSS (0 unless ``pss`` is given) summed over ``process`` and its
    descendants; each one's peak RSS goes into ``peaks``, its peak PSS into ``pss``."""
    total = total_pss = 0
    for member in [process, *process.children(recursive=True)]:
        try:
            rss = member.memory_info().rss
            role = peaks[member.pid][0] if member.pid in peaks else _role(member, process)
            share = _pss(member.pid) if pss is not None else 0
        except (psutil.NoSuchProcess, psutil.AccessDenied, OSError):
            continue
        total += rss
        total_pss += share
        peaks[member.pid] = (role, max(rss, peaks.get(member.pid, (role, 0))[1]))
        if pss is not None:
            pss[member.pid] = max(share, pss.get(member.pid, 0))
    return total, total_pss


def _pss(pid: int) -> int:
    """Proportional set size of process ``pid`` in bytes."""
    with Path(f"/proc/{pid}/smaps_rollup").open(encoding="ascii") as rollup:
        for line in rollup:
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    return 0


_PRESENT = np.uint64(1 << 63)  # /proc/PID/pagemap, one 64-bit entry a virtual page
_FRAME = np.uint64((1 << 55) - 1)  # bits 0-54: the page frame number of a present page
_PAGE = os.sysconf("SC_PAGE_SIZE")


def _frames(pid: int) -> np.ndarray[Any, np.dtype[np.uint64]]:
    """Page frame numbers of every present page mapped by process ``pid`` (with repeats)."""
    chunks = []
    with (
        Path(f"/proc/{pid}/maps").open(encoding="ascii", errors="replace") as maps,
        Path(f"/proc/{pid}/pagemap").open("rb", buffering=0) as pagemap,
    ):
        for line in maps:
            start, end = (int(bound, 16) for bound in line.split(" ", 1)[0].split("-"))
            if start >= 1 << 47:  # [vsyscall]: above the user address space, not in pagemap
                continue
            pagemap.seek(start // _PAGE * 8)
            chunks.append(pagemap.read((end - start) // _PAGE * 8))
    entries = np.frombuffer(b"".join(chunks), dtype=np.uint64)
    return entries[(entries & _PRESENT) != 0] & _FRAME


def _resident(pids: list[int]) -> int | None:
    """Bytes of RAM the processes ``pids`` hold together, each physical page once; None
    when the kernel hides page frame numbers from this process (they read as 0)."""
    found = []
    for pid in pids:
        try:
            found.append(_frames(pid))
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue  # exited between the listing and the read; or not ours to read
    frames = np.concatenate(found) if found else np.empty(0, dtype=np.uint64)
    if frames.size and not frames.any():
        return None
    return int(np.unique(frames).size) * _PAGE


def _role(member: psutil.Process, root: psutil.Process) -> str:
    if member.pid == root.pid:
        return "main"
    line = " ".join(member.cmdline())
    if "cleaning_worker" in line:
        # The warm parent the workers are forked from has the same command line.
        parent = member.parent()
        forked = parent is not None and "cleaning_worker" in " ".join(parent.cmdline())
        return "clean" if forked else "warm parent"
    return "warc" if "warc_writer" in line else "child"


def _breakdown(peaks: dict[int, tuple[str, int]], sizes: dict[int, int] | None = None) -> str:
    """Peak memory by role, e.g. "main 94 + clean 199+181 + warc 28" (MB): the RSS in
    ``peaks``, or the sizes in ``sizes`` (by pid) when given."""
    roles: dict[str, list[int]] = {}
    for pid, (role, rss) in peaks.items():
        size = rss if sizes is None else sizes.get(pid, 0)
        roles.setdefault(role, []).append(round(size / 2**20))
    return " + ".join(f"{role} {'+'.join(map(str, sizes))}" for role, sizes in roles.items())


def _timed(command: list[str], cwd: Path, stdout: Path | None = None) -> Timed:
    """Run one command and measure it; its stdout goes to the file ``stdout`` instead when
    given (and `Timed.out` is ""). The peak RSS and PSS of each process of the tree, by
    role, are printed."""
    sink = stdout.open("w", encoding="utf-8") if stdout is not None else subprocess.PIPE
    machine = _cpu_times()
    started = time.perf_counter()
    child = subprocess.Popen(command, cwd=cwd, stdout=sink, stderr=subprocess.DEVNULL, text=True)
    watched = psutil.Process(child.pid)
    peak = peak_pss = 0
    peak_tree: int | None = 0
    peaks: dict[int, tuple[str, int]] = {}
    pss: dict[int, int] = {}
    done = threading.Event()

    def sample() -> None:
        nonlocal peak, peak_pss, peak_tree
        for n in itertools.count():
            if done.is_set():
                return
            try:
                rss, share = _tree_memory(watched, peaks, pss if n % 5 == 0 else None)
            except psutil.NoSuchProcess:
                return
            peak, peak_pss = max(peak, rss), max(peak_pss, share)
            if n % 25 == 0 and peak_tree is not None:
                resident = _resident(list(peaks))
                peak_tree = None if resident is None else max(peak_tree, resident)
            done.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out = child.stdout.read() if child.stdout is not None else ""
    own = _own_cpu(child.pid)
    _, status, usage = os.wait4(child.pid, 0)
    if stdout is not None:
        sink.close()  # type: ignore[union-attr]
    wall = time.perf_counter() - started
    done.set()
    sampler.join()
    child.returncode = os.waitstatus_to_exitcode(status)
    cpu = usage.ru_utime + usage.ru_stime
    print(f"   peak RSS by process (MB): {_breakdown(peaks)}", flush=True)
    print(f"   peak PSS by process (MB): {_breakdown(peaks, pss)}", flush=True)
    print(f"   machine during the run: {_machine_share(machine, _cpu_times())}", flush=True)
    tree = None if peak_tree is None else peak_tree / 2**20
    return Timed(wall, cpu, own, peak / 2**20, peak_pss / 2**20, tree, child.returncode, out)


def _cpu_times() -> list[int]:
    """The machine's CPU time by kind since boot, in clock ticks (/proc/stat's ``cpu``
    line: user, nice, system, idle, iowait, irq, softirq, steal, ...)."""
    with Path("/proc/stat").open(encoding="ascii") as stat:
        return [int(ticks) for ticks in stat.readline().split()[1:9]]


def _machine_share(before: list[int], after: list[int]) -> str:
    """How busy the machine was between two `_cpu_times` readings, and how much of its
    time the hypervisor gave to other machines (steal): a run with steal is slower for
    reasons outside it, so only rows with similar figures compare."""
    spent = [b - a for a, b in zip(before, after, strict=True)]
    total = sum(spent) or 1
    idle, steal = spent[3] + spent[4], spent[7]
    return f"busy {100 * (total - idle - steal) / total:.0f} %, steal {100 * steal / total:.1f} %"


def _own_cpu(pid: int) -> float:
    """CPU seconds (user + system) of process ``pid`` itself, read once it has exited and
    before it is reaped: a zombie's /proc/PID/stat still holds its own times (fields 14
    and 15), apart from its children's."""
    os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _config(path: Path, faults: bool) -> Path:
    path.write_text(
        "[settings]\nallow_private_addresses = true\n"
        f"[settings.politeness]\nper_host_concurrency = {PER_HOST}\ndelay = 0\n"
        + (
            "[settings.timeouts]\ntotal = 2\nread = 2\n"
            "[settings.retry]\nbackoff_base = 0.5\nbackoff_max = 4\n"
            if faults
            else ""
        ),
        encoding="utf-8",
    )
    return path


def _run_scraper(urls: Path, work: Path, raw_only: bool, faults: bool) -> Result:
    data = work / "data"
    command = [str(SCRAPER), "fetch-many", str(urls), "-c", str(_config(work / "b.toml", faults))]
    command += ["--data-dir", str(data)] + (["--raw-only"] if raw_only else [])
    timed = _timed(command, work)
    count = len(urls.read_text().split())
    if raw_only:
        from scraper.store.warc import iter_pages

        # Responses kept for reclean: one 200 per URL (a 503 before it is kept too).
        pages = iter_pages(data / "raw")
        records = len({p.url for p in pages if p.purpose == "page" and p.status == 200})
    else:
        asked = set(urls.read_text().split())
        records = _verified((_load(p) for p in (data / "clean").rglob("*.json")), asked, "url")
    rejects = len(list((data / "rejects").rglob("*.json"))) if (data / "rejects").exists() else 0
    out = timed.out.strip()
    note = f"exit {timed.code}; {out.splitlines()[-1] if out else ''}"
    if rejects:
        note += f"; {rejects} rejects"
    name = "scraper --raw-only" if raw_only else "scraper fetch-many"
    return Result(name, count, records, timed, note)


def _trafilatura_config(work: Path) -> Path:
    """trafilatura's own defaults, except its SSRF guard (it refuses the loopback hosts)
    and its politeness delay (the other clients run without one)."""
    import trafilatura

    defaults = Path(trafilatura.__file__).with_name("settings.cfg").read_text(encoding="utf-8")
    changed = defaults.replace("SSRF_PROTECTION = on", "SSRF_PROTECTION = off")
    changed = changed.replace("SLEEP_TIME = 5.0", "SLEEP_TIME = 0")
    assert changed.count("= off") and "SLEEP_TIME = 0\n" in changed, "settings.cfg changed"
    path = work / "trafilatura.cfg"
    path.write_text(changed, encoding="utf-8")
    return path


def _run_trafilatura(urls: Path, work: Path) -> Result:
    out = work / "trafilatura.jsonl"
    command = [str(TRAFILATURA), "-i", str(urls), "--json", "--with-metadata"]
    command += ["--parallel", "20", "--config-file", str(_trafilatura_config(work))]
    timed = _timed(command, work, stdout=out)
    asked = set(urls.read_text().split())
    with out.open(encoding="utf-8") as lines:
        found = _verified((_record(line) for line in lines), asked, "source")
    return Result("trafilatura CLI", len(asked), found, timed, f"exit {timed.code}")


def _record(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _load(path: Path) -> dict[str, Any]:
    try:
        return _record(path.read_text(encoding="utf-8"))
    except OSError:
        return {}


def _verified(records: Iterator[dict[str, Any]], asked: set[str], key: str) -> int:
    """How many of the ``asked`` URLs have a record with text (named by its ``key``)."""
    found = {record[key] for record in records if record.get("text") or record.get("body")}
    return len(found & asked)


def _run_baseline(urls: Path, work: Path) -> Result:
    out_dir = work / "baseline"
    command = [sys.executable, __file__, "baseline", str(urls), str(out_dir)]
    timed = _timed(command, work)
    asked = set(urls.read_text().split())
    found = _verified((_load(path) for path in out_dir.glob("*.json")), asked, "source")
    return Result("aiohttp+pool+trafilatura", len(asked), found, timed, f"exit {timed.code}")


# ------------------------------------------------------------------ the baseline client


def _extract(html: bytes, url: str) -> str | None:
    import trafilatura

    result: str | None = trafilatura.extract(
        html, url=url, output_format="json", with_metadata=True
    )
    return result


async def _baseline(urls: list[str], out_dir: Path) -> None:
    import aiohttp

    out_dir.mkdir(parents=True, exist_ok=True)
    loop = asyncio.get_running_loop()
    semaphores = {host: asyncio.Semaphore(PER_HOST) for host in HOSTS}
    in_pool = asyncio.Semaphore((os.cpu_count() or 1) * 4)  # bounded, as ours is
    with ProcessPoolExecutor(os.cpu_count()) as pool:
        connector = aiohttp.TCPConnector(limit=0, limit_per_host=PER_HOST)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def one(number: int, url: str) -> None:
                host = url.split("/")[2].split(":")[0]
                async with semaphores[host], session.get(url) as response:
                    body = await response.read()
                async with in_pool:
                    text = await loop.run_in_executor(pool, _extract, body, url)
                if text:
                    (out_dir / f"{number}.json").write_text(text, encoding="utf-8")

            await asyncio.gather(*(one(n, url) for n, url in enumerate(urls)))


# ------------------------------------------------------------------ driver


def _row(r: Result) -> str:
    t = r.timed
    rate = r.records / t.wall if t.wall else 0.0
    tree = "n/a" if t.peak_tree_mb is None else f"{t.peak_tree_mb:.0f}"
    return (
        f"{r.client:<26} {r.urls:>6} {r.records:>6} {t.wall:>7.1f} {rate:>8.1f} "
        f"{100 * (r.urls / t.wall) / LIMIT:>6.1f}% {1000 * t.cpu / max(r.urls, 1):>8.1f} "
        f"{1000 * t.own_cpu / max(r.urls, 1):>8.2f} "
        f"{t.peak_mb:>8.0f} {t.peak_pss_mb:>7.0f} {tree:>7}  {r.note}"
    )


HEADER = (
    f"{'client':<26} {'urls':>6} {'recs':>6} {'wall s':>7} {'pages/s':>8} {'of lim':>7} "
    f"{'CPU ms/p':>8} {'own ms/p':>8} {'RSS MB':>8} {'PSS MB':>7} {'tree MB':>7}  note"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    base = sub.add_parser("baseline")
    base.add_argument("urls", type=Path)
    base.add_argument("out", type=Path)
    parser.add_argument("--sizes", default="2000,10000")
    parser.add_argument("--clients", default="scraper,raw-only,trafilatura,baseline")
    parser.add_argument("--faults", action="store_true", help="raw-only with fetch_bench faults")
    args = parser.parse_args()
    if args.command == "baseline":
        asyncio.run(_baseline(args.urls.read_text().split(), args.out))
        return
    clients = args.clients.split(",")
    print(f"load average before: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores, shared)")
    print(f"fetch limit: {LIMIT:.0f} pages/s; pages/s = verified records / process wall time")
    for size in map(int, args.sizes.split(",")):
        print(f"\n## {size} URLs\n{HEADER}", flush=True)
        for client in clients:
            with _served(size, faults=False) as (urls, work):
                result = _run(client, urls, work)
            print(_row(result), flush=True)
    if args.faults:
        size = int(args.sizes.split(",")[0])
        print(f"\n## faults, raw-only, {size} URLs (10 % 503 once, 2 % hang once, 1 % redirect)")
        print(HEADER)
        with _served(size, faults=True) as (urls, work):
            result = _run_scraper(urls, work, True, True)
            state = _state_counts(work / "data" / "state.sqlite")
        print(_row(result))
        lost = size - result.records - state["errors"]
        print(f"   stored {result.records}, failed with a reason {state['errors']}; lost: {lost}")
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")


@contextmanager
def _served(size: int, faults: bool) -> Iterator[tuple[Path, Path]]:
    """A fresh loopback server and work folder, and the file of ``size`` URLs in it."""
    server, port = _start_server(faults)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            urls = work / "urls.txt"
            urls.write_text("\n".join(_urls(port, size)) + "\n", encoding="utf-8")
            yield urls, work
    finally:
        server.terminate()
        server.wait()


def _run(client: str, urls: Path, work: Path) -> Result:
    if client == "trafilatura":
        return _run_trafilatura(urls, work)
    if client == "baseline":
        return _run_baseline(urls, work)
    return _run_scraper(urls, work, raw_only=client == "raw-only", faults=False)


def _state_counts(path: Path) -> dict[str, Any]:
    import sqlite3

    with sqlite3.connect(path) as db:
        errors = db.execute(
            "SELECT count(*) FROM urls WHERE last_error IS NOT NULL OR last_status != 200"
        ).fetchone()
    return {"errors": errors[0]}


if __name__ == "__main__":
    main()
