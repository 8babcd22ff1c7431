"""The options every command shares, run as a user runs them: the installed `scraper`."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from tests.conftest import SCRAPER, fixture_bytes, run_scraper

COMMANDS = ["clean", "demo", "export", "feed", "fetch", "fetch-many", "init", "reclean", "run"]


def test_every_command_is_in_the_help_checks(workdir: Path) -> None:
    """A new command gets its help checked too: add it to COMMANDS."""
    lines = run_scraper("-h", cwd=workdir).stdout.split("Commands:\n")[1].splitlines()
    assert [line.split()[0] for line in lines if line.startswith("  ")] == COMMANDS


def _article(httpserver: HTTPServer, path: str = "/opinion/repair-shops") -> str:
    httpserver.expect_request(path).respond_with_data(
        fixture_bytes("publisher/article.html"), content_type="text/html"
    )
    return httpserver.url_for(path)


@pytest.mark.parametrize("command", COMMANDS)
def test_help_has_plain_usage_and_a_short_flag(workdir: Path, command: str) -> None:
    result = run_scraper(command, "-h", cwd=workdir)

    assert result.returncode == 0, result.stderr
    usage = result.stdout.splitlines()[0]
    assert usage.startswith(f"Usage: scraper {command} [OPTIONS]")
    # typer's own rendering ({url}, <list[str]>, <path>) is not for users.
    assert not re.search(r"[{}<>]", usage), usage
    assert not re.search(r"<(str|int|float|path|list\[\w+\])>", result.stdout), result.stdout


def test_settings_from_the_sources_file_then_s_overrides(
    httpserver: HTTPServer, workdir: Path
) -> None:
    url = _article(httpserver)
    (workdir / "sources.toml").write_text(
        '[settings]\nuser_agent = "from-the-file/1.0"\n', encoding="utf-8"
    )

    first = run_scraper("fetch", url, cwd=workdir)
    second = run_scraper("fetch", url, "-s", "user_agent=from-the-flag/2.0", cwd=workdir)

    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    agents = [request.headers["User-Agent"] for request, _ in httpserver.log]
    assert agents == ["from-the-file/1.0", "from-the-flag/2.0"]


def test_retries_and_user_agent_options(httpserver: HTTPServer, workdir: Path) -> None:
    httpserver.expect_request("/busy").respond_with_data("busy", status=503)

    result = run_scraper(
        "fetch",
        httpserver.url_for("/busy"),
        "--retries",
        "1",
        "--user-agent",
        "tester/1",
        "-s",
        "retry.backoff_base=0.01",
        cwd=workdir,
    )

    assert result.returncode == 5
    assert len(httpserver.log) == 2, "one try and one retry"
    assert {request.headers["User-Agent"] for request, _ in httpserver.log} == {"tester/1"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["-s", "politeness.dealy=1"],
            "scraper: error: -s politeness.dealy: unknown setting; see `scraper init` for them all",
        ),
        (
            ["-s", "delay=1"],
            "scraper: error: -s delay: unknown setting; did you mean politeness.delay?",
        ),
        (
            ["-s", "politeness.delay=-1"],
            "scraper: error: -s: politeness.delay: Input should be greater than or equal to 0",
        ),
        (["-s", "no-equals-sign"], "expected KEY=VALUE"),
    ],
)
def test_bad_override_is_one_clean_line(workdir: Path, args: list[str], message: str) -> None:
    result = run_scraper("fetch", "http://127.0.0.1:9/x", *args, cwd=workdir)

    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert message in result.stderr


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[settings]\ndelay = 2\n", "settings.delay: unknown key (a typo?); `delay` is a setting"),
        ('user_agent = "x"\n', "user_agent: unknown key (a typo?); `user_agent` is a setting of"),
        ("[settings.politeness]\ndelay = -1\n", "settings.politeness.delay: Input should be"),
    ],
)
def test_config_error_names_the_place_of_the_setting(
    workdir: Path, toml: str, message: str
) -> None:
    (workdir / "sources.toml").write_text(toml, encoding="utf-8")

    fetched = run_scraper("fetch", "http://127.0.0.1:9/x", cwd=workdir)
    ran = run_scraper("run", cwd=workdir)

    for result in (fetched, ran):
        assert result.stderr.count("\n") == 1, result.stderr
        assert message in result.stderr
        assert "validation error" not in result.stderr and "pydantic" not in result.stderr
    assert fetched.returncode == 2 and ran.returncode == 12
    if "delay = 2" in toml:
        assert "[settings.politeness]" in fetched.stderr


def test_log_json_summary_and_quiet(httpserver: HTTPServer, workdir: Path) -> None:
    url = _article(httpserver)

    logged = run_scraper("fetch", url, "--log-json", "-o", "a.json", cwd=workdir)
    quiet = run_scraper("fetch", url, "-q", cwd=workdir)

    assert logged.returncode == 0, logged.stderr
    summary = json.loads(logged.stderr.splitlines()[-1])
    assert summary["event"] == "summary" and summary["command"] == "fetch"
    assert summary["id"] == json.loads((workdir / "a.json").read_text("utf-8"))["id"]
    assert quiet.returncode == 0 and quiet.stderr == ""
    assert json.loads(quiet.stdout)["title"] == "The quiet return of the repair shop"


def test_fetch_output_dash_is_stdout(httpserver: HTTPServer, workdir: Path) -> None:
    url = _article(httpserver)

    result = run_scraper("fetch", url, "-o", "-", cwd=workdir)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["url"] == url
    assert not (workdir / "-").exists()


def test_closed_pipe_exits_quietly(httpserver: HTTPServer, workdir: Path) -> None:
    url = _article(httpserver)
    # The reader closes its end before the record is written, as `| head -c0` would.
    with subprocess.Popen(
        [str(SCRAPER), "fetch", url], cwd=workdir, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as process:
        assert process.stdout is not None and process.stderr is not None
        process.stdout.close()
        stderr = process.stderr.read().decode()
        code = process.wait(timeout=60)

    assert code == 0, stderr
    assert stderr == ""


def test_reclean_summary_as_json_and_quiet(workdir: Path) -> None:
    (workdir / "data" / "raw").mkdir(parents=True)

    logged = run_scraper("reclean", "--log-json", cwd=workdir)
    quiet = run_scraper("reclean", "-q", cwd=workdir)

    assert logged.returncode == 0, logged.stderr
    counts = json.loads(logged.stdout)
    assert counts["files"] == 0 and counts["articles"] == 0 and counts["where"] == "in-process"
    event = json.loads(logged.stderr.splitlines()[-1])
    assert event["event"] == "summary" and event["command"] == "reclean"
    assert quiet.returncode == 0 and quiet.stdout == "" and quiet.stderr == ""
