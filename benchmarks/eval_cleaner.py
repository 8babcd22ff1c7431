"""Accuracy and speed of `cleaner.extract` next to trafilatura and htmldate, on a dev corpus.

Usage (from the repository root):

    .venv/bin/python benchmarks/eval_cleaner.py [--corpus fundus-dev|wcxb-dev|PATH]
        [--worst N] [--only ours] [--every K] [--per-page FILE]

The corpus (``../shared/corpus/fundus-dev`` by default; a bare name is looked up next to
it) is ``expected.jsonl`` plus ``html/<id>.html.gz``; see its README. Every extractor gets
the same decoded ``str`` of every page and only the extraction call is timed, by the wall
clock (pages/s) and by this process's CPU time (pages/CPU s); the extractors take turns
on each page, so a machine slowing down during the run slows them alike.
Before timing, each extractor cleans the first page and the cleaner's warm-up page (which
reaches every fallback), as a long-running user's process has: imports and first-use
set-up are not a per-page cost.
trafilatura runs as users get it by default (``trafilatura.extract``, comments and
tables included, favoring neither precision nor recall; its comments are appended to the
text as its default text output does); htmldate is ``find_date`` with its extensive
search (its default) and ``original_date=True``, scored on dates only. ``--every K``
keeps every K-th page (a quick subset while iterating). Scores:

- body shingle P/R/F1, as the Zyte article-extraction benchmark defines them: each text
  is split into ``\\w+`` tokens (case kept), every run of 4 consecutive tokens is a
  shingle (a text shorter than that is one shingle), shingles are compared as multisets
  and each page's TP/FP/FN normalized to sum 1; precision is averaged over pages with a
  non-empty prediction, recall over pages with a non-empty truth, and F1 is the harmonic
  mean of the two averages (so a failure costs recall only);
- title: exact match after whitespace normalization (here and in tokens, text is
  compared in NFC with invisible characters such as soft hyphens removed, on both sides);
- date: same calendar day as expected, over pages whose expected date is not null;
- authors F1: set F1 of whitespace/case-normalized names, over pages with
  ``authors_annotated`` (both empty counts as 1);
- body BoW P/R/F1: multiset overlap of lower-cased ``\\w+`` tokens, macro-averaged per
  page (a failure scores 0);
- failures: the extractor raised or returned nothing (the page scores 0 on every field).

Exits 0 with "skipped: corpus not found" when the corpus is absent.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPORA = REPO.parent / "shared" / "corpus"
DEFAULT_CORPUS = CORPORA / "fundus-dev"
_SHINGLE = 4
_TOKEN = re.compile(r"\w+")
# Invisible characters (soft hyphen, zero-width space/joiners) are not word breaks: a page
# may keep "Gründer\u00adväter" where an extractor rightly drops the soft hyphen.
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"))


@dataclass(frozen=True)
class Page:
    """One corpus page and what it should yield."""

    id: str
    url: str
    html: str
    crawled: datetime | None
    title: str
    date: str | None
    authors: list[str]
    authors_annotated: bool
    body: str


@dataclass(frozen=True)
class Output:
    """What one extractor made of one page (None everywhere on failure)."""

    title: str | None = None
    date: str | None = None
    authors: list[str] = field(default_factory=list)
    body: str | None = None
    failed: bool = False


@dataclass
class Score:
    """Per-page scores of one extractor."""

    title: list[float] = field(default_factory=list)
    date: list[float] = field(default_factory=list)
    authors: list[float] = field(default_factory=list)
    precision: list[float] = field(default_factory=list)
    recall: list[float] = field(default_factory=list)
    f1: list[float] = field(default_factory=list)
    shingles: list[tuple[float, float, float]] = field(default_factory=list)
    bodies: bool = True  # False for a date-only extractor: its body rows print "-"
    failures: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    pages: int = 0


def load_corpus(path: Path) -> list[Page]:
    """Read ``expected.jsonl`` and the gzip-compressed pages next to it."""
    pages = []
    # Records are split on "\n" only: a body may hold a raw U+2028 or U+0085, which
    # str.splitlines() would take for a record separator.
    for line in (path / "expected.jsonl").read_text(encoding="utf-8").split("\n"):
        if not line.strip():
            continue
        record = json.loads(line)
        raw = gzip.decompress((path / "html" / f"{record['id']}.html.gz").read_bytes())
        crawled = None
        if record.get("crawl_date"):
            crawled = datetime.fromisoformat(record["crawl_date"]).replace(tzinfo=UTC)
        pages.append(
            Page(
                id=record["id"],
                url=record["url"],
                html=raw.decode("utf-8", errors="replace"),
                crawled=crawled,
                title=record.get("title") or "",
                date=record.get("date"),
                authors=list(record.get("authors") or []),
                authors_annotated=bool(record.get("authors_annotated")),
                body=record.get("body") or "",
            )
        )
    return pages


def run_ours(page: Page) -> Output:
    from cleaner import ExtractionError, extract

    try:
        article = extract(page.html, url=page.url, fetched_at=page.crawled)
    except ExtractionError:
        return Output(failed=True)
    return Output(article.title, article.date, list(article.authors), article.body)


def run_trafilatura(page: Page) -> Output:
    import trafilatura

    found = trafilatura.extract(page.html, url=page.url, with_metadata=True, output_format="json")
    document = json.loads(found) if found else {}
    text = "\n".join(part for part in (document.get("text"), document.get("comments")) if part)
    if not text:
        return Output(failed=True)
    authors = [name.strip() for name in (document.get("author") or "").split(";") if name.strip()]
    return Output(document.get("title"), document.get("date"), authors, text)


def run_htmldate(page: Page) -> Output:
    import lxml.html  # type: ignore[import-untyped]
    from htmldate import find_date

    # A tree, never a string: htmldate downloads a string that looks like a URL.
    found = find_date(
        lxml.html.document_fromstring(page.html),
        url=page.url,
        extensive_search=True,
        original_date=True,
    )
    return Output(date=found, failed=found is None)


EXTRACTORS: dict[str, Callable[[Page], Output]] = {
    "ours": run_ours,
    "trafilatura": run_trafilatura,
    "htmldate": run_htmldate,
}
DATE_ONLY = frozenset({"htmldate"})


def _canonical(text: str | None) -> str:
    """NFC (a page in decomposed form must not split "ü" into two tokens), invisibles out."""
    return unicodedata.normalize("NFC", text or "").translate(_INVISIBLE)


def _norm(text: str | None) -> str:
    return " ".join(_canonical(text).split()).casefold()


def _tokens(text: str | None) -> Counter[str]:
    return Counter(_TOKEN.findall(_canonical(text).lower()))


def prf(predicted: Counter[str], expected: Counter[str]) -> tuple[float, float, float]:
    """Precision, recall and F1 of two token multisets (both empty: perfect)."""
    if not predicted and not expected:
        return 1.0, 1.0, 1.0
    overlap = sum((predicted & expected).values())
    precision = overlap / sum(predicted.values()) if predicted else 0.0
    recall = overlap / sum(expected.values()) if expected else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def _shingles(text: str | None) -> Counter[tuple[str, ...]]:
    tokens = _TOKEN.findall(_canonical(text))
    return Counter(
        tuple(tokens[i : i + _SHINGLE]) for i in range(max(1, len(tokens) - _SHINGLE + 1))
    ) - Counter({(): 1})


def shingle_counts(predicted: str | None, expected: str | None) -> tuple[float, float, float]:
    """One page's shingle TP, FP, FN, normalized to sum 1 (all 0 when both are empty)."""
    ours, truth = _shingles(predicted), _shingles(expected)
    tp = sum((ours & truth).values())
    fp = sum((ours - truth).values())
    fn = sum((truth - ours).values())
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def shingle_prf(counts: Iterable[tuple[float, float, float]]) -> tuple[float, float, float]:
    """Mean precision (non-empty predictions), mean recall (non-empty truths), their F1."""
    precisions, recalls = [], []
    for tp, fp, fn in counts:
        if tp + fp > 0:
            precisions.append(1.0 if fp == fn == 0 else tp / (tp + fp))
        if tp + fn > 0:
            recalls.append(1.0 if fp == fn == 0 else tp / (tp + fn))
    precision, recall = _mean(precisions), _mean(recalls)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def score_page(page: Page, out: Output, score: Score) -> float:
    """Add one page's scores; return its body F1 (shingle F1 of the page alone)."""
    score.pages += 1
    score.failures += out.failed
    score.title.append(float(bool(out.title) and _norm(out.title) == _norm(page.title)))
    if page.date is not None:
        score.date.append(float((out.date or "")[:10] == page.date))
    if page.authors_annotated:
        names = Counter({_norm(name): 1 for name in out.authors})
        expected = Counter({_norm(name): 1 for name in page.authors})
        score.authors.append(prf(names, expected)[2])
    precision, recall, f1 = prf(_tokens(out.body), _tokens(page.body))
    score.precision.append(precision)
    score.recall.append(recall)
    score.f1.append(f1)
    counts = shingle_counts(out.body, page.body)
    score.shingles.append(counts)
    tp, fp, fn = counts
    return 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0


