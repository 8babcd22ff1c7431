"""`scraper clean FILE|DIR|-`: saved HTML or text in, records out, exit codes as documented."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from cleaner import language
from scraper.commands.app import main
from scraper.commands.clean import clean_bytes
from tests.conftest import FIXTURES, SCRAPER, run_scraper


@pytest.mark.parametrize("saved", ["chrome.html", "chrome-dump.txt"])
def test_saved_page_with_url(workdir: Path, saved: str) -> None:
    """An HTML page and a text dump, each to the record of its golden file."""
    golden = FIXTURES / "qoshe" / f"{Path(saved).stem}.expected.json"
    expected = json.loads(golden.read_text("utf-8"))
    page = str(FIXTURES / "qoshe" / saved)

    result = run_scraper("clean", page, "--url", expected["url"], cwd=workdir)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == expected["record"]


def test_listing_page_is_refused_with_its_own_exit_code(workdir: Path) -> None:
    page = str(FIXTURES / "qoshe" / "chrome-dump.txt")

    result = run_scraper(
        "clean", page, "--url", "https://qoshe.com/yazar/lena-marsh/5521", cwd=workdir
    )

    assert result.returncode == 13
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert "listing_page" in line


def test_html_file_declaring_its_own_url(workdir: Path) -> None:
    result = run_scraper("clean", str(FIXTURES / "opengraph" / "only-og.html"), cwd=workdir)

    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["url"] == "https://kiezblatt-nord.example/meinung/stadtpark-cafe"
    assert record["title"] == "Warum der Stadtpark ein zweites Café braucht"


def test_text_dump_without_url_is_a_usage_error(workdir: Path) -> None:
    result = run_scraper("clean", str(FIXTURES / "qoshe" / "chrome-dump.txt"), cwd=workdir)

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        f"scraper: error: {FIXTURES / 'qoshe' / 'chrome-dump.txt'}: "
        "a text dump carries no URL; pass --url"
    ]


def test_unreadable_file(workdir: Path) -> None:
    result = run_scraper("clean", "missing.html", "--url", "https://a.example/x", cwd=workdir)

    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert "cannot read missing.html" in result.stderr


def test_page_without_article_exits_9(workdir: Path) -> None:
    page = workdir / "menu.html"
    page.write_text(
        "<!DOCTYPE html><html><head><title></title></head><body><nav>"
        '<a href="/">Home</a> <a href="/news">News</a></nav></body></html>',
        encoding="utf-8",
    )

    result = run_scraper("clean", str(page), "--url", "https://a.example/menu", cwd=workdir)

    assert result.returncode == 9
    assert result.stdout == ""
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"scraper: error: {page}: not an article (")


def test_fetched_at_resolves_a_relative_date(workdir: Path) -> None:
    page = str(FIXTURES / "qoshe" / "relative-date-dump.txt")
    url = "https://qoshe.com/the-borough-chronicle/sam-okafor/market-hall/188300001"

    dated = run_scraper(
        "clean", page, "--url", url, "--fetched-at", "2025-11-20T12:00Z", cwd=workdir
    )
    undated = run_scraper("clean", page, "--url", url, cwd=workdir)
    naive = run_scraper("clean", page, "--url", url, "--fetched-at", "2025-11-20", cwd=workdir)

    assert dated.returncode == 0, dated.stderr
    assert (json.loads(dated.stdout)["date_raw"], json.loads(dated.stdout)["date"]) == (
        "yesterday",
        "2025-11-19",
    )
    assert json.loads(undated.stdout)["date"] is None
    assert naive.returncode == 2 and "give a zone" in naive.stderr


def test_standard_input(workdir: Path) -> None:
    page = (FIXTURES / "opengraph" / "only-og.html").read_bytes()

    result = subprocess.run(
        [str(SCRAPER), "clean", "-"], cwd=workdir, input=page, capture_output=True, check=False
    )

    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["url"] == "https://kiezblatt-nord.example/meinung/stadtpark-cafe"


def test_folder_of_pages_as_json_lines(workdir: Path) -> None:
    folder = workdir / "saved"
    (folder / "more").mkdir(parents=True)
    shutil.copy(FIXTURES / "opengraph" / "only-og.html", folder / "a.html")
    article = (FIXTURES / "publisher" / "article.html").read_text("utf-8")
    canonical = '<head><link rel="canonical" href="https://lakeside.example/opinion/repair">'
    (folder / "more" / "b.html").write_text(article.replace("<head>", canonical, 1), "utf-8")
    (folder / "menu.html").write_text(
        '<html><head><link rel="canonical" href="https://a.example/menu"></head>'
        '<body><nav><a href="/">Home</a></nav></body></html>',
        encoding="utf-8",
    )
    (folder / ".hidden.html").write_text("<html>not looked at</html>", encoding="utf-8")

    result = run_scraper("clean", str(folder), "--log-json", cwd=workdir)

    assert result.returncode == 0, result.stderr
    titles = [json.loads(line)["title"] for line in result.stdout.splitlines()]
    assert titles == [
        "Warum der Stadtpark ein zweites Café braucht",
        "The quiet return of the repair shop",
    ]
    events = [json.loads(line) for line in result.stderr.splitlines()]
    assert [e["path"] for e in events if e["event"] == "not_cleaned"] == [str(folder / "menu.html")]
    assert events[-1] == {
        **events[-1],
        "event": "summary",
        "files": 3,
        "records": 2,
        "not_articles": 1,
        "failed": 0,
    }


def test_folder_with_a_page_lacking_its_url_exits_11(workdir: Path) -> None:
    folder = workdir / "saved"
    folder.mkdir()
    shutil.copy(FIXTURES / "opengraph" / "only-og.html", folder / "a.html")
    shutil.copy(FIXTURES / "qoshe" / "chrome-dump.txt", folder / "dump.txt")

    result = run_scraper("clean", str(folder), cwd=workdir)
    with_url = run_scraper("clean", str(folder), "--url", "https://a.example/x", cwd=workdir)

    assert result.returncode == 11
    assert len(result.stdout.splitlines()) == 1
    assert f"scraper: error: {folder / 'dump.txt'}: a text dump carries no URL" in result.stderr
    assert with_url.returncode == 2 and "--url names one page" in with_url.stderr


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig"])
def test_a_page_saved_with_a_byte_order_mark_is_cleaned_as_html(encoding: str) -> None:
    """Windows editors save "Unicode" text as UTF-16 with a BOM: its markup is not ASCII
    bytes, so it was taken for a text dump and its body came out empty."""
    source = FIXTURES / "opengraph" / "only-og.html"
    expected = clean_bytes(source.read_bytes(), source.name, None)

    saved = source.read_text("utf-8").encode(encoding)
    record = clean_bytes(saved, source.name, None)

    assert record == expected


def test_a_page_cleaned_in_the_commands_process_maps_the_cached_language_model(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # In this process (the console script's `main`), with the cleaner's identifier and
    # loader put back afterwards: the other tests here want py3langid's own.
    monkeypatch.setattr(language, "_installed", [])
    monkeypatch.setattr(language, "_loader", [])
    paragraph = (
        "The last bus out of the market square leaves at twenty past seven, so anyone who "
        "works a late shift walks home or pays for a taxi across the river. "
    )
    page = workdir / "bus.html"  # no language declared anywhere
    page.write_text(
        "<html><head><title>The last bus</title></head><body><article><h1>The last bus</h1>"
        f"<p>{paragraph * 2}</p><p>{paragraph}</p></article></body></html>",
        encoding="utf-8",
    )
    monkeypatch.setattr(
        sys, "argv", ["scraper", "clean", str(page), "--url", "https://example.org/bus"]
    )

    with pytest.raises(SystemExit) as exited:
        main()

    assert exited.value.code == 0
    assert json.loads(capsys.readouterr().out)["language"] == "en"
    assert isinstance(language._identifier().tk_nextmove, memoryview)  # the mapped model
