"""Near-duplicates across URLs: the same article under another URL, or an aggregator's copy
of an article already saved, is marked with ``duplicate_of`` (the original's id).

The fingerprints come from the pure cleaner (`cleaner.fingerprint`); the index of earlier
records lives in the state database. Which record is the original (`rank`): a whole article
that declares its own canonical URL (publishers do; copies elsewhere do not, or name the
original's, which is not taken), then any whole article not found on a known aggregator,
then copies and teasers; among equals, the one saved first. When a better original arrives
after its copies, they are re-pointed to it (their files rewritten), so no record ever
points to a copy.
"""

from __future__ import annotations

from pathlib import Path

from cleaner import Article
from cleaner.fingerprint import distance, fingerprint
from scraper.store.records import load_json, to_json, write_atomic
from scraper.store.state import FingerprintRow, StateDB

# Measured on the dev corpora (cleaner.fingerprint): different articles stayed 12+ bits
# apart; a copy with a line added or a paragraph less was within 5 bits in 85 % of cases.
BODY_BITS = 5
# Only compared when one side is a teaser: its opening words are the original's.
LEAD_BITS = 3


def rank(article: Article) -> int:
    """How likely ``article`` is the original of its near-duplicates: higher is likelier."""
    if article.aggregator is not None or article.truncated:
        return 0
    return 2 if article.canonical_url is not None else 1


def _key(row: FingerprintRow) -> tuple[int, int]:
    return (row.rank, -row.order)


def mark_duplicate(state: StateDB, data_dir: Path, article: Article, path: Path) -> Article:
    """``article`` with ``duplicate_of`` set from the index, which learns it (as saved at
    ``path``); records it supersedes as the original are rewritten to point to it."""
    found = fingerprint(article.body, article.title)
    if found is None:
        state.forget_fingerprint(article.id)
        return article.model_copy(update={"duplicate_of": None})
    row = FingerprintRow(
        record_id=article.id,
        record_path=path.relative_to(data_dir).as_posix(),
        body=found.body,
        lead=found.lead,
        rank=rank(article),
        truncated=article.truncated,
        duplicate_of=None,
    )
    originals = _originals(state, data_dir, row)
    best = max(originals, key=_key, default=None)
    if best is not None and best.rank >= row.rank:
        row = FingerprintRow(**{**row.__dict__, "duplicate_of": best.record_id})
    elif best is not None:
        for original in originals:  # this one is the better original: its copies follow
            for copy in [original, *state.duplicates_of(original.record_id)]:
                _point(state, data_dir, copy, article.id)
    state.save_fingerprint(row)
    return article.model_copy(update={"duplicate_of": row.duplicate_of})


def _originals(state: StateDB, data_dir: Path, row: FingerprintRow) -> list[FingerprintRow]:
    """The originals (records that point to no other) of the saved records ``row`` is a
    near-duplicate of; records whose file is gone are dropped from the index."""
    matches = [
        match
        for match in state.fingerprint_candidates(0, row.body)
        if distance(match.body, row.body) <= BODY_BITS
    ]
    matches += [
        match
        for match in state.fingerprint_candidates(1, row.lead)
        if (match.truncated or row.truncated) and distance(match.lead, row.lead) <= LEAD_BITS
    ]
    originals: dict[str, FingerprintRow] = {}
    for match in matches:
        original = (
            state.fingerprint_row(match.duplicate_of) if match.duplicate_of else match
        ) or match
        if original.record_id == row.record_id or original.record_id in originals:
            continue
        if not (data_dir / original.record_path).exists():
            state.forget_fingerprint(original.record_id)
            continue
        originals[original.record_id] = original
    return list(originals.values())


def _point(state: StateDB, data_dir: Path, copy: FingerprintRow, original: str) -> None:
    """Rewrite the record of ``copy`` to say it duplicates ``original``."""
    path = data_dir / copy.record_path
    try:
        record = Article.model_validate(load_json(path))
    except (OSError, ValueError):
        state.forget_fingerprint(copy.record_id)
        return
    write_atomic(path, to_json(record.model_copy(update={"duplicate_of": original})))
    state.set_duplicate_of(copy.record_id, original)
