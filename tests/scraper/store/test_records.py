"""Record files: the same permissions as the raw store, and readable folder names."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cleaner import Article, Reject, RejectReason
from scraper.errors import StorageError
from scraper.store.records import (
    clean_path,
    dumped_json,
    save_article,
    save_reject,
    write_atomic,
)
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


# What a record's model_dump(mode="json") holds: no floats (json writes 1e+16, orjson 1e16).
_ANY = st.characters(exclude_categories=())  # lone surrogates too
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64) | st.text(_ANY),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=6,
)


@settings(max_examples=30)
@given(st.dictionaries(st.text(_ANY), _JSON, max_size=4))
def test_a_record_is_written_as_json_indents_it(record: dict[str, Any]) -> None:
    # Lone surrogates and integers past 64 bits included: orjson refuses them, json takes them.
    assert dumped_json(record) == json.dumps(record, ensure_ascii=False, indent=2) + "\n"


def test_what_orjson_refuses_is_written_as_json_writes_it() -> None:
    record = {"body": "half a pair \ud800", "big": 2**64}
    assert dumped_json(record) == json.dumps(record, ensure_ascii=False, indent=2) + "\n"


def test_an_article_is_written_as_json_indents_it() -> None:
    dumped = _article("Новая газета").model_dump(mode="json")
    assert dumped_json(dumped) == json.dumps(dumped, ensure_ascii=False, indent=2) + "\n"


def test_an_atomic_write_makes_its_folder_and_refuses_a_file_in_its_place(tmp_path: Path) -> None:
    """The folder is made on its first file (and again if removed); a file where the
    folder should be is a StorageError naming the path, not a traceback."""
    path = tmp_path / "clean" / "ferries" / "one.json"
    write_atomic(path, "first\n")
    path.unlink()
    path.parent.rmdir()
    write_atomic(path, "again\n")
    assert path.read_text() == "again\n"
    assert [p.name for p in path.parent.iterdir()] == ["one.json"]  # no temporary file left
    blocked = tmp_path / "clean" / "trains"
    blocked.write_text("not a folder")
    with pytest.raises(StorageError, match=r"cannot write .*trains/two\.json"):
        write_atomic(blocked / "two.json", "{}\n")
