"""The near-duplicate index at scale: saving one more copy of a much-copied article costs
the same few SQLite reads however many copies are already saved (a syndicated column
republished by hundreds of sites must not make each save slower than the last)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from cleaner import Article, extract
from scraper.store.duplicates import mark_duplicate
from scraper.store.records import clean_path, save_article
from scraper.store.state import StateDB

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
