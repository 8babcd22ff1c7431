"""Hostile names: whatever titles, publishers and URLs a site sends, no file is written
outside ``data/``, and every file name is a plain, portable one."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest
from pytest_httpserver import HTTPServer

from cleaner import Reject, RejectReason, extract
from scraper.store.records import reject_path, safe_component, save_article, save_reject
from tests.conftest import run_scraper

HOSTILE_NAMES = [
    "../../../../etc/passwd",
    "..",
    ".",
    "",
    "...",
    "\x00",
    "evil\x00.json",
    "a/b\\c",
    "C:\\Windows\\system32",
    "/absolute/path",
    "CON",
    "con.json",
    "NUL",
    "Aux",
    "COM1",
    "lpt9.txt",
    "\uff23\uff2f\uff2e",  # fullwidth CON: NFKD folds it to CON
    "x" * 10_000,
    "\u202eevil\u202d",  # right-to-left override
    "~/.ssh/authorized_keys",
    "$(rm -rf ~)",
    "-rf",
    " ",
    "\n\r\t",
]
_PLAIN = re.compile(r"^[a-z0-9_][a-z0-9._-]*$")
_RESERVED = (
    {"con", "prn", "aux", "nul"} | {f"com{i}" for i in range(10)} | {f"lpt{i}" for i in range(10)}
)


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_safe_component_is_plain_and_portable(name: str) -> None:
    component = safe_component(name)
    assert _PLAIN.match(component), component
    assert len(component) <= 81
    assert ".." not in component and "/" not in component and "\\" not in component
    assert component.split(".")[0] not in _RESERVED


def _page(title: str, publisher: str) -> str:
    body = "<p>The ferry timetable changes on Monday, and the early boat is gone.</p>" * 8
    return (
        f'<html><head><title>{title}</title><meta property="og:site_name" content="{publisher}">'
        f"</head><body><article><h1>{title}</h1>{body}</article></body></html>"
    )


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_saved_record_stays_under_data(tmp_path: Path, name: str) -> None:
    data = tmp_path / "data"
    url = f"http://news.example/{quote(name, safe='/')}/../../x"
    try:
        article = extract(_page(name or "x", name), url=url, fetched_at=datetime.now(UTC))
    except Exception as exc:  # any ExtractionError is fine here
        assert type(exc).__name__ == "ExtractionError", exc
        return
    path = save_article(data, article)
    assert path.resolve().is_relative_to((data / "clean").resolve())
    reject = Reject(url="http://news.example/x", reason=RejectReason.NOT_ARTICLE, detail=name)
    assert save_reject(data, reject).resolve().is_relative_to((data / "rejects").resolve())
    assert {p for p in tmp_path.rglob("*") if p.is_file()} <= set(data.rglob("*"))


def test_reject_for_a_hostile_host_stays_under_data(tmp_path: Path) -> None:
    for url in ["http://..%2f..%2f/x", "http://con/x", "http://%00/x", "not a url at all"]:
        path = reject_path(tmp_path / "data", Reject(url=url, reason=RejectReason.INVALID_URL))
        assert path.resolve().is_relative_to((tmp_path / "data" / "rejects").resolve()), url


def test_scraper_run_over_a_hostile_site_writes_only_under_data(
    httpserver: HTTPServer, workdir: Path
) -> None:
    names = [n for n in HOSTILE_NAMES if n.strip("\x00\n\r\t .")][:16]
    paths = [f"/{i}/{quote(name, safe='')}" for i, name in enumerate(names)]
    paths.append("/long/" + "segment/" * 200)
    items = "".join(
        f"<item><title>{i}</title><link>{httpserver.url_for('')}{path.lstrip('/')}</link></item>"
        for i, path in enumerate(paths)
    )
    items += f"<item><link>{httpserver.url_for('/')}..%2f..%2fescape</link></item>"
    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)
    httpserver.expect_request(re.compile(r".*escape$")).respond_with_data("", status=404)
    httpserver.expect_request("/feed.xml").respond_with_data(
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>F</title>{items}</channel></rss>',
        content_type="application/rss+xml",
    )
    for i, name in enumerate(names):
        safe_text = name.replace("\x00", "\\0").replace("<", "")
        httpserver.expect_request(re.compile(rf"^/{i}/.*")).respond_with_data(
            _page(f"{safe_text} column {i}", safe_text), content_type="text/html"
        )
    httpserver.expect_request(re.compile(r"^/long/.*")).respond_with_data(
        _page("Long path", "CON"), content_type="text/html"
    )
    (workdir / "sources.toml").write_text(
        "[settings]\nallow_private_addresses = true\n[settings.politeness]\ndelay = 0\n"
        "[settings.retry]\nattempts = 1\n"
        f'[[sources]]\nname = "hostile"\nkind = "feed"\n'
        f'urls = ["{httpserver.url_for("/feed.xml")}"]\n',
        encoding="utf-8",
    )
    root = workdir.parent
    before = set(root.rglob("*"))

    result = run_scraper("run", cwd=workdir)

    assert result.returncode in (0, 11), result.stderr
    data = workdir / "data"
    created = set(root.rglob("*")) - before
    assert created, "the run wrote something"
    outside = [p for p in created if not p.resolve().is_relative_to(data.resolve())]
    assert outside == [], outside
    records = list((data / "clean").rglob("*.json"))
    assert len(records) >= len(names) // 2, result.stdout
    for path in [*(data / "clean").rglob("*"), *(data / "rejects").rglob("*")]:
        assert _PLAIN.match(path.name), path.name  # names made from page text are plain
