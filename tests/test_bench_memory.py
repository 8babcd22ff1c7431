"""pipeline_bench's `tree MB`: the resident pages of a process tree, each counted once."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import psutil
import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
BLOCK = 64 * 2**20
PAGE = os.sysconf("SC_PAGE_SIZE")


def _pipeline_bench() -> ModuleType:
    # Registered before it runs: its dataclasses look their module up by name.
    spec = importlib.util.spec_from_file_location(
        "pipeline_bench", BENCHMARKS / "pipeline_bench.py"
    )
    assert spec is not None and spec.loader is not None
    module = sys.modules.setdefault("pipeline_bench", importlib.util.module_from_spec(spec))
    spec.loader.exec_module(module)
    return module


def test_pages_shared_after_a_fork_count_once_and_copies_count_again() -> None:
    bench = _pipeline_bench()
    block = bytearray(os.urandom(BLOCK))  # every page touched, so resident
    go, went = os.pipe()
    done, said = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: wait, write to every page of the block (copies), say so, wait
        os.close(went)
        os.close(done)
        os.read(go, 1)
        for offset in range(0, BLOCK, PAGE):
            block[offset] = 1
        os.write(said, b"x")
        os.read(go, 1)
        os._exit(0)
    os.close(go)
    os.close(said)
    try:
        pids = [os.getpid(), pid]
        alone = bench._resident([os.getpid()])
        if alone is None:
            pytest.skip("page frame numbers are hidden from this user (they need root)")
        shared = bench._resident(pids)
        rss_sum = sum(psutil.Process(p).memory_info().rss for p in pids)
        assert shared < alone + BLOCK // 2  # the child adds its own pages (a few MB), not the block
        assert rss_sum > alone + BLOCK  # where a sum of RSS counts the block twice
        os.write(went, b"x")
        os.read(done, 1)
        copied = bench._resident(pids)
        assert copied > shared + BLOCK * 0.9  # the child's writes made its own copy
    finally:
        os.close(went)  # end of file: the child stops waiting, wherever it is
        os.waitpid(pid, 0)
