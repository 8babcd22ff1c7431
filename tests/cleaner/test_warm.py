"""The warm-up page loads every library a page can need, so none loads on a real page."""

from __future__ import annotations

import subprocess
import sys

_PROBE = """
import sys
from cleaner.warm import warm_up
lazy = ("trafilatura", "htmldate", "py3langid")
assert not [name for name in lazy if name in sys.modules], "imported before the warm-up"
warm_up()
print(" ".join(name for name in lazy if name not in sys.modules))
"""


def test_the_warm_up_page_loads_the_fallbacks_and_the_language_model() -> None:
    # In a fresh interpreter: this one has imported them all already.
    probe = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=60, check=False
    )

    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip() == "", f"not loaded by the warm-up: {probe.stdout}"
