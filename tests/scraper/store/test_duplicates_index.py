"""The near-duplicate index at scale: saving one more copy of a much-copied article costs
the same few SQLite reads however many copies are already saved (a syndicated column
republished by hundreds of sites must not make each save slower than the last)."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cleaner import Article, extract
from scraper.store.duplicates import BODY_BITS, LEAD_BITS, mark_duplicate
from scraper.store.records import clean_path, save_article
from scraper.store.state import FingerprintRow, StateDB, band_keys

_PARAGRAPHS = [
    "The ferry timetable changed again this spring, and the people who cross the harbour "
    "before dawn learned about it from a notice taped to the ticket office window.",
    "A council that wants more people on the water should ask them first, publish the "
    "numbers every month and keep the first boat at the hour the early shifts start.",
    "Other ports kept their early crossings and found that the boats filled up within a "
    "season, because workers planned their weeks around a timetable they could trust.",
]


def _copy(n: int) -> Article:
    body = "".join(f"<p>{p}</p>" for p in _PARAGRAPHS)
    html = (
        f"<!doctype html><html lang='en'><head><title>Keep the early ferry</title></head>"
        f"<body><article><h1>Keep the early ferry</h1>{body}</article></body></html>"
    )
    article = extract(
        html.encode(), url=f"https://site{n}.example/col/ferry", fetched_at=datetime.now(UTC)
    )
    assert isinstance(article, Article)
    return article


def _save(state: StateDB, data_dir: Path, article: Article) -> Article:
    marked = mark_duplicate(state, data_dir, article, clean_path(data_dir, article))
    save_article(data_dir, marked)
    return marked


def test_the_reads_of_one_more_copy_do_not_grow_with_the_copies_saved(tmp_path: Path) -> None:
    with StateDB(tmp_path / "state.sqlite") as state:
        first = _save(state, tmp_path, _copy(0))
        statements: list[str] = []
        state._db.set_trace_callback(statements.append)
        counts = []
        for n in range(1, 41):
            statements.clear()
            marked = _save(state, tmp_path, _copy(n))
            assert marked.duplicate_of == first.id
            counts.append(len(statements))
        state._db.set_trace_callback(None)
    assert counts[-1] == counts[4], counts


def _commits(statements: list[str]) -> int:
    """Commits in a trace of statements: a BEGIN ... COMMIT block is one, and so is every
    write outside a block (autocommit)."""
    commits, inside = 0, False
    for statement in statements:
        word = statement.split(None, 1)[0].upper()
        if word == "BEGIN":
            inside = True
        elif word == "COMMIT":
            inside, commits = False, commits + 1
        elif word in ("INSERT", "UPDATE", "DELETE") and not inside:
            commits += 1
    return commits


def test_indexing_a_record_is_one_commit(tmp_path: Path) -> None:
    with StateDB(tmp_path / "state.sqlite") as state:
        _save(state, tmp_path, _copy(0))
        statements: list[str] = []
        state._db.set_trace_callback(statements.append)
        _save(state, tmp_path, _copy(1))
        state._db.set_trace_callback(None)
    assert _commits(statements) == 1, statements


_BODY, _LEAD = 0x0123_4567_89AB_CDEF, 0x0F0F_F0F0_1234_4321


def _row(record_id: str, body: int = _BODY, lead: int = _LEAD, **fields: object) -> FingerprintRow:
    values: dict[str, Any] = {"rank": 1, "truncated": False, "duplicate_of": None, **fields}
    return FingerprintRow(record_id, f"clean/{record_id}.json", body, lead, **values)


def _steps(state: StateDB, work: Callable[[], object]) -> int:
    """SQLite virtual-machine steps ``work`` takes: grows with the rows it reads."""
    steps = [0]

    def count() -> int:
        steps[0] += 1
        return 0

    state._db.set_progress_handler(count, 1)
    try:
        work()
    finally:
        state._db.set_progress_handler(None, 1)
    return steps[0]


def _unrelated(rows: random.Random) -> int:
    mine = set(band_keys(_BODY)) | set(band_keys(_LEAD))
    while True:
        value = rows.getrandbits(64)
        if not mine & set(band_keys(value)):
            return value


def _lookup(state: StateDB) -> set[str]:
    found = state.near_originals(_BODY, _LEAD, False, BODY_BITS, LEAD_BITS)
    return {row.record_id for row in found}


def test_a_lookup_and_a_save_read_no_more_rows_as_the_index_grows(tmp_path: Path) -> None:
    """Measured on a 10,000-record index: a lookup read every band key of its kind (an OR
    of band pairs defeats the index), and saving re-read the whole band table to clear a
    record's keys; each identical copy added its own keys to every later lookup."""
    rows = random.Random(16)
    with StateDB(tmp_path / "state.sqlite") as state:
        state.save_fingerprint(_row("original"))
        for n in range(3):
            state.save_fingerprint(_row(f"copy{n}", duplicate_of="original"))
        small = _steps(state, lambda: _lookup(state))
        again = _row("copy1", rank=0, duplicate_of="original")
        save_small = _steps(state, lambda: state.save_fingerprint(again))
        for n in range(3, 60):
            state.save_fingerprint(_row(f"copy{n}", duplicate_of="original"))
        for n in range(1500):  # other articles, sharing no band key with the lookup's
            body, lead = _unrelated(rows), _unrelated(rows)
            state.save_fingerprint(_row(f"other{n}", body, lead))
        assert _lookup(state) == {"original"}
        large = _steps(state, lambda: _lookup(state))
        save_large = _steps(state, lambda: state.save_fingerprint(again))
    assert large <= small * 1.2, (small, large)
    assert save_large <= save_small * 1.2, (save_small, save_large)


def test_copies_left_unindexed_are_found_again_when_their_original_changes(
    tmp_path: Path,
) -> None:
    with StateDB(tmp_path / "state.sqlite") as state:
        state.save_fingerprint(_row("original"))
        for n in range(2):
            state.save_fingerprint(_row(f"copy{n}", duplicate_of="original"))
        state.save_fingerprint(_row("elsewhere", ~_BODY & (1 << 64) - 1, ~_LEAD & (1 << 64) - 1))
        # The original now says it copies another record: its copies still point to it.
        state.set_duplicate_of("original", "elsewhere")
        assert _lookup(state) == {"original", "elsewhere"}
        state.forget_fingerprint("original")  # its file is gone: each copy stands alone
        assert _lookup(state) == {"copy0", "copy1"}


def test_a_teaser_keeps_the_lead_keys_its_whole_original_does_not_match_by(
    tmp_path: Path,
) -> None:
    far = ~_BODY & (1 << 64) - 1
    with StateDB(tmp_path / "state.sqlite") as state:
        state.save_fingerprint(_row("original", far))
        state.save_fingerprint(_row("teaser", far, truncated=True, duplicate_of="original"))
        # A whole article sharing only the opening words is matched through the teaser.
        assert _lookup(state) == {"original"}