def evaluate(
    pages: list[Page], names: list[str]
) -> dict[str, tuple[Score, list[tuple[float, str]]]]:
    """Run the extractors over every page; per extractor, its scores and (body F1, id) of
    each page, worst first.

    The extractors take turns on each page (in alternating order), so a change of the
    machine's speed during the run touches them alike. Timing covers the extraction
    call only.
    """
    extractors = {name: EXTRACTORS[name] for name in names}
    for extractor in extractors.values():
        for page in (_warm_up_page(), pages[0]):
            extractor(page)
    scores = {name: Score(bodies=name not in DATE_ONLY) for name in names}
    ranked: dict[str, list[tuple[float, str]]] = {name: [] for name in names}
    for number, page in enumerate(pages):
        for name in names if number % 2 == 0 else names[::-1]:
            score = scores[name]
            start, cpu_start = time.perf_counter(), time.process_time()
            try:
                out = extractors[name](page)
            except Exception as exc:  # a crash is a failure to report, not a reason to stop
                print(f"  {name} crashed on {page.id}: {exc!r}", file=sys.stderr)
                out = Output(failed=True)
            score.seconds += time.perf_counter() - start
            score.cpu_seconds += time.process_time() - cpu_start
            ranked[name].append((score_page(page, out, score), page.id))
    return {name: (scores[name], sorted(ranked[name])) for name in names}


