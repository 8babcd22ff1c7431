"""What a run reports: the outcome of each URL, the counts, and the summary it prints."""

from __future__ import annotations

import enum
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from scraper.jobs.progress import printable


class Outcome(enum.StrEnum):
    """What happened to one discovered URL in a run."""

    NEW = "new"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    REJECTED = "rejected"
    FAILED = "failed"
    STORED = "stored"  # --raw-only: the response is in the raw store, not cleaned yet


@dataclass
class RunSummary:
    """The counts a run reports at its end and stores in the state database."""

    discovered: int = 0
    fetched: int = 0
    duplicates: int = 0  # discovered twice (teaser and original): one record
    outcomes: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)  # of rejected and failed URLs
    attention: int = 0  # rejected or failed pages worth a look (`pipeline.worth_a_look`)
    source_errors: dict[str, list[str]] = field(default_factory=dict)
    fill: dict[str, Counter[str]] = field(default_factory=dict)
    seconds: float = 0.0
    interrupted: bool = False  # stopped by Ctrl-C or SIGTERM; the next run completes it

    @property
    def ok(self) -> bool:
        """No source failed to list, and every page that failed is settled: gone (404,
        410), disallowed, or not an article. A cron run exits 0 then."""
        return not self.source_errors and not self.attention

    @property
    def status(self) -> str:
        """The run's status in the state database's run log."""
        if self.interrupted:
            return "interrupted"
        return "ok" if self.ok else "partial"

    def counts(self) -> dict[str, object]:
        return {
            "discovered": self.discovered,
            "fetched": self.fetched,
            "duplicates": self.duplicates,
            **{outcome.value: self.outcomes[outcome] for outcome in Outcome},
            "reasons": dict(sorted(self.reasons.items())),
            "needs_attention": self.attention,
            "source_errors": {name: len(errors) for name, errors in self.source_errors.items()},
            "fill_rates": {
                name: {
                    key: round(count / counts["articles"], 3) if key != "articles" else count
                    for key, count in counts.items()
                }
                for name, counts in self.fill.items()
                if counts["articles"]
            },
            "seconds": round(self.seconds, 2),
            **({"interrupted": True} if self.interrupted else {}),
        }


def summary_text(summary: RunSummary, data_dir: Path) -> str:
    """The human summary printed at the end of a run."""
    o = summary.outcomes
    lines = [
        f"discovered {summary.discovered}, fetched {summary.fetched}: "
        f"{o[Outcome.NEW]} new, {o[Outcome.UPDATED]} updated, {o[Outcome.UNCHANGED]} unchanged, "
        f"{o[Outcome.REJECTED]} rejected, {o[Outcome.FAILED]} failed"
        + (f", {o[Outcome.STORED]} stored raw" if o[Outcome.STORED] else "")
        + f" in {summary.seconds:.1f} s"
        + (f", {summary.attention} worth a look" if summary.attention else "")
        + (
            f" ({summary.duplicates} found both as teaser and original)"
            if summary.duplicates
            else ""
        ),
        f"records in {data_dir / 'clean'}, rejects in {data_dir / 'rejects'}",
    ]
    if summary.interrupted:
        lines.append(
            "interrupted: what was cleaned is saved; the next run fetches and cleans the rest"
        )
    if o[Outcome.STORED]:
        lines.append(f"raw responses in {data_dir / 'raw'}: `scraper reclean` cleans them")
    for name, errors in summary.source_errors.items():
        first = printable(errors[0])
        lines.append(f"source {name}: {len(errors)} listing error(s), first: {first}")
    return "\n".join(lines)


def summary_json(summary: RunSummary) -> str:
    return json.dumps(summary.counts(), sort_keys=True)
