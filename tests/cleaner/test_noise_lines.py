"""Whole lines that are interface or stamps, not prose (cleaner/noise.toml [lines])."""

from __future__ import annotations

import pytest

from cleaner.noise import is_noise_line


@pytest.mark.parametrize(
    "line",
    [
        "Share on Facebook",
        "- A +",
        "35 0",
        "vor 22 Stunden",
        "3 hours ago",
        "5 min",
    ],
)
def test_interface_and_stamp_lines_are_noise(line: str) -> None:
    assert is_noise_line(line)


@pytest.mark.parametrize(
    "line",
    [
        "The vote was 14:05 in favour, after 22 hours of debate.",
        "On 28.04.2024 the council met again.",
        "3 hours ago the bridge was still closed, and it still is.",
        "Vor 22 Jahren begann der Streit um die Brücke.",
    ],
)
def test_prose_that_mentions_times_is_kept(line: str) -> None:
    assert not is_noise_line(line)