def _warm_up_page() -> Page:
    from cleaner.warm import WARM_UP_PAGE, WARM_UP_URL

    html = WARM_UP_PAGE.decode("utf-8")
    return Page("warm-up", WARM_UP_URL, html, None, "", None, [], False, "")


def _mean(values: Iterable[float]) -> float:
    items = list(values)
    return sum(items) / len(items) if items else float("nan")


def _body(score: Score, cell: str) -> str:
    return cell if score.bodies else "-"


def table(scores: dict[str, Score]) -> str:
    """The side-by-side table, one column per extractor."""
    rows: list[tuple[str, Callable[[Score], str]]] = [
        ("pages", lambda s: str(s.pages)),
        ("title exact", lambda s: _body(s, f"{_mean(s.title):.3f}")),
        ("date same day", lambda s: f"{_mean(s.date):.3f} (n={len(s.date)})"),
        ("authors F1", lambda s: _body(s, f"{_mean(s.authors):.3f} (n={len(s.authors)})")),
        ("body shingle P", lambda s: _body(s, f"{shingle_prf(s.shingles)[0]:.3f}")),
        ("body shingle R", lambda s: _body(s, f"{shingle_prf(s.shingles)[1]:.3f}")),
        ("body shingle F1", lambda s: _body(s, f"{shingle_prf(s.shingles)[2]:.3f}")),
        ("body BoW P", lambda s: _body(s, f"{_mean(s.precision):.3f}")),
        ("body BoW R", lambda s: _body(s, f"{_mean(s.recall):.3f}")),
        ("body BoW F1", lambda s: _body(s, f"{_mean(s.f1):.3f}")),
        ("failures", lambda s: str(s.failures)),
        ("pages/s", lambda s: f"{s.pages / s.seconds:.1f}" if s.seconds else "inf"),
        ("pages/CPU s", lambda s: f"{s.pages / s.cpu_seconds:.1f}" if s.cpu_seconds else "inf"),
    ]
    names = list(scores)
    width = max(len(label) for label, _ in rows) + 2
    lines = [f"{'metric':<{width}}" + "".join(f"{name:>16}" for name in names)]
    for label, cell in rows:
        lines.append(f"{label:<{width}}" + "".join(f"{cell(scores[n]):>16}" for n in names))
    return "\n".join(lines)


