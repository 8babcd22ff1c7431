"""benchmarks/eval_cleaner.py runs end to end on a tiny corpus in the fundus-dev format."""

from __future__ import annotations

import gzip
import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "eval_cleaner.py"

_PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>{title} | The Hillside Ledger</title>
<meta property="og:site_name" content="The Hillside Ledger">
<script type="application/ld+json">{{"@context": "https://schema.org", "@type": "NewsArticle",
"headline": "{title}", "datePublished": "{date}T08:00:00+01:00",
"author": {{"@type": "Person", "name": "{author}"}}}}</script></head>
<body><nav><a href="/">Home</a> <a href="/town">Town</a></nav>
<article><h1>{title}</h1><p>{para1}</p><p>{para2}</p></article>
<footer>Contact us - Terms - Privacy</footer></body></html>"""

_RECORDS = [
    {
        "id": "xx-Ledger_2025_01_01",
        "title": "Ferry timetable change divides the island",
        "date": "2025-01-01",
        "author": "Mara Quill",
        "para1": "The winter ferry will leave forty minutes earlier from next month, a change"
        " the harbour board says will save fuel and the islanders say will cost them a day.",
        "para2": "Shopkeepers who rely on the morning crossing collected two hundred signatures"
        " in a week and delivered them to the board before its meeting on Tuesday evening.",
    },
    {
        "id": "xx-Ledger_2025_01_02",
        "title": "A library that lends tools as well as books",
        "date": "2025-01-02",
        "author": "Tobias Fenn",
        "para1": "Drills, ladders and a tile cutter now sit on shelves beside the atlases, each"
        " with a barcode and a two-week loan period, just like any novel in the building.",
        "para2": "Volunteers check every returned tool for damage, and the librarians say the"
        " most borrowed item so far is a carpet cleaner that nobody wants to own outright.",
    },
]


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("eval_cleaner", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being created
    spec.loader.exec_module(module)
    return module


def _write_corpus(root: Path) -> Path:
    corpus = root / "tiny"
    (corpus / "html").mkdir(parents=True)
    lines = []
    for record in _RECORDS:
        html = _PAGE.format(**record)
        (corpus / "html" / f"{record['id']}.html.gz").write_bytes(gzip.compress(html.encode()))
        lines.append(
            json.dumps(
                {
                    "id": record["id"],
                    "publisher": "Ledger",
                    "country": "xx",
                    "url": f"https://ledger.example/{record['id']}",
                    "crawl_date": "2025-02-01 10:00:00.000000",
                    "parser_version": "V1",
                    "title": record["title"],
                    "date": record["date"],
                    "authors": [record["author"]],
                    "authors_annotated": True,
                    "body": f"{record['para1']}\n\n{record['para2']}",
                }
            )
        )
    (corpus / "expected.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return corpus


def test_runs_both_extractors_on_a_tiny_corpus(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    module = _load()
    corpus = _write_corpus(tmp_path)

    assert module.main(["--corpus", str(corpus)]) == 0

    out = capsys.readouterr().out
    header, *rows = out.split("corpus: tiny, 2 pages\n", 1)[1].splitlines()
    assert header.split()[1:] == ["ours", "trafilatura", "htmldate"]
    cells = {row[:20].strip(): row[20:].split() for row in rows}
    assert cells["pages"] == ["2", "2", "2"]
    assert cells["failures"] == ["0", "0", "0"]
    assert cells["date same day"][2] == "1.000"  # htmldate reads the JSON-LD date
    assert cells["body shingle F1"][2] == "-"  # and no body
    # Our cleaner reads these simple, well-marked pages perfectly.
    assert cells["title exact"][0] == "1.000"
    assert cells["date same day"][0] == "1.000"
    assert cells["authors F1"][0] == "1.000"
    assert float(cells["body shingle F1"][0]) >= 0.9
    assert float(cells["body BoW F1"][0]) >= 0.9
    assert float(cells["pages/s"][0]) > 0


def test_skips_cleanly_without_a_corpus(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    module = _load()

    assert module.main(["--corpus", str(tmp_path / "absent")]) == 0

    assert capsys.readouterr().out.startswith("skipped: corpus not found")


def test_token_scores() -> None:
    module = _load()

    assert module.prf(Counter(["a", "b", "c"]), Counter(["a", "b", "d", "e"])) == pytest.approx(
        (2 / 3, 2 / 4, 4 / 7)
    )
    assert module.prf(Counter(), Counter()) == (1.0, 1.0, 1.0)
    assert module.prf(Counter(), Counter(["a"])) == (0.0, 0.0, 0.0)


def test_shingle_scores_follow_the_zyte_definition() -> None:
    module = _load()

    # 6 tokens -> 3 shingles; the prediction drops the last token: 2 shared, 1 missed.
    assert module.shingle_counts("a b c d e", "a b c d e f") == pytest.approx((2 / 3, 0, 1 / 3))
    # Case is kept: "A" and "a" are different tokens.
    assert module.shingle_counts("A b c d", "a b c d") == pytest.approx((0, 0.5, 0.5))
    # A text under 4 tokens is one shingle; both empty counts nowhere.
    assert module.shingle_counts("a b", "a b") == (1.0, 0.0, 0.0)
    assert module.shingle_counts("", "") == (0.0, 0.0, 0.0)
    # An empty prediction counts in recall only: precision 1 from the other page.
    precision, recall, f1 = module.shingle_prf([(1.0, 0.0, 0.0), (0.0, 0.0, 1.0)])
    assert (precision, recall) == (1.0, 0.5)
    assert f1 == pytest.approx(2 / 3)


def test_records_may_hold_raw_line_separators(tmp_path: Path) -> None:
    module = _load()
    corpus = _write_corpus(tmp_path)
    records = (corpus / "expected.jsonl").read_text(encoding="utf-8").split("\n")
    # json.dumps escapes U+2028 by default; a corpus written with ensure_ascii=False does not.
    first = json.loads(records[0])
    first["body"] = first["body"].replace("\n\n", "\u2028\u0085", 1)
    records[0] = json.dumps(first, ensure_ascii=False)
    (corpus / "expected.jsonl").write_text("\n".join(records), encoding="utf-8")

    pages = module.load_corpus(corpus)

    assert [page.id for page in pages] == [record["id"] for record in _RECORDS]
    assert "\u2028" in pages[0].body


def test_title_witnesses_ranks_fixed_orders(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    module = _load()
    corpus = _write_corpus(tmp_path)

    assert module.main(["--corpus", str(corpus), "--title-witnesses"]) == 0

    shares = dict(line.split("  ", 1)[::-1] for line in capsys.readouterr().out.splitlines())
    # The h1 and the JSON-LD headline carry the title; <title> does once "| Site" is cut.
    assert shares["any witness"] == "1.000"
    assert shares["ld:headline"] == "1.000"
    assert shares["<title>"] == "1.000"
    assert shares["ld:headline > og:title > h1 > <title>"] == "1.000"
    assert "og:title" not in shares  # the pages have none


def test_the_extractors_warm_up_then_take_turns_on_each_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = _load()
    pages = module.load_corpus(_write_corpus(tmp_path))
    calls: list[tuple[str, str]] = []
    for name in ("ours", "trafilatura"):
        real = module.EXTRACTORS[name]

        def recorded(page: Any, name: str = name, real: Any = real) -> Any:
            calls.append((name, page.id))
            return real(page)

        monkeypatch.setitem(module.EXTRACTORS, name, recorded)

    scores = module.evaluate(pages, ["ours", "trafilatura"])

    # Each is warmed on the cleaner's warm-up page (every fallback) and the first page,
    # then they alternate who goes first, so a machine slowing down slows both alike.
    first, second = (page.id for page in pages)
    assert calls == [
        ("ours", "warm-up"),
        ("ours", first),
        ("trafilatura", "warm-up"),
        ("trafilatura", first),
        ("ours", first),
        ("trafilatura", first),
        ("trafilatura", second),
        ("ours", second),
    ]
    assert all(score.pages == 2 and score.cpu_seconds > 0 for score, _ in scores.values())
