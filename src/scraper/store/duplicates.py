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

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import cleaner
from cleaner.fingerprint import Fingerprint, distance, fingerprint
from scraper.store.records import load_json, to_json, write_atomic
from scraper.store.state import FingerprintRow, StateDB, band_keys

if TYPE_CHECKING:
    from cleaner import Article

# Measured on the dev corpora (cleaner.fingerprint): different articles stayed 12+ bits
# apart; a copy with a line added or a paragraph less was within 5 bits in 85 % of cases.
BODY_BITS = 5
# Only compared when one side is a teaser: its opening words are the original's.
LEAD_BITS = 3


class Unset(enum.Enum):
    """A fingerprint not computed yet (None is a computed one: too short)."""

    UNSET = enum.auto()


def original_rank(article: Article) -> int:
    """How likely ``article`` is the original of its near-duplicates: higher is likelier."""
    if article.aggregator is not None or article.truncated:
        return 0
    return 2 if article.canonical_url is not None else 1


def _key(row: FingerprintRow) -> tuple[int, int]:
    return (row.rank, -row.order)


def article_fingerprint(article: Article) -> Fingerprint | None:
    """What the index keys ``article`` by (None: too short to tell apart)."""
    return fingerprint(article.body, article.title)


def mark_duplicate(
    state: StateDB,
    data_dir: Path,
    article: Article,
    path: Path,
    found: Fingerprint | Unset | None = Unset.UNSET,
) -> Article:
    """``article`` with ``duplicate_of`` set from the index, which learns it (as saved at
    ``path``); records it supersedes as the original are rewritten to point to it.

    ``found``: `article_fingerprint` of ``article`` when the caller has it already (a
    cleaning worker computes it beside the page, off the event loop).
    """
    if found is Unset.UNSET:
        found = article_fingerprint(article)
    if found is None:
        state.forget_fingerprint(article.id)
        return article.model_copy(update={"duplicate_of": None})
    row = FingerprintRow(
        record_id=article.id,
        record_path=path.relative_to(data_dir).as_posix(),
        body=found.body,
        lead=found.lead,
        rank=original_rank(article),
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
    originals = []
    for original in state.near_originals(row.body, row.lead, row.truncated, BODY_BITS, LEAD_BITS):
        if original.record_id == row.record_id:
            continue
        if not (data_dir / original.record_path).exists():
            state.forget_fingerprint(original.record_id)
            continue
        originals.append(original)
    return originals


def _point(state: StateDB, data_dir: Path, copy: FingerprintRow, original: str) -> None:
    """Rewrite the record of ``copy`` to say it duplicates ``original``."""
    path = data_dir / copy.record_path
    try:
        record = cleaner.Article.model_validate(load_json(path))
    except (OSError, ValueError):
        state.forget_fingerprint(copy.record_id)
        return
    write_atomic(path, to_json(record.model_copy(update={"duplicate_of": original})))
    state.set_duplicate_of(copy.record_id, original)


@dataclass(frozen=True)
class Candidate:
    """One record of a batch whose duplicates are decided at once (`scraper reclean`)."""

    record_id: str
    fingerprint: Fingerprint | None
    rank: int
    truncated: bool
    order: str  # ties between equal ranks: the earlier (fetch time, then id) is the original


def assign_duplicates(records: list[Candidate]) -> dict[str, str | None]:
    """``duplicate_of`` for every record of a batch, by the rule `mark_duplicate` follows,
    and the same whatever order the records come in."""
    ordered = sorted(records, key=lambda record: (-record.rank, record.order, record.record_id))
    bands: dict[tuple[int, int, int], list[Candidate]] = {}
    marks: dict[str, str | None] = {}
    position = {record.record_id: index for index, record in enumerate(ordered)}
    for record in ordered:
        found = record.fingerprint
        if found is None:
            marks[record.record_id] = None
            continue
        roots: set[str] = set()
        for kind, value, bits in ((0, found.body, BODY_BITS), (1, found.lead, LEAD_BITS)):
            for band, key in band_keys(value):
                for other in bands.get((kind, band, key), []):
                    assert other.fingerprint is not None
                    theirs = other.fingerprint.body if kind == 0 else other.fingerprint.lead
                    if kind == 1 and not (record.truncated or other.truncated):
                        continue
                    if distance(value, theirs) <= bits:
                        roots.add(marks[other.record_id] or other.record_id)
        marks[record.record_id] = min(roots, key=position.__getitem__, default=None)
        for kind, value in ((0, found.body), (1, found.lead)):
            for band, key in band_keys(value):
                bands.setdefault((kind, band, key), []).append(record)
    return marks
