"""Fetching on a cluster: hosts sharded across workers, each host owned by exactly one
worker's task, so per-host politeness stays exact.

Each task runs the ordinary async `Fetcher` over its hosts, writes its responses to its
own WARC file in the shared raw folder, cleans the pages, and returns the outcomes; the
driver alone writes records and the state database. A worker lost mid-run makes Dask run
its task again elsewhere (the whole shard, so nothing is lost; the raw store may then
hold a response twice, and re-cleaning takes the latest).
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from scraper.errors import NetworkError
from scraper.fetch.fetcher import Fetcher, FetchOutcome, FetchRequest
from scraper.fetch.politeness import host_key
from scraper.jobs.cluster import Executor
from scraper.jobs.pipeline import judge
from scraper.settings import Settings
from scraper.store.warc import WarcStore

if TYPE_CHECKING:
    from cleaner import Article, Reject

Cleaned: TypeAlias = "tuple[FetchOutcome, Article | Reject | None]"


def shard_by_host(requests: list[FetchRequest], shards: int) -> list[list[FetchRequest]]:
    """Requests grouped so that every host falls in exactly one (non-empty) shard."""
    groups: list[list[FetchRequest]] = [[] for _ in range(max(1, shards))]
    for request in requests:
        # crc32, not hash(): the same host lands in the same shard in every process.
        groups[zlib.crc32(host_key(request.url).encode()) % len(groups)].append(request)
    return [group for group in groups if group]


async def fetch_and_judge(
    fetcher: Fetcher, requests: list[FetchRequest], held: Mapping[str, str]
) -> AsyncIterator[Cleaned]:
    """Fetch ``requests`` and clean each page, yielding as they complete."""
    async for outcome in fetcher.fetch_all(requests):
        yield outcome, judge(outcome, held.get(outcome.request.url))


def fetch_shard(
    settings: Settings, requests: list[FetchRequest], held: dict[str, str], raw_dir: Path | None
) -> list[Cleaned]:
    """One worker task: fetch and clean one shard of hosts."""

    async def work() -> list[Cleaned]:
        store = WarcStore(raw_dir) if raw_dir is not None else None
        try:
            async with Fetcher(settings, raw_store=store) as fetcher:
                return [item async for item in fetch_and_judge(fetcher, requests, held)]
        finally:
            if store is not None:
                store.close()

    return asyncio.run(work())


async def fetch_on_cluster(
    executor: Executor,
    settings: Settings,
    requests: list[FetchRequest],
    held: Mapping[str, str],
    raw_dir: Path | None,
) -> AsyncIterator[Cleaned]:
    """Run one task per shard of hosts on ``executor``; yield every request's outcome.

    A shard whose task failed for good (its workers kept dying) yields a failed outcome
    for each of its requests, so nothing is dropped silently.
    """
    shards = shard_by_host(requests, executor.workers)
    calls = [
        (settings, shard, {r.url: held[r.url] for r in shard if r.url in held}, raw_dir)
        for shard in shards
    ]
    finished = await asyncio.to_thread(lambda: list(executor.map_unordered(fetch_shard, calls)))
    for number, result in finished:
        if isinstance(result, BaseException):
            for request in shards[number]:
                error = NetworkError(request.url, f"worker task failed: {result!r}")
                yield FetchOutcome(request, None, error, 0), None
        else:
            for item in result:
                yield item
