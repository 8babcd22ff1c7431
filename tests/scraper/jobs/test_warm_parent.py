"""What the cleaning pool's warm parent loads before it forks its workers."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from array import array
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from py3langid.langid import LanguageIdentifier

from cleaner import Article
from cleaner.language import _identifier
from scraper.fetch.page import FetchedPage
from scraper.jobs.cleaning import Cleaned, CleaningPool
from scraper.jobs.language_cache import (
    _MAGIC,
    CACHE_DIR_ENV,
    FILE_NAME,
    FORMAT,
    _key,
    _read,
    _write,
    cache_dir,
    load_identifier,
)

# In a fresh interpreter: what `scraper.jobs.cleaning_worker.serve` imports before its
# first fork (the pool, and the cleaning function it is given).
_PROBE = """
import sys
from scraper.jobs.cleaning import cleaned
from scraper.jobs.cleaning_worker import load_function
load_function("scraper.jobs.pipeline:clean_page")
print(" ".join(name for name in ("aiohttp", "yarl", "scraper.fetch.http") if name in sys.modules))
"""


def test_the_warm_parent_does_not_import_the_http_client() -> None:
    probe = subprocess.run(
        [sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=60, check=False
    )

    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip() == "", f"imported by the warm parent: {probe.stdout}"


# --- the language model's cache ---------------------------------------------------------

_TEXTS = [
    "The last bus out of the market square leaves at twenty past seven, so anyone who "
    "works a late shift walks home or pays for a taxi.",
    "Der letzte Bus vom Marktplatz fährt um zwanzig nach sieben, und wer spät arbeitet, "
    "geht zu Fuß nach Hause oder nimmt ein Taxi.",
    "Le dernier bus de la place du marché part à sept heures vingt, et ceux qui "
    "travaillent tard rentrent à pied ou prennent un taxi.",
    "El último autobús de la plaza del mercado sale a las siete y veinte, así que quien "
    "trabaja hasta tarde vuelve a pie o paga un taxi.",
    "Последний автобус с рыночной площади уходит в двадцать минут восьмого.",
    "Son otobüs pazar meydanından yediyi yirmi geçe kalkıyor; geç çalışan yürüyor.",
    "آخرین اتوبوس میدان بازار ساعت هفت و بیست دقیقه حرکت می‌کند.",
    "市場の広場から出る最終バスは七時二十分に発車する。",
    "ΤΟ ΤΕΛΕΥΤΑΙΟ ΛΕΩΦΟΡΕΙΟ ΦΕΥΓΕΙ ΣΤΙΣ ΕΠΤΑ ΚΑΙ ΕΙΚΟΣΙ.",  # upper case: lowered first
    "",
    "2026-12-02 01:35 UTC, 14 °C, 1,013 hPa",
]


@pytest.fixture(scope="module")
def packaged() -> LanguageIdentifier:
    """py3langid's own model, as the cleaner loads it when nobody hands it one."""
    identifier = _identifier()  # the process's: other tests may have loaded it already
    assert isinstance(identifier.tk_output, array), "not py3langid's own model"
    return identifier


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory, packaged: LanguageIdentifier) -> Path:
    """A cache built from py3langid's model, as `load_identifier` builds one."""
    path = tmp_path_factory.mktemp("language-cache") / FILE_NAME
    _write(path, _key(), packaged)
    return path


@pytest.fixture(scope="module")
def mapped(cache: Path) -> LanguageIdentifier:
    identifier = _read(cache, _key())
    assert identifier is not None
    return identifier


def _damaged(cache: Path, tmp_path: Path, damage: Callable[[BinaryIO], object]) -> Path:
    """A copy of ``cache`` that ``damage`` changed in place."""
    path = tmp_path / FILE_NAME
    shutil.copyfile(cache, path)
    with path.open("r+b") as file:
        damage(file)
    return path


def test_the_mapped_model_classifies_every_text_as_py3langids_own(
    packaged: LanguageIdentifier, mapped: LanguageIdentifier
) -> None:
    assert isinstance(mapped.tk_nextmove, memoryview)  # mapped, not a copy
    for text in _TEXTS:
        assert mapped.classify(text) == packaged.classify(text), text
        assert mapped.rank(text) == packaged.rank(text), text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(max_size=400))
def test_the_mapped_model_gives_the_same_answer_on_any_text(
    packaged: LanguageIdentifier, mapped: LanguageIdentifier, text: str
) -> None:
    assert mapped.classify(text) == packaged.classify(text)