def title_witnesses(pages: list[Page]) -> str:
    """How often each title witness holds the expected title, alone and in each fixed order.

    Shows the ceiling of any one generic order: the corpus's titles follow each
    publisher's choice (og:title for some, the JSON-LD headline for others).
    """
    from itertools import permutations
    from urllib.parse import urlsplit

    from selectolax.lexbor import LexborHTMLParser

    from cleaner.metadata import read_metadata
    from cleaner.noise import normalize_text
    from cleaner.titles import choose_title

    hits: Counter[tuple[str, ...]] = Counter()
    for page in pages:
        tree = LexborHTMLParser(page.html)
        meta = read_metadata(tree)
        h1, title = tree.css_first("h1"), tree.css_first("title")
        witnesses = {
            "og:title": meta.og_title,
            "ld:headline": meta.ld_title,
            "h1": normalize_text(h1.text(separator=" ")) if h1 else None,
            "<title>": normalize_text(title.text()) if title else None,
        }
        host = urlsplit(page.url).hostname or ""
        right = set()
        for order in [*permutations(witnesses), *((name,) for name in witnesses)]:
            chosen = choose_title(
                [witnesses[n] for n in order], meta.site_names, host, meta.sections
            )
            if chosen and _norm(chosen) == _norm(page.title):
                hits[order] += 1
                right.add(order)
        hits[("any witness",)] += any(len(order) == 1 for order in right)
    ranked = sorted(hits.items(), key=lambda item: -item[1])
    return "\n".join(f"{n / len(pages):.3f}  {' > '.join(order)}" for order, n in ranked)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--corpus", type=Path, default=DEFAULT_CORPUS, help="fundus-dev, wcxb-dev or a path"
    )
    parser.add_argument("--every", type=int, default=1, help="keep every K-th page only")
    parser.add_argument("--per-page", type=Path, help="write per-page scores here (JSON lines)")
    parser.add_argument("--only", choices=sorted(EXTRACTORS), action="append")
    parser.add_argument("--worst", type=int, default=0, help="list the N worst body-F1 pages")
    parser.add_argument(
        "--title-witnesses",
        action="store_true",
        help="title exact-match of each fixed witness order, and of 'any witness right'",
    )
    args = parser.parse_args(argv)
    if not args.corpus.exists() and len(args.corpus.parts) == 1:
        args.corpus = CORPORA / args.corpus
    if not (args.corpus / "expected.jsonl").is_file():
        print(f"skipped: corpus not found at {args.corpus}")
        return 0
    sys.path.insert(0, str(REPO / "src"))
    pages = load_corpus(args.corpus)[:: max(1, args.every)]
    if not pages:
        print(f"skipped: corpus at {args.corpus} is empty")
        return 0
    if args.title_witnesses:
        print(title_witnesses(pages))
        return 0
    scores = {}
    per_page: dict[str, dict[str, float]] = {}
    for name, (score, ranked) in evaluate(pages, args.only or list(EXTRACTORS)).items():
        scores[name] = score
        per_page[name] = {page_id: f1 for f1, page_id in ranked}
        if name not in DATE_ONLY:
            for f1, page_id in ranked[: args.worst]:
                print(f"  {name} worst body F1 {f1:.3f} {page_id}")
    if args.per_page:
        rows = ({"id": page.id, **{n: per_page[n][page.id] for n in per_page}} for page in pages)
        args.per_page.write_text("".join(json.dumps(row) + "\n" for row in rows))
    print(f"corpus: {args.corpus.name}, {len(pages)} pages")
    print(table(scores))
    return 0


if __name__ == "__main__":
    sys.exit(main())
