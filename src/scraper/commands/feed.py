"""`scraper feed`: one source's or one columnist's saved records as an Atom feed."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from cleaner import Article
from cleaner.noise import text_key
from scraper.commands.app import Options, app, fail, shared
from scraper.commands.exitcodes import ExitCode
from scraper.errors import StorageError
from scraper.store.atom import atom_feed
from scraper.store.catalog import read_catalog
from scraper.store.records import safe_component, write_atomic


def _choices(names: list[str]) -> str:
    shown = ", ".join(names[:20]) + (f", … ({len(names)} in all)" if len(names) > 20 else "")
    return shown or "none"


def _feed_names(
    chosen: list[Article], source: str | None, columnist: str | None
) -> tuple[str, str]:
    """The feed's title and id, with the names as the records spell them, not as typed."""
    parts: list[tuple[str, str]] = []
    if columnist is not None:
        key = text_key(columnist)
        spelled = next((n for n in chosen[0].authors if text_key(n) == key), columnist)
        parts.append(("columnist", spelled))
    if source is not None:
        parts.append(("source", chosen[0].source))
    title = ", ".join(name for _, name in parts) + ": opinion columns"
    feed_id = "urn:opinion-scraper:feed:" + "/".join(
        f"{kind}:{safe_component(name)}" for kind, name in parts
    )
    return title, feed_id


@app.command()
@shared("logging", "settings")
def feed(
    source: Annotated[
        str | None,
        typer.Option("--source", help="A publisher, as in the records' source field."),
    ] = None,
    columnist: Annotated[
        str | None,
        typer.Option("--columnist", "-a", help="An author, as in the records' authors field."),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Write the feed to this file (atomically; '-': stdout)."
        ),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", min=1, help="At most this many entries, newest first.")
    ] = 50,
    *,
    options: Options,
) -> None:
    """Write an Atom feed of the saved records (data/clean) of one source or columnist.

    Follow a columnist whose newspaper has no feed: run `scraper run` from cron, then
    `scraper feed --columnist NAME -o feed.xml` and point a feed reader at the file.
    Each entry has the title, a link to the original article when known (a teaser's
    credit link, else the page fetched), the date, the authors and the teaser. Names
    match without case or punctuation; give both options to narrow.

    Exit codes: 0 ok, 2 no such source/columnist or no records, 10 cannot write output.
    """
    if source is None and columnist is None:
        fail(ExitCode.USAGE, "choose the feed: --source NAME or --columnist NAME")
    data_dir = options.settings().data_dir
    catalog, clean_dir = read_catalog(data_dir), data_dir / "clean"
    if catalog.unreadable:
        typer.echo(
            f"scraper: warning: {len(catalog.unreadable)} unreadable record(s) skipped,"
            f" first: {catalog.unreadable[0]}",
            err=True,
        )
    chosen = catalog.select(source=source, columnist=columnist)
    if not chosen:
        if source is not None:
            known = f"sources in {clean_dir}: {_choices(catalog.sources())}"
        else:
            known = f"columnists in {clean_dir}: {_choices(catalog.columnists())}"
        fail(ExitCode.USAGE, f"no records for {source or columnist!r}; {known}")
    chosen = chosen[:limit]
    title, feed_id = _feed_names(chosen, source, columnist)
    text = atom_feed(chosen, title=title, feed_id=feed_id)
    if output is None or str(output) == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        try:
            write_atomic(output, text)
        except StorageError as exc:
            fail(ExitCode.OUTPUT, str(exc))
        if not options.quiet and not options.log_json:
            typer.echo(f"{len(chosen)} entries written to {output}", err=True)
    options.summary("feed", {"entries": len(chosen), "output": str(output or "-")})
