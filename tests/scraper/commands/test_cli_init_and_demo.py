"""`scraper init` for a pip install, and `make run` on a fresh checkout (the demo)."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

from scraper.discovery.sources import load_sources
from scraper.settings import setting_keys
from tests.conftest import run_scraper

SHIPPED = Path(__file__).resolve().parents[3] / "sources.toml"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_init_writes_the_shipped_commented_sources_file(workdir: Path) -> None:
    first = run_scraper("init", cwd=workdir)
    again = run_scraper("init", cwd=workdir)
    forced = run_scraper("init", "--force", "elsewhere.toml", cwd=workdir)

    assert first.returncode == 0, first.stderr
    written = (workdir / "sources.toml").read_text("utf-8")
    # The checkout's file is what init writes: the two cannot drift apart.
    assert written == SHIPPED.read_text("utf-8"), (
        "sources.toml is stale: regenerate it with `.venv/bin/scraper init --force sources.toml`"
    )
    config = load_sources(workdir / "sources.toml")
    assert config.sources and not config.enabled()
    for key in setting_keys():
        assert f"# {key.rpartition('.')[2]} = " in written, key
    assert again.returncode == 2 and "exists; use --force" in again.stderr
    assert forced.returncode == 0 and (workdir / "elsewhere.toml").read_text("utf-8") == written


def test_make_run_on_a_fresh_checkout_runs_the_demo(workdir: Path) -> None:
    shutil.copy(SHIPPED, workdir / "sources.toml")
    env = {"SCRAPER_DEMO_PORT": str(_free_port())}

    plain = run_scraper("run", cwd=workdir, env=env)
    made = run_scraper("run", "--demo-if-empty", cwd=workdir, env=env)

    # `scraper run` keeps its meaning: nothing enabled, nothing done.
    assert plain.returncode == 0 and "no enabled sources" in plain.stdout
    assert made.returncode == 0, made.stderr
    assert len(list((workdir / "demo-data" / "clean").glob("*/*.json"))) == 5
    assert "5 new" in made.stdout
    assert "To scrape real sites: set `enabled = true`" in made.stdout
    assert "scraper export --data-dir demo-data -o records.jsonl" in made.stdout
    assert not (workdir / "data").exists()
    makefile = (SHIPPED.parent / "Makefile").read_text("utf-8")
    assert "\t$(BIN)/scraper run --demo-if-empty\n" in makefile
