"""Record files: the same permissions as the raw store, and readable folder names."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cleaner import Article, Reject, RejectReason
from scraper.store.records import clean_path, save_article, save_reject
from scraper.store.state import StateDB
from scraper.store.warc import WarcStore
from tests.scraper.store.test_rawstore import _page


@pytest.fixture
def umask() -> Iterator[None]:
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def _article(source: str, url: str = "https://news.example/opinion/ferry") -> Article:
    return Article(
        url=url,
        title="The ferry timetable",
        body="The early ferry is gone from Monday, and nobody asked the people who take it.",
        source=source,
        fetched_at=datetime(2026, 3, 1, tzinfo=UTC),
    )


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("mask", [0o022, 0o077])
def test_records_rejects_warc_and_state_get_one_mode_from_the_umask(
    tmp_path: Path, umask: None, mask: int
) -> None:
    os.umask(mask)
    record = save_article(tmp_path, _article("The Paper"))
    reject = save_reject(tmp_path, Reject(url="https://x.example/a", reason=RejectReason.BLOCKED))
    with WarcStore(tmp_path / "raw") as store:
        store.append(_page(1))
    (warc,) = (tmp_path / "raw").glob("*.warc.gz")
    with StateDB(tmp_path / "state.sqlite"):
        pass
    expected = 0o666 & ~mask
    modes = {p.name: _mode(p) for p in (record, reject, warc, tmp_path / "state.sqlite")}
    assert modes == dict.fromkeys(modes, expected)


@pytest.mark.parametrize(
    ("publisher", "folder"),
    [
        ("Новая газета", "novaya-gazeta"),
        ("Η Καθημερινή", "i-kathimerini"),
        ("人民日报", "renminribao"),
        ("Süddeutsche Zeitung", "suddeutsche-zeitung"),
    ],
)
def test_publishers_in_any_script_get_a_readable_folder(
    tmp_path: Path, publisher: str, folder: str
) -> None:
    path = save_article(tmp_path, _article(publisher))
    assert path.parent == tmp_path / "clean" / folder


def test_a_name_with_nothing_to_spell_falls_back_to_the_host(tmp_path: Path) -> None:
    article = _article("«»—", url="https://www.gazeta.example/a")
    assert clean_path(tmp_path, article).parent.name == "www.gazeta.example"
