"""Fetcher speed, memory and fault tolerance, fully on loopback, side by side with bare httpx.

A server process answers on 20 virtual hosts (127.0.0.2 ... 127.0.0.21, all loopback on
Linux) with 30-80 KB article pages, each response held 50 ms. With 2 requests in flight
per host and no politeness delay the physical limit is 20 x 2 / 0.05 s = 800 pages/s.
Each client runs in its own process, so its CPU seconds and peak RSS are its own; the
server's CPU is read from /proc to show it is not the bottleneck.

Scenarios:
  speed   our Fetcher (robots.txt on, no raw store), our Fetcher writing WARC through
          the writer process (as `scraper run` does) and in-process (`WarcStore`),
          a bare httpx.AsyncClient loop with the same per-host semaphores, and a
          raw asyncio-streams HTTP/1.1 loop: the floor of the event loop and sockets
  faults  10 % of pages answer 503 + Retry-After: 1 once, 2 % hang once, 1 % redirect:
          pages lost must be 0 and every failure must carry a reason
  rss     our Fetcher with WARC at 2,000 and 20,000 URLs: peak RSS should stay flat

With ``--transports``, bare loops on aiohttp and on httpx over ``httpx-aiohttp`` join
the speed scenario (the two candidate libraries of issue 11).

With ``--baseline SRC`` (the ``src`` folder of another checkout, e.g. a ``git worktree``
of an older commit), the Fetcher rows are also run on that code, in the same sitting and
alternating with ours, so a change can be compared with what it replaces.

Usage:  .venv/bin/python benchmarks/fetch_bench.py [--scenario all|speed|faults|rss]
                                                   [--baseline SRC] [--transports] [--repeat N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

HOSTS = [f"127.0.0.{i}" for i in range(2, 22)]
DELAY = 0.05
PER_HOST = 2
LIMIT = len(HOSTS) * PER_HOST / DELAY
ROBOTS = b"User-agent: *\nAllow: /\n"
_WORDS = [
    "council",
    "harbour",
    "ferry",
    "budget",
    "night",
    "bus",
    "market",
    "square",
    "river",
    "bridge",
    "library",
    "school",
    "columnist",
    "argues",
    "that",
    "the",
    "town",
    "should",
    "keep",
    "its",
    "promise",
    "to",
    "people",
    "who",
    "work",
    "late",
]


# ---------------------------------------------------------------- server


def _pages(count: int = 64) -> list[bytes]:
    """Distinct article-shaped pages of 30-80 KB (made up, deterministic)."""
    rng = random.Random(4)
    pages = []
    for i in range(count):
        target = rng.randint(30_000, 80_000)
        parts = [f"<!doctype html><html><head><title>Column {i}</title></head><body><article>"]
        size = len(parts[0])
        while size < target:
            para = "<p>" + " ".join(rng.choice(_WORDS) for _ in range(rng.randint(40, 90)))
            parts.append(para + ".</p>\n")
            size += len(parts[-1])
        parts.append("</article></body></html>")
        pages.append("".join(parts).encode())
    return pages


class _Fault:
    def __init__(self, faults: bool) -> None:
        self.faults = faults
        self.hits: Counter[str] = Counter()

    def kind(self, path: str) -> str:
        """What this request gets: each fault happens on the first request only."""
        self.hits[path] += 1
        if not self.faults or not path.startswith("/p/") or self.hits[path] > 1:
            return "ok"
        n = int(path.rsplit("/", 1)[1])
        bucket = (n * 2654435761) % 100  # spread faults over hosts and positions
        if bucket < 10:
            return "503"
        if bucket < 12:
            return "hang"
        if bucket < 13:
            return "redirect"
        return "ok"


class _Http(asyncio.Protocol):
    """Minimal keep-alive HTTP/1.1: GET only, Content-Length bodies, 50 ms per response."""

    def __init__(self, pages: list[bytes], fault: _Fault) -> None:
        self.pages = pages
        self.fault = fault
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
            path = head.split(b" ", 2)[1].decode("latin-1")
            kind = self.fault.kind(path)
            if kind != "hang":
                asyncio.get_running_loop().call_later(DELAY, self._answer, path, kind)

    def _answer(self, path: str, kind: str) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        headers = ""
        if path == "/robots.txt":
            status, body, kind_header = "200 OK", ROBOTS, "text/plain"
        elif kind == "503":
            status, body, kind_header = "503 Service Unavailable", b"busy", "text/plain"
            headers = "Retry-After: 1\r\n"
        elif kind == "redirect":
            status, body, kind_header = "301 Moved Permanently", b"", "text/plain"
            headers = f"Location: /moved{path}\r\n"
        elif path.startswith(("/p/", "/moved/p/")):
            n = int(path.rsplit("/", 1)[1])
            status, body, kind_header = "200 OK", self.pages[n % len(self.pages)], "text/html"
        else:
            status, body, kind_header = "404 Not Found", b"no", "text/plain"
        head = (
            f"HTTP/1.1 {status}\r\nContent-Type: {kind_header}; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\n{headers}\r\n"
        )
        self.transport.write(head.encode("latin-1") + body)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


async def _serve(port: int, faults: bool) -> None:
    pages = _pages()
    fault = _Fault(faults)
    loop = asyncio.get_running_loop()
    servers = [
        await loop.create_server(lambda: _Http(pages, fault), host, port, backlog=1024)
        for host in HOSTS
    ]
    print("ready", flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


# ---------------------------------------------------------------- clients


def _urls(port: int, count: int) -> list[str]:
    # Interleaved hosts, as a crawl of many sources comes out.
    return [f"http://{HOSTS[i % len(HOSTS)]}:{port}/p/{i}" for i in range(count)]


async def _run_ours(
    urls: list[str], faults: bool, raw_dir: str | None, inline: bool = False
) -> dict[str, Any]:
    from scraper.fetch.fetcher import Fetcher, FetchRequest
    from scraper.settings import Politeness, RetryPolicy, Settings, Timeouts
    from scraper.store.warc import WarcStore
    from scraper.store.warc_writer import WarcWriterProcess

    settings = Settings(
        politeness=Politeness(per_host_concurrency=PER_HOST, delay=0, obey_robots=True),
        # The hang is stopped by the read timeout; `total` is the whole page's budget.
        timeouts=Timeouts(connect=5, read=2, total=30),
        retry=RetryPolicy(attempts=4, backoff_base=0.5, backoff_max=4),
        allow_private_addresses=True,
    )
    store: WarcStore | WarcWriterProcess | None = None
    if raw_dir:
        store = WarcStore(Path(raw_dir)) if inline else WarcWriterProcess(Path(raw_dir))
    ok = failed = body_bytes = 0
    reasons: Counter[str] = Counter()
    attempts = 0
    try:
        async with Fetcher(settings, raw_store=store) as fetcher:
            requests = (FetchRequest(url) for url in urls)
            async for outcome in fetcher.fetch_all(requests):
                attempts += outcome.attempts
                if outcome.error is None and outcome.page is not None:
                    ok += 1
                    body_bytes += len(outcome.page.body)
                else:
                    failed += 1
                    reasons[outcome.error.reason.value if outcome.error else "none"] += 1
    finally:
        if store is not None:
            store.close()
    return {
        "ok": ok,
        "failed": failed,
        "reasons": dict(reasons),
        "bytes": body_bytes,
        "attempts": attempts,
    }


async def _run_httpx(urls: list[str], faults: bool) -> dict[str, Any]:
    import httpx

    semaphores = {host: asyncio.Semaphore(PER_HOST) for host in HOSTS}
    ok = failed = body_bytes = 0
    reasons: Counter[str] = Counter()
    timeout = httpx.Timeout(2 if faults else 30, connect=5)
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=200)
    async with httpx.AsyncClient(timeout=timeout, limits=limits, follow_redirects=True) as client:

        async def one(url: str) -> None:
            nonlocal ok, failed, body_bytes
            host = url.split("/")[2].split(":")[0]
            async with semaphores[host]:
                try:
                    response = await client.get(url)
                except httpx.HTTPError as exc:
                    failed += 1
                    reasons[type(exc).__name__] += 1
                    return
            if response.status_code == 200:
                ok += 1
                body_bytes += len(response.content)
            else:
                failed += 1
                reasons[f"HTTP {response.status_code}"] += 1

        await asyncio.gather(*(one(url) for url in urls))
    return {"ok": ok, "failed": failed, "reasons": dict(reasons), "bytes": body_bytes}


async def _run_aiohttp(urls: list[str], faults: bool, through_httpx: bool) -> dict[str, Any]:
    """Bare loops on aiohttp, directly or as httpx's transport (`httpx-aiohttp`): the two
    ways issue 11 offered to replace the home-made transport."""
    import aiohttp

    semaphores = {host: asyncio.Semaphore(PER_HOST) for host in HOSTS}
    ok = failed = body_bytes = 0
    reasons: Counter[str] = Counter()
    read_timeout = 2 if faults else 30
    connector = aiohttp.TCPConnector(limit=0)
    session = aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(sock_read=read_timeout, sock_connect=5)
    )
    get: Any
    if through_httpx:
        import httpx
        import httpx_aiohttp

        client = httpx.AsyncClient(
            transport=httpx_aiohttp.AiohttpTransport(client=session),
            timeout=httpx.Timeout(read_timeout, connect=5),
            follow_redirects=True,
        )

        async def get(url: str) -> tuple[int, bytes]:
            response = await client.get(url)
            return response.status_code, response.content

    else:

        async def get(url: str) -> tuple[int, bytes]:
            async with session.get(url) as response:
                return response.status, await response.read()

    async def one(url: str) -> None:
        nonlocal ok, failed, body_bytes
        host = url.split("/")[2].split(":")[0]
        async with semaphores[host]:
            try:
                status, body = await get(url)
            except Exception as exc:
                failed += 1
                reasons[type(exc).__name__] += 1
                return
        if status == 200:
            ok += 1
            body_bytes += len(body)
        else:
            failed += 1
            reasons[f"HTTP {status}"] += 1

    try:
        await asyncio.gather(*(one(url) for url in urls))
    finally:
        await session.close()
    return {"ok": ok, "failed": failed, "reasons": dict(reasons), "bytes": body_bytes}


async def _run_raw(urls: list[str]) -> dict[str, Any]:
    """The floor: plain asyncio streams speaking HTTP/1.1, 2 keep-alive connections a host.

    Not a client anyone should use (no timeouts, redirects, chunked bodies...): it only
    shows what the event loop and sockets cost here, so the rest is the HTTP stack's.
    """
    queues: dict[str, asyncio.Queue[str]] = {host: asyncio.Queue() for host in HOSTS}
    for url in urls:
        queues[url.split("/")[2].split(":")[0]].put_nowait(url)
    ok = body_bytes = 0

    async def worker(host: str) -> None:
        nonlocal ok, body_bytes
        queue = queues[host]
        port = int(urls[0].split("/")[2].split(":")[1])
        reader, writer = await asyncio.open_connection(host, port)
        while not queue.empty():
            path = "/" + queue.get_nowait().split("/", 3)[3]
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            body = await reader.readexactly(length)
            if head.startswith(b"HTTP/1.1 200"):
                ok += 1
                body_bytes += len(body)
        writer.close()

    await asyncio.gather(*(worker(host) for host in HOSTS for _ in range(PER_HOST)))
    return {"ok": ok, "failed": len(urls) - ok, "reasons": {}, "bytes": body_bytes}


def _client(args: argparse.Namespace) -> None:
    urls = _urls(args.port, args.pages)
    if args.kind in ("httpx", "httpx-aiohttp"):
        import httpx  # noqa: F401  (imported before the clock starts, like ours)
    if args.kind in ("aiohttp", "httpx-aiohttp"):
        import aiohttp  # noqa: F401
    elif args.kind not in ("raw", "httpx"):
        import scraper.fetch.fetcher  # noqa: F401
    profiler = None
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005, async_mode="disabled")
        profiler.start()
    cpu0 = time.process_time()
    wall0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as raw:
        if args.kind == "httpx":
            result = asyncio.run(_run_httpx(urls, args.faults))
        elif args.kind == "raw":
            result = asyncio.run(_run_raw(urls))
        elif args.kind in ("aiohttp", "httpx-aiohttp"):
            through_httpx = args.kind == "httpx-aiohttp"
            result = asyncio.run(_run_aiohttp(urls, args.faults, through_httpx))
        else:
            raw_dir = raw if args.kind.startswith("warc") else None
            result = asyncio.run(_run_ours(urls, args.faults, raw_dir, args.kind == "warc-inline"))
        wall = time.perf_counter() - wall0
        cpu = time.process_time() - cpu0
        children = os.times()  # the WARC writer process, waited for by then
        raw_bytes = sum(p.stat().st_size for p in Path(raw).glob("*.warc.gz"))
    if profiler is not None:
        profiler.stop()
        Path(args.profile).write_text(profiler.output_text(unicode=False, show_all=False))
    result.update(
        kind=args.kind,
        pages=len(urls),
        wall=wall,
        cpu=cpu,
        writer_cpu=children.children_user + children.children_system,
        rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        writer_rss_mb=resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
        raw_mb=raw_bytes / 1e6,
    )
    print(json.dumps(result))


# ---------------------------------------------------------------- driver


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _start_server(faults: bool) -> tuple[subprocess.Popen[str], int]:
    import socket

    for _ in range(20):
        with socket.socket() as probe:
            probe.bind((HOSTS[0], 0))
            port = probe.getsockname()[1]
        server = subprocess.Popen(
            [sys.executable, __file__, "serve", "--port", str(port)]
            + (["--faults"] if faults else []),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert server.stdout is not None
        if server.stdout.readline().strip() == "ready":
            return server, port
        server.kill()
    raise SystemExit("could not start the loopback server")


def _measure(
    kind: str,
    pages: int,
    faults: bool,
    profile: str | None = None,
    baseline: str | None = None,
) -> dict[str, Any]:
    """One client run in its own process; ``baseline``: import the scraper from that src."""
    env = dict(os.environ)
    if baseline:
        env["PYTHONPATH"] = str(Path(baseline).resolve())
    server, port = _start_server(faults)
    try:
        server_cpu0 = _cpu_seconds(server.pid)
        command = [sys.executable, __file__, "client", kind, "--port", str(port)]
        command += ["--pages", str(pages)] + (["--faults"] if faults else [])
        command += ["--profile", profile] if profile else []
        done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
        if done.returncode != 0:
            raise SystemExit(f"client {kind} failed:\n{done.stderr}")
        result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        result["server_cpu"] = _cpu_seconds(server.pid) - server_cpu0
    finally:
        server.terminate()
        server.wait()
    return result


def _row(name: str, r: dict[str, Any]) -> str:
    rate = r["ok"] / r["wall"]
    return (
        f"{name:<22} {r['pages']:>6} {r['ok']:>6} {r['failed']:>6} {r['wall']:>7.2f} "
        f"{rate:>8.0f} {100 * rate / LIMIT:>6.1f}% {r['cpu']:>7.2f} "
        f"{1000 * r['cpu'] / max(r['ok'], 1):>7.2f} {r['rss_mb']:>7.1f} "
        f"{r['server_cpu'] / r['wall'] * 100:>6.0f}%"
        + (
            f" {r['writer_cpu']:>7.2f} {r['writer_rss_mb']:>7.1f}"
            if r.get("writer_cpu")
            else f" {'-':>7} {'-':>7}"
        )
    )


HEADER = (
    f"{'client':<22} {'urls':>6} {'ok':>6} {'failed':>6} {'wall s':>7} {'pages/s':>8} "
    f"{'of lim':>7} {'cpu s':>7} {'ms/page':>7} {'RSS MB':>7} {'server':>7} "
    f"{'writer s':>7} {'w. RSS':>7}"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve")
    serve.add_argument("--port", type=int, required=True)
    serve.add_argument("--faults", action="store_true")
    client = sub.add_parser("client")
    kinds = ["ours", "warc", "warc-inline", "httpx", "aiohttp", "httpx-aiohttp", "raw"]
    client.add_argument("kind", choices=kinds)
    client.add_argument("--port", type=int, required=True)
    client.add_argument("--pages", type=int, default=2000)
    client.add_argument("--faults", action="store_true")
    client.add_argument("--profile")
    parser.add_argument("--scenario", choices=["all", "speed", "faults", "rss"], default="all")
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=1, help="speed runs per client")
    parser.add_argument("--profile", help="write a pyinstrument profile of ours to this file")
    parser.add_argument("--baseline", help="src folder of another checkout to run side by side")
    parser.add_argument(
        "--transports",
        action="store_true",
        help="add bare aiohttp and httpx-on-aiohttp loops to the speed scenario",
    )
    args = parser.parse_args()
    if args.command == "serve":
        asyncio.run(_serve(args.port, args.faults))
        return
    if args.command == "client":
        _client(args)
        return

    print(f"load average before: {os.getloadavg()[0]:.2f} (2 cores shared)")
    print(f"limit: {len(HOSTS)} hosts x {PER_HOST} in flight / {DELAY * 1000:.0f} ms = {LIMIT:.0f}")
    print("server = server process CPU as a share of one core during the run")
    print("cpu s, ms/page, RSS = the fetching process; writer = the WARC writer process")
    if args.scenario in ("all", "speed"):
        print("\n## speed: 2,000 pages, no faults\n" + HEADER)
        clients: list[tuple[str, str, str | None]] = [
            ("httpx", "bare httpx loop", None),
            ("ours", "Fetcher", None),
            ("warc", "Fetcher + WARC store", None),
            ("warc-inline", "Fetcher + WARC inline", None),
            ("raw", "raw asyncio (floor)", None),
        ]
        if args.transports:
            clients[1:1] = [
                ("aiohttp", "bare aiohttp loop", None),
                ("httpx-aiohttp", "httpx on aiohttp loop", None),
            ]
        if args.baseline:  # each right after ours, so both see the same minute's load
            for kind, name in (("ours", "Fetcher (baseline)"), ("warc", "Fetcher + WARC (base)")):
                at = next(i for i, client in enumerate(clients) if client[0] == kind)
                clients.insert(at + 1, (kind, name, args.baseline))
        for _ in range(args.repeat):
            for kind, name, src in clients:
                print(_row(name, _measure(kind, args.pages, False, baseline=src)), flush=True)
    if args.profile:
        _measure("ours", args.pages, False, profile=args.profile)
        print(f"\nprofile of Fetcher written to {args.profile}")
    if args.scenario in ("all", "faults"):
        print("\n## faults: 10 % 503 + Retry-After: 1, 2 % hang (2 s timeout), 1 % redirect\n")
        print(HEADER)
        faulty: list[tuple[str, str, str | None]] = [
            ("httpx", "bare httpx loop", None),
            ("warc", "Fetcher + WARC store", None),
        ]
        if args.baseline:
            faulty.append(("warc", "Fetcher + WARC (base)", args.baseline))
        for kind, name, src in faulty:
            result = _measure(kind, args.pages, True, baseline=src)
            print(_row(name, result))
            lost = result["pages"] - result["ok"] - result["failed"]
            print(
                f"   failures by reason: {result['reasons'] or 'none'}; "
                f"unaccounted (lost): {lost}; pages not fetched: {result['pages'] - result['ok']}"
            )
    if args.scenario in ("all", "rss"):
        print("\n## rss: Fetcher + WARC store, 2,000 vs 20,000 URLs\n" + HEADER)
        for pages in (args.pages, args.pages * 10):
            print(_row("Fetcher + WARC store", _measure("warc", pages, False)), flush=True)
    print(f"\nload average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
