"""pipeline_bench's `tree MB`: the resident pages of a process tree, each counted once."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"

# Run in a fresh interpreter, not in the test process: what a long-lived test worker has
# mapped (and copies after a fork) is not this test's to predict.
_FORKED_BLOCK = """
import json, os, sys
import psutil
sys.path.insert(0, sys.argv[1])
import pipeline_bench as bench

BLOCK, PAGE = 64 * 2**20, os.sysconf("SC_PAGE_SIZE")
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
pids = [os.getpid(), pid]
alone = bench._resident([os.getpid()])
shared = bench._resident(pids)
rss_sum = sum(psutil.Process(p).memory_info().rss for p in pids)
os.write(went, b"x")
os.read(done, 1)
copied = bench._resident(pids)
os.close(went)
os.waitpid(pid, 0)
print(json.dumps({"block": BLOCK, "alone": alone, "shared": shared, "rss_sum": rss_sum,
                  "copied": copied}))
"""


def test_pages_shared_after_a_fork_count_once_and_copies_count_again() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _FORKED_BLOCK, str(BENCHMARKS)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    sizes = json.loads(done.stdout)
    if sizes["alone"] is None:
        pytest.skip("page frame numbers are hidden from this user (they need root)")
    block, alone, shared = sizes["block"], sizes["alone"], sizes["shared"]
    assert shared < alone + block // 2  # the child adds its own pages (a few MB), not the block
    assert sizes["rss_sum"] > alone + block  # where a sum of RSS counts the block twice
    assert sizes["copied"] > shared + block * 0.9  # the child's writes made its own copy
