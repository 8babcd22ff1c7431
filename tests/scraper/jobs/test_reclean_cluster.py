"""`scraper reclean --cluster` on a real Dask LocalCluster: 2 worker processes on 127.0.0.1."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scraper.jobs.cluster import (
    ClusterSpec,
    ClusterUnavailable,
    DaskExecutor,
    dask_executor,
    parse_cluster,
)
from scraper.jobs.reclean import reclean
from tests.conftest import run_scraper
from tests.scraper.warc_pages import mixed_store, tree

pytest.importorskip("distributed", reason="the [dask] extra is not installed")


@pytest.fixture
def executor() -> Iterator[DaskExecutor]:
    with dask_executor(ClusterSpec(local_workers=2), timeout=60) as running:
        yield running


def test_cluster_output_is_byte_identical_to_in_process(workdir: Path) -> None:
    mixed_store(workdir / "raw", articles=16, files=4)

    alone = run_scraper("reclean", "raw", "--data-dir", "alone", cwd=workdir)
    spread = run_scraper(
        "reclean", "raw", "--data-dir", "spread", "--cluster", "local:2", cwd=workdir, timeout=120
    )

    assert alone.returncode == 0, alone.stderr
    assert spread.returncode == 0, spread.stderr
    expected = tree(workdir / "alone")
    assert len(expected) == 20
    assert tree(workdir / "spread") == expected
    assert "pages/s (local:2)" in spread.stdout
    assert spread.stdout.splitlines()[:4] == alone.stdout.splitlines()[:4]


class _KillOneWorker:
    """A progress sink that kills a busy worker process once cleaning has begun."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.pids: dict[str, int] = client.run(os.getpid)
        self.killed: tuple[str, int, int] | None = None  # (address, pid, tasks it held)

    def start(self, phase: str, total: int) -> None:
        pass

    def advance(self, phase: str, amount: int) -> None:
        if phase != "clean" or self.killed is not None:
            return
        busy = {address: len(keys) for address, keys in self.client.processing().items()}
        address = max(busy, key=lambda worker: busy[worker])
        os.kill(self.pids[address], signal.SIGKILL)
        self.killed = (address, self.pids[address], busy[address])


def test_worker_killed_mid_run_output_still_complete(
    tmp_path: Path, executor: DaskExecutor
) -> None:
    store = mixed_store(tmp_path / "raw", articles=40, files=3)
    expected = reclean(store.raw, tmp_path / "alone")
    killer = _KillOneWorker(executor.client)

    summary = reclean(
        store.raw, tmp_path / "spread", executor=executor, batch_size=2, reporter=killer
    )

    assert killer.killed is not None
    _, pid, held = killer.killed
    assert held >= 1, "the killed worker was holding tasks"
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not summary.errors and not summary.partial
    assert summary.articles == expected.articles == 40
    assert tree(tmp_path / "spread") == tree(tmp_path / "alone")


def test_unreachable_scheduler_is_reported() -> None:
    spec = parse_cluster("tcp://127.0.0.1:9")  # discard port: nothing listens there

    with (
        pytest.raises(ClusterUnavailable, match=r"cannot reach the Dask scheduler"),
        dask_executor(spec, timeout=1),
    ):
        pass


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("local:3", ClusterSpec(local_workers=3)),
        ("tcp://scheduler.internal:8786", ClusterSpec(address="tcp://scheduler.internal:8786")),
        ("127.0.0.5:8786", ClusterSpec(address="tcp://127.0.0.5:8786")),
    ],
)
def test_parse_cluster(value: str, expected: ClusterSpec) -> None:
    assert parse_cluster(value) == expected