def _write_at(offset: int, data: bytes) -> Callable[[BinaryIO], object]:
    return lambda file: (file.seek(offset), file.write(data))


@pytest.mark.parametrize(
    "damage",
    [
        lambda file: file.truncate(file.seek(0, 2) // 2),  # cut short
        lambda file: file.truncate(100),  # cut inside the header
        lambda file: (file.seek(0, 2), file.write(b"\0" * 64)),  # longer than it says
        _write_at(0, b"GARBAGE!"),  # not our file
        _write_at(len(_MAGIC), b"\xff" * 8),  # an absurd header length
        _write_at(len(_MAGIC) + 8, b"[[[["),  # a header that is not JSON
        _write_at(len(_MAGIC) + 8, b'{"key": 1}'.ljust(40)),  # JSON of another shape
        lambda file: file.truncate(0),  # empty
    ],
    ids=["cut", "cut-header", "longer", "magic", "length", "json", "shape", "empty"],
)
def test_a_damaged_cache_is_not_read(
    cache: Path, tmp_path: Path, damage: Callable[[BinaryIO], object]
) -> None:
    assert _read(_damaged(cache, tmp_path, damage), _key()) is None


def test_a_cache_built_from_another_model_or_version_is_stale(cache: Path) -> None:
    for field, value in [("model_mtime_ns", 1), ("model_size", 1), ("py3langid", "0.0.1")]:
        assert _read(cache, {**_key(), field: value}) is None, field
    assert _read(cache, {**_key(), "format": FORMAT + 1}) is None


def test_a_damaged_cache_is_built_again_and_gives_the_same_languages(
    packaged: LanguageIdentifier, cache: Path, tmp_path: Path
) -> None:
    path = _damaged(cache, tmp_path, lambda file: file.truncate(file.seek(0, 2) // 3))

    identifier = load_identifier(tmp_path)

    assert [identifier.classify(text) for text in _TEXTS] == [
        packaged.classify(text) for text in _TEXTS
    ]
    assert path.read_bytes() == cache.read_bytes()  # rebuilt whole, in place
    assert [p.name for p in tmp_path.iterdir()] == [FILE_NAME]  # no temporary file left


def test_a_cache_that_cannot_be_written_falls_back_to_py3langids_file(
    packaged: LanguageIdentifier, tmp_path: Path
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory\n")

    identifier = load_identifier(blocked)

    assert [identifier.classify(text) for text in _TEXTS] == [
        packaged.classify(text) for text in _TEXTS
    ]


def test_two_processes_writing_the_cache_at_once_leave_a_whole_one(
    packaged: LanguageIdentifier, cache: Path, tmp_path: Path
) -> None:
    path = tmp_path / FILE_NAME
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda _: _write(path, _key(), packaged), range(2)))

    assert path.read_bytes() == cache.read_bytes()
    assert [p.name for p in tmp_path.iterdir()] == [FILE_NAME]


def test_the_cache_lives_in_the_users_cache_directory_unless_told(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv(CACHE_DIR_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "opinion-scraper"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "opinion-scraper"
    monkeypatch.setenv(CACHE_DIR_ENV, str(tmp_path / "elsewhere"))
    assert cache_dir() == tmp_path / "elsewhere"


def test_the_pools_warm_parent_maps_the_cache_and_its_workers_classify() -> None:
    page = FetchedPage(
        url="https://example.org/bus",
        final_url="https://example.org/bus",
        status=200,
        headers=[("Content-Type", "text/html")],  # no language declared
        body=(
            "<html><head><title>The last bus</title></head><body><article><h1>The last bus"
            f"</h1><p>{_TEXTS[0]}</p><p>{_TEXTS[0]}</p></article></body></html>"
        ).encode(),
        fetched_at=datetime(2026, 12, 1, tzinfo=UTC),
    )

    async def clean() -> tuple[Cleaned, str]:
        async with CleaningPool(1, deadline=30) as pool:
            cleaned = await (await pool.submit(page))
            assert pool._parent is not None
            return cleaned, Path(f"/proc/{pool._parent.process.pid}/maps").read_text()

    cleaned, maps = asyncio.run(clean())

    assert isinstance(cleaned.result, Article), cleaned.result
    assert cleaned.result.language == "en"
    assert str(cache_dir() / FILE_NAME) in maps
