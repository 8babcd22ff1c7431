"""The tree is the architecture: every import points down the data flow, never up.

commands -> jobs -> discovery | store -> fetch -> settings, errors; `cleaner` imports no
`scraper` module and no I/O library at all.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

# A package may import its own modules and those of any lower rank.
RANKS = {
    "scraper.errors": 0,
    "scraper.clock": 0,
    "scraper.demo": 0,
    "scraper.settings": 1,
    "scraper.fetch": 2,
    "scraper.store": 3,
    "scraper.discovery": 3,
    "scraper.jobs": 4,
    "scraper.commands": 5,
    "scraper.__main__": 6,
}
# The cleaner is pure: bytes in, a record out.
CLEANER_FORBIDDEN = ("scraper", "httpx", "aiohttp", "sqlite3", "socket", "asyncio", "warcio")


def _layer(module: str) -> str | None:
    for name in RANKS:
        if module == name or module.startswith(name + "."):
            return name
    return None


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
            # `from scraper import x` names a module as often as a value
            found += [f"{node.module}.{alias.name}" for alias in node.names]
    return found


SCRAPER_MODULES = sorted((SRC / "scraper").rglob("*.py"))
CLEANER_MODULES = sorted((SRC / "cleaner").rglob("*.py"))


def test_every_scraper_module_has_a_layer() -> None:
    orphans = [
        _module_name(p)
        for p in SCRAPER_MODULES
        if _layer(_module_name(p)) is None and _module_name(p) != "scraper"
    ]
    assert orphans == []


@pytest.mark.parametrize("path", SCRAPER_MODULES, ids=lambda p: _module_name(p))
def test_scraper_imports_point_down(path: Path) -> None:
    own = _layer(_module_name(path))
    if own is None:
        return
    upward = []
    for imported in _imports(path):
        target = _layer(imported)
        if target is None or target == own:
            continue
        if RANKS[target] >= RANKS[own]:
            upward.append(imported)
    assert upward == [], f"{_module_name(path)} reaches up or sideways: {upward}"


@pytest.mark.parametrize("path", CLEANER_MODULES, ids=lambda p: _module_name(p))
def test_cleaner_stays_pure(path: Path) -> None:
    impure = [name for name in _imports(path) if name.split(".")[0] in CLEANER_FORBIDDEN]
    assert impure == []
