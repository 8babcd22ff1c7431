"""Binary files are refused as not a page (exit 7, reason ``not_html``), never cleaned into an
"article": `scraper clean` on a PDF, an archive or an image, and `extract` however the bytes
arrive (a server that labels a PDF text/html)."""

from __future__ import annotations

import gzip
import random
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cleaner import ExtractionError, RejectReason, extract, extract_text
from scraper.fetch.page import FetchedPage
from scraper.jobs.pipeline import clean_page
from tests.conftest import run_scraper

NOW = datetime(2026, 11, 20, tzinfo=UTC)
PROSE = "The harbour board voted to keep the ferry running through the winter months. "
PAGE = (
    "<html><head><title>Ferry stays</title></head><body><article><h1>Ferry stays</h1>"
    + f"<p>{PROSE}</p>" * 6
    + "</article></body></html>"
)


def _pdf() -> bytes:
    """A small PDF in the shape writers produce: ASCII header, then a deflated text stream."""
    stream = zlib.compress(f"BT /F1 12 Tf 72 712 Td ({PROSE * 4}) Tj ET".encode())
    return (
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
        + b"4 0 obj\n<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream)
        + stream
        + b"\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
    )


def _png() -> bytes:
    noise = random.Random(1)
    rows = zlib.compress(b"".join(b"\x00" + noise.randbytes(48) for _ in range(16)))
    ihdr = b"\x00\x00\x00\x10\x00\x00\x00\x10\x08\x02\x00\x00\x00"
    return b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + ihdr + b"\x00\x00\x00\x00IDAT" + rows


BINARIES = {
    "pdf": _pdf(),
    "gzip": gzip.compress(PAGE.encode()),
    "png": _png(),
    "zip": b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + zlib.compress(PAGE.encode()),
    "noise": random.Random(7).randbytes(4000),
    "nul-padded": b"\x00" * 64 + PAGE.encode(),
}


@pytest.mark.parametrize("kind", BINARIES)
def test_scraper_clean_refuses_a_binary_file_with_exit_7(workdir: Path, kind: str) -> None:
    path = workdir / f"download.{kind}"
    path.write_bytes(BINARIES[kind])
    for args in ([], ["--url", "http://harbour.test/ferry"]):
        result = run_scraper("clean", str(path), *args, cwd=workdir)
        assert result.returncode == 7, (result.stdout, result.stderr)
        assert result.stdout == ""
        (line,) = result.stderr.splitlines()
        assert "not a page" in line


@pytest.mark.parametrize("kind", BINARIES)
def test_extract_refuses_binary_bytes_and_text(kind: str) -> None:
    data = BINARIES[kind]
    with pytest.raises(ExtractionError) as raised:
        extract(data, url="http://harbour.test/ferry", fetched_at=NOW)
    assert raised.value.reason is RejectReason.NOT_HTML
    with pytest.raises(ExtractionError) as raised:
        extract_text(data.decode("latin-1"), url="http://harbour.test/ferry")
    assert raised.value.reason is RejectReason.NOT_HTML


def test_a_pdf_served_as_html_becomes_a_not_html_reject() -> None:
    page = FetchedPage(
        url="http://harbour.test/ferry",
        final_url="http://harbour.test/ferry",
        status=200,
        headers=[("content-type", "text/html; charset=utf-8")],
        body=BINARIES["pdf"],
        fetched_at=NOW,
    )
    result = clean_page(page)
    assert result.reason is RejectReason.NOT_HTML  # type: ignore[union-attr]


@pytest.mark.parametrize("charset", ["utf-16-le", "utf-16-be", "utf-16"])
def test_a_page_declared_utf16_is_still_a_page(charset: str) -> None:
    article = extract(
        PAGE.encode(charset),
        url="http://harbour.test/ferry",
        headers={"Content-Type": f"text/html; charset={charset}"},
        fetched_at=NOW,
    )
    assert article.title == "Ferry stays"
