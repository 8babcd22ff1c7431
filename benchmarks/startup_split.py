"""Where a `scraper fetch-many --raw-only` run's wall time goes: start-up, fetching, exit.

fetch_bench's loopback server (20 hosts, 50 ms a response, limit 800 pages/s) marks the
first article request it receives and the last article response it writes, on the
system's monotonic clock, which this driver reads too: start-up is process start to the
first article request (imports, the URL file, the robots.txt round), fetch is first
request to last response, exit is last response to process exit (closing the WARC
writer and the state, interpreter finalization). With ``--baseline SRC`` each round runs
that source tree too (``PYTHONPATH``), alternating with this one, in the same sitting.

Usage:  flock /tmp/bench.lock .venv/bin/python benchmarks/startup_split.py \\
            [--size 10000] [--rounds 3] [--baseline OTHER/src]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
import fetch_bench
from fetch_bench import HOSTS, LIMIT, _urls

SCRAPER = Path(sys.executable).parent / "scraper"
_SRC = Path(__file__).resolve().parent.parent / "src"


class _Marked(fetch_bench._Http):
    """fetch_bench's server, marking the first article request and the last response."""

    marks: dict[str, float] = {}  # noqa: RUF012  (one server process, one run)

    def data_received(self, data: bytes) -> None:
        if b"GET /marks " in data and self.transport is not None:
            body = json.dumps(_Marked.marks).encode()
            head = f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
            self.transport.write(head.encode() + body)
            self.transport.close()
            return
        if "first" not in _Marked.marks and b"GET /p/" in data:
            _Marked.marks["first"] = time.monotonic()
        super().data_received(data)

    def _answer(self, path: str, kind: str) -> None:
        super()._answer(path, kind)
        if path.startswith("/p/"):
            _Marked.marks["last"] = time.monotonic()


async def _serve(port: int) -> None:
    pages = fetch_bench._pages()
    fault = fetch_bench._Fault(False)
    loop = asyncio.get_running_loop()
    servers = [
        await loop.create_server(lambda: _Marked(pages, fault), host, port, backlog=1024)
        for host in HOSTS
    ]
    print("ready", flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


def _start_server() -> tuple[subprocess.Popen[str], int]:
    import socket

    with socket.socket() as probe:
        probe.bind((HOSTS[0], 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, __file__, "serve", "--port", str(port)], stdout=subprocess.PIPE, text=True
    )
    assert server.stdout is not None
    if server.stdout.readline().strip() != "ready":
        raise SystemExit("could not start the loopback server")
    return server, port


def _one(src: Path, size: int) -> dict[str, Any]:
    server, port = _start_server()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            urls = work / "urls.txt"
            urls.write_text("\n".join(_urls(port, size)) + "\n", encoding="utf-8")
            config = work / "b.toml"
            config.write_text(
                "[settings]\nallow_private_addresses = true\n"
                "[settings.politeness]\nper_host_concurrency = 2\ndelay = 0\n",
                encoding="utf-8",
            )
            command = [str(SCRAPER), "fetch-many", str(urls), "-c", str(config)]
            command += ["--data-dir", str(work / "data"), "--raw-only"]
            env = dict(os.environ, PYTHONPATH=str(src))
            load = os.getloadavg()[0]
            started = time.monotonic()
            done = subprocess.run(command, cwd=work, env=env, capture_output=True, check=False)
            ended = time.monotonic()
            if done.returncode != 0:
                raise SystemExit(f"fetch-many failed ({done.returncode}): {done.stderr[-500:]!r}")
            with urllib.request.urlopen(f"http://{HOSTS[0]}:{port}/marks") as answer:
                marks = json.loads(answer.read())
    finally:
        server.terminate()
        server.wait()
    wall = ended - started
    return {
        "wall": wall,
        "start": marks["first"] - started,
        "fetch": marks["last"] - marks["first"],
        "exit": ended - marks["last"],
        "of_limit": 100 * size / wall / LIMIT,
        "steady": 100 * size / (marks["last"] - marks["first"]) / LIMIT,
        "load": load,
    }


def _line(name: str, r: dict[str, Any]) -> str:
    return (
        f"{name:<10} {r['wall']:7.2f} {r['of_limit']:6.1f}% {r['start']:7.3f} "
        f"{r['fetch']:7.2f} {r['steady']:6.1f}% {r['exit']:7.3f} {r['load']:5.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve")
    serve.add_argument("--port", type=int, required=True)
    parser.add_argument("--size", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--baseline", type=Path, help="src folder of another tree, alternated")
    args = parser.parse_args()
    if args.command == "serve":
        asyncio.run(_serve(args.port))
        return
    trees = [("this", _SRC)] + ([("baseline", args.baseline.resolve())] if args.baseline else [])
    print(f"{args.size} URLs, limit {LIMIT:.0f} pages/s; times in s, load = 1-min average")
    print(
        f"{'tree':<10} {'wall':>7} {'of lim':>7} {'start':>7} {'fetch':>7} {'steady':>7} "
        f"{'exit':>7} {'load':>5}"
    )
    results: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in trees}
    for _ in range(args.rounds):
        for name, src in trees:
            results[name].append(_one(src, args.size))
            print(_line(name, results[name][-1]), flush=True)
    for name, runs in results.items():
        median = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        print(_line(f"{name} med", median))


if __name__ == "__main__":
    main()
