"""load_sources: the shipped sources.toml, every validation message, and fuzzed TOML."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scraper.discovery.sources import SourcesConfig, load_sources, parse_sources
from scraper.errors import ConfigError
from scraper.settings import Politeness

REPO = Path(__file__).resolve().parents[3]

MINIMAL = """
[[sources]]
name = "q"
kind = "aggregator"
urls = ["https://qoshe.example/columnist/jo-parker"]
listing = "qoshe"
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_default_is_valid_and_enables_nothing() -> None:
    config = load_sources(REPO / "sources.toml")

    assert config.enabled() == []  # `make run` offline must not reach the internet
    assert {source.kind for source in config.sources} == {"aggregator", "feed", "sitemap"}
    assert {source.listing for source in config.sources} >= {"qoshe", "news-section"}
    assert config.settings.data_dir == Path("data")


def test_minimal_source_gets_defaults(tmp_path: Path) -> None:
    config = load_sources(_write(tmp_path, MINIMAL))

    (source,) = config.sources
    assert (source.enabled, source.max_pages, source.max_listing_pages) == (True, 200, 5)
    assert source.max_age_days is None
    assert source.effective_politeness(config.settings.politeness) == Politeness()


def test_settings_and_politeness_overrides_merge(tmp_path: Path) -> None:
    text = f"""
[settings]
data_dir = "/srv/columns"
[settings.politeness]
delay = 3.0
per_host_concurrency = 1
{MINIMAL}
max_age_days = 14
[sources.politeness]
delay = 0.5
"""
    config = load_sources(_write(tmp_path, text))

    politeness = config.sources[0].effective_politeness(config.settings.politeness)
    assert config.settings.data_dir == Path("/srv/columns")
    assert (politeness.delay, politeness.per_host_concurrency) == (0.5, 1)
    assert config.sources[0].max_age_days == 14


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (MINIMAL + "max_pagse = 3", r"sources\[0\] \(name 'q'\)\.max_pagse: unknown key"),
        (MINIMAL + "[sources.politeness]\ndely = 1", r"politeness\.dely: unknown key"),
        ("[settings]\ndata_dirr = 'x'\n", r"settings\.data_dirr: unknown key"),
        ("[setting]\n", r"setting: unknown key"),
        (MINIMAL.replace("https://", "ftp://"), r"urls: not an absolute http\(s\) URL: 'ftp:"),
        (MINIMAL.replace("https://qoshe.example", "/relative"), "not an absolute http"),
        (MINIMAL.replace('"aggregator"', '"rss"'), r"kind: Input should be 'aggregator'"),
        (MINIMAL.replace('listing = "qoshe"', ""), "aggregator source needs `listing`"),
        (MINIMAL.replace('"aggregator"', '"feed"'), "`listing` is only for aggregator"),
        (MINIMAL.replace('"qoshe"', '"qoshee"'), r"\.listing: unknown listing rules 'qoshee'"),
        (MINIMAL.replace('name = "q"', 'name = "a b/c"'), "name: String should match"),
        (MINIMAL + "max_pages = 0", "max_pages: Input should be greater than or equal to 1"),
        (MINIMAL + "include = ['(']", "include: invalid regex"),
        (MINIMAL + MINIMAL, "duplicate source name 'q'"),
        ("[[sources]]\nname = 'x'\nkind = 'feed'\nurls = []\n", r"urls: List should have"),
        ("sources = 3", "sources: Input should be a valid list"),
        ("[[sources]\n", "not valid TOML"),
    ],
)
def test_problems_name_the_file_and_key(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, text)

    with pytest.raises(ConfigError, match=message) as caught:
        load_sources(path)

    assert str(caught.value).startswith(f"{path}: ")


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read sources file"):
        load_sources(tmp_path / "absent.toml")
    (tmp_path / "latin1.toml").write_bytes(b"# caf\xe9\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_sources(tmp_path / "latin1.toml")


def test_listing_rules_path_is_relative_to_the_config(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "mine.toml").write_text(
        'name = "mine"\n[selectors]\nitem = [".post"]\n', encoding="utf-8"
    )
    text = MINIMAL.replace('"qoshe"', '"rules/mine.toml"')

    config = load_sources(_write(tmp_path, text))

    assert config.sources[0].listing == str(tmp_path / "rules" / "mine.toml")
    broken = text.replace("rules/mine.toml", "rules/absent.toml")
    with pytest.raises(ConfigError, match=r"\.listing: cannot read listing rules"):
        load_sources(_write(tmp_path, broken))


def test_select_and_include_exclude() -> None:
    config = parse_sources(
        MINIMAL
        + "include = ['/jo-parker/']\nexclude = ['/draft']\n"
        + MINIMAL.replace('"q"', '"off"')
        + "enabled = false\n"
    )

    assert [source.name for source in config.select([])] == ["q"]
    assert [source.name for source in config.select(["off", "q", "off"])] == ["off", "q"]
    with pytest.raises(ConfigError, match=r"unknown source nope \(configured: off, q\)"):
        config.select(["nope"])
    source = config.sources[0]
    assert source.wants("https://q.example/g/jo-parker/night-buses")
    assert not source.wants("https://q.example/g/ana/harbour")
    assert not source.wants("https://q.example/g/jo-parker/draft-1")


_KEYS = st.sampled_from(
    [
        "name",
        "kind",
        "urls",
        "listing",
        "enabled",
        "max_pages",
        "max_age_days",
        "include",
        "max_listing_pages",
        "politeness",
        "nmae",
        "delay",
        "data_dir",
        "settings",
        "sources",
    ]
)
_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 10**20)
    | st.floats(allow_nan=True)
    | st.sampled_from(["qoshe", "feed", "aggregator", "https://x.example/", "x.toml", "(", ""]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_KEYS, inner, max_size=4),
    max_leaves=12,
)


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)  # TOML spells inf and nan as Python does
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value if item is not None) + "]"
    if isinstance(value, dict):
        items = (f"{key} = {_toml_value(item)}" for key, item in value.items() if item is not None)
        return "{" + ", ".join(items) + "}"
    return '""'


@settings(max_examples=100, deadline=None)
@given(st.lists(st.dictionaries(_KEYS, _VALUES, max_size=6), max_size=3))
def test_fuzz_structured_documents(sources: list[dict[str, object]]) -> None:
    text = "sources = " + _toml_value(sources)
    tomllib.loads(text)  # the document is valid TOML: the fuzzing is of the schema
    try:
        config = parse_sources(text)
    except ConfigError as exc:
        assert str(exc)
        return
    assert isinstance(config, SourcesConfig)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_fuzz_arbitrary_text(text: str) -> None:
    try:
        config = parse_sources(text)
    except ConfigError as exc:
        assert str(exc).startswith("<string>: ")
        return
    assert config.sources == []  # random text that is valid TOML cannot name a source
