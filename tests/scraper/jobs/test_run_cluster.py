"""`scraper run --cluster`: hosts sharded over a real Dask LocalCluster (2 worker processes
on 127.0.0.1); output identical to the in-process run, even when a worker dies mid-run."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from scraper.clock import utc_now
from scraper.demo.server import DemoServer
from scraper.discovery.sources import SourcesConfig, load_sources
from scraper.fetch.fetcher import FetchRequest
from scraper.fetch.politeness import host_key
from scraper.jobs.progress import Reporter
from scraper.jobs.run import run_once
from scraper.jobs.sharded import shard_by_host
from tests.conftest import run_scraper
from tests.scraper.jobs.test_run import records, server, write_config

pytest.importorskip("distributed", reason="the [dask] extra is not installed")

__all__ = ["server"]  # the fixture, shared with test_run


def test_every_host_lands_in_exactly_one_shard() -> None:
    urls = [
        f"http://127.0.0.{h}:80{p}/a/{i}" for h in range(2, 9) for p in (80, 81) for i in range(5)
    ]
    requests = [FetchRequest(url) for url in urls]

    shards = shard_by_host(requests, 3)

    assert sorted(r.url for shard in shards for r in shard) == sorted(urls)
    owners: dict[str, set[int]] = {}
    for number, shard in enumerate(shards):
        for request in shard:
            owners.setdefault(host_key(request.url), set()).add(number)
    assert all(len(owner) == 1 for owner in owners.values())
    assert shard_by_host(requests, 3) == shards, "deterministic"


def test_cluster_run_output_is_identical(server: DemoServer, workdir: Path) -> None:
    write_config(workdir, server)

    alone = run_scraper("run", "--data-dir", "alone", cwd=workdir)
    spread = run_scraper(
        "run", "--data-dir", "spread", "--cluster", "local:2", cwd=workdir, timeout=180
    )

    assert alone.returncode == 0, alone.stderr
    assert spread.returncode == 0, spread.stderr
    assert records(workdir / "spread") == records(workdir / "alone")
    assert len(records(workdir / "alone")) == 5


def _configured(workdir: Path, server: DemoServer, data_dir: Path) -> SourcesConfig:
    config = load_sources(write_config(workdir, server))
    settings = config.settings.with_overrides(data_dir=data_dir)
    return config.model_copy(update={"settings": settings})


def test_worker_killed_mid_run_output_still_complete(server: DemoServer, workdir: Path) -> None:
    from scraper.jobs.cluster import ClusterSpec, dask_executor

    server.delay = 0.2  # a shard takes seconds, so the kill lands while it runs
    reference = _configured(workdir, server, workdir / "alone")
    reporter = Reporter("plain", clock=utc_now, stream=io.StringIO())
    asyncio.run(run_once(reference, reference.sources, reporter=reporter, clock=utc_now))
    config = _configured(workdir, server, workdir / "spread")
    killed: list[int] = []

    with dask_executor(ClusterSpec(local_workers=2), timeout=60) as executor:
        pids: dict[str, int] = executor.client.run(os.getpid)

        def kill_a_busy_worker() -> None:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                busy = [a for a, keys in executor.client.processing().items() if keys]
                fetching = sum("/opinion/" in p or "/column/" in p for p, _ in server.requests)
                if busy and fetching > 2:
                    os.kill(pids[busy[0]], signal.SIGKILL)
                    killed.append(pids[busy[0]])
                    return
                time.sleep(0.05)

        server.requests.clear()
        killer = threading.Thread(target=kill_a_busy_worker)
        killer.start()
        summary = asyncio.run(
            run_once(config, config.sources, reporter=reporter, clock=utc_now, executor=executor)
        )
        killer.join()

    assert killed, "a worker was killed while it held a shard"
    assert summary.ok, summary.counts()
    assert records(workdir / "spread") == records(workdir / "alone")
