"""`scraper init`: write a commented `sources.toml` to start from (for a pip install)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel

from scraper.commands.app import DEFAULT_CONFIG, app, fail
from scraper.commands.exitcodes import ExitCode
from scraper.errors import StorageError
from scraper.settings import Settings
from scraper.store.records import write_atomic


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)  # a TOML basic string


def _table(model: BaseModel, header: str) -> list[str]:
    lines = [f"# {header}"]
    nested: list[tuple[str, BaseModel]] = []
    for name, info in type(model).model_fields.items():
        value = getattr(model, name)
        if isinstance(value, BaseModel):
            nested.append((name, value))
            continue
        if info.description:
            lines.append(f"#   ({info.description})")
        if value is None:  # TOML has no null: show where the value goes
            lines.append(f'# {name} = "..."  (not set by default)')
        else:
            lines.append(f"# {name} = {_toml_value(value)}")
    for name, value in nested:
        lines += ["", *_table(value, f"[{header.strip('[]')}.{name}]")]
    return lines


def settings_block() -> str:
    """Every setting with its default and reason, commented out, as TOML tables."""
    intro = [
        "# Settings: every one is shown with its default, commented out. Uncomment to change",
        "# it; `scraper ... -s KEY=VALUE` overrides one for a single command",
        "# (e.g. -s politeness.delay=0.5).",
    ]
    return "\n".join([*intro, *_table(Settings(), "[settings]")]) + "\n\n"


def sources_template() -> str:
    """The text `scraper init` writes (and the shipped sources.toml is)."""
    template = resources.files("scraper.commands").joinpath("sources_template.toml")
    return template.read_text(encoding="utf-8").replace("{settings}\n", settings_block())


@app.command()
def init(
    path: Annotated[
        Path, typer.Argument(help="Where to write it. [default: ./sources.toml]")
    ] = DEFAULT_CONFIG,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
) -> None:
    """Write a commented sources.toml: example sources (all disabled) and every setting
    with its default and reason.

    Exit codes: 0 written, 2 the file exists (use --force), 10 cannot write.
    """
    if path.exists() and not force:
        fail(ExitCode.USAGE, f"{path} exists; use --force to replace it")
    try:
        write_atomic(path, sources_template())
    except StorageError as exc:
        fail(ExitCode.OUTPUT, str(exc))
    typer.echo(f"wrote {path}: enable a source in it, then `scraper run --dry-run`")
