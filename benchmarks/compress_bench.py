"""CPU and size of the raw store's gzip members: zlib (warcio's default level and ours) vs ISA-L.

Usage (from the repository root):

    .venv/bin/python benchmarks/compress_bench.py [--corpus PATH] [--repeat N]

Compresses every page of ``../shared/corpus/fundus-dev/html`` (real pages, 20-500 KB)
the way `scraper.store.warc.WarcStore` does, one gzip member per record, and prints
milliseconds per page and compressed size as a share of the input. Exits 0 with
"skipped" when the corpus is absent.
"""

from __future__ import annotations

import argparse
import gzip
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path

from isal import isal_zlib

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus" / "fundus-dev"
Compress = Callable[[bytes], bytes]


def _member(module: object, level: int) -> Compress:
    def compress(data: bytes) -> bytes:
        compressor = module.compressobj(level, module.DEFLATED, module.MAX_WBITS | 16)  # type: ignore[attr-defined]
        return bytes(compressor.compress(data) + compressor.flush())

    return compress


CODECS: dict[str, Compress] = {
    "zlib 9 (warcio's default)": _member(zlib, 9),
    "zlib 6": _member(zlib, 6),
    "zlib 1": _member(zlib, 1),
    "ISA-L 1 (ours)": _member(isal_zlib, 1),
    "ISA-L 2": _member(isal_zlib, 2),
}


def measure(pages: list[bytes], compress: Compress, repeat: int) -> tuple[float, float]:
    """(CPU ms per page, compressed bytes / input bytes)."""
    started = time.process_time()
    size = 0
    for _ in range(repeat):
        for page in pages:
            size += len(compress(page))
    elapsed = time.process_time() - started
    return elapsed / (repeat * len(pages)) * 1000, size / (repeat * sum(map(len, pages)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    files = sorted((args.corpus / "html").glob("*.html.gz"))
    if not files:
        print(f"skipped: no pages under {args.corpus / 'html'}")
        return 0
    pages = [gzip.decompress(path.read_bytes()) for path in files]
    average = sum(map(len, pages)) // len(pages) // 1024
    print(f"{len(pages)} pages, {average} KB on average, {args.repeat} rounds")
    print(f"{'codec':28} {'ms/page':>8} {'size':>7}")
    for name, compress in CODECS.items():
        ms, ratio = measure(pages, compress, args.repeat)
        print(f"{name:28} {ms:8.2f} {ratio:7.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
