"""Fixture access for the discovery tests."""

from __future__ import annotations

from tests.conftest import fixture_bytes


def discovery_bytes(relative: str, site: str = "https://lakeside-courier.example") -> bytes:
    """A fixture under ``tests/fixtures/discovery/``, with ``https://SITE`` pointing at ``site``."""
    return fixture_bytes(f"discovery/{relative}").replace(b"https://SITE", site.encode())
