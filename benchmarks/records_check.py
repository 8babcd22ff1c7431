"""Same records before and after a cleaner change: dump every dev-corpus page's record
(or reject) as JSON, then compare a later dump with it, field by field.

    .venv/bin/python benchmarks/records_check.py dump before.json     # on the old code
    .venv/bin/python benchmarks/records_check.py dump after.json      # on the new code
    .venv/bin/python benchmarks/records_check.py diff before.json after.json

``dump --language-cache DIR`` detects languages with the model mapped from the cache in
DIR, as the cleaning pool's workers do.

Corpora: ``../shared/corpus/fundus-dev`` and ``wcxb-dev`` (skipped when absent). Each page
is cleaned from its bytes, as the pipeline does, with a fixed fetch time for pages
without a crawl date. Also prints the cleaning CPU time per page.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CORPORA = [REPO.parent / "shared" / "corpus" / name for name in ("fundus-dev", "wcxb-dev")]
_NO_CRAWL_DATE = datetime(2026, 11, 1, tzinfo=UTC)


def dump(out: Path, language_cache: Path | None = None) -> None:
    from cleaner import ExtractionError, extract

    if language_cache is not None:  # classify with the model mapped from a cache, as pools do
        from cleaner.language import use_identifier
        from scraper.jobs.language_cache import load_identifier

        use_identifier(load_identifier(language_cache))

    records: dict[str, object] = {}
    seconds = 0.0
    for corpus in CORPORA:
        if not (corpus / "expected.jsonl").is_file():
            print(f"skipped: {corpus.name} not found")
            continue
        for line in (corpus / "expected.jsonl").read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            page = json.loads(line)
            raw = gzip.decompress((corpus / "html" / f"{page['id']}.html.gz").read_bytes())
            crawled = page.get("crawl_date")
            fetched = (
                datetime.fromisoformat(crawled).replace(tzinfo=UTC) if crawled else _NO_CRAWL_DATE
            )
            started = time.process_time()
            try:
                record: object = extract(raw, url=page["url"], fetched_at=fetched).model_dump(
                    mode="json"
                )
            except ExtractionError as exc:
                record = {"rejected": exc.reason.value, "detail": exc.detail}
            seconds += time.process_time() - started
            records[f"{corpus.name}/{page['id']}"] = record
    out.write_text(json.dumps(records, ensure_ascii=False, indent=1, sort_keys=True) + "\n")
    print(f"{len(records)} pages, {1000 * seconds / max(len(records), 1):.1f} ms CPU/page -> {out}")


def diff(before: Path, after: Path) -> int:
    old = json.loads(before.read_text(encoding="utf-8"))
    new = json.loads(after.read_text(encoding="utf-8"))
    changed = 0
    for key in sorted(old.keys() | new.keys()):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        changed += 1
        fields = sorted(
            k for k in (a or {}).keys() | (b or {}).keys() if (a or {}).get(k) != (b or {}).get(k)
        )
        print(f"{key}: differs in {', '.join(fields)}")
    print(f"{len(old)} pages before, {len(new)} after: {changed} differ")
    return 1 if changed else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    dumping = sub.add_parser("dump")
    dumping.add_argument("out", type=Path)
    dumping.add_argument(
        "--language-cache",
        type=Path,
        metavar="DIR",
        help="detect languages with the model cached in DIR (built there if missing), "
        "as the cleaning pool's workers do, instead of py3langid's own file",
    )
    compare = sub.add_parser("diff")
    compare.add_argument("before", type=Path)
    compare.add_argument("after", type=Path)
    args = parser.parse_args()
    if args.command == "dump":
        dump(args.out, args.language_cache)
    else:
        sys.exit(diff(args.before, args.after))


if __name__ == "__main__":
    main()
