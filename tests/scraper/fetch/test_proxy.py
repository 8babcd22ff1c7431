"""Proxies only when the user opts in (the `proxy` setting or `--proxy`, the environment only
with `trust_env`), through a real forward/CONNECT proxy on loopback; the address policy
then judges the target, not the proxy."""

from __future__ import annotations

import asyncio
import ipaddress
import ssl
from pathlib import Path
from typing import Any

import pytest

from scraper.errors import FetchError, ForbiddenAddress
from scraper.fetch.http import fetch_page, make_client
from scraper.settings import Settings
from tests.conftest import run_scraper
from tests.faults.rawserver import RawServer, html, redirect, reply
from tests.scraper.proxy import Proxy

TLS = Path(__file__).parents[2] / "fixtures" / "tls"  # self-signed for 127.0.0.1
PAGE = "<html><head><title>Tide tables</title></head><body><p>High water at six.</p></body></html>"
ARTICLE = (
    "<html><head><title>Harbour fees rise again</title></head><body><article>"
    "<h1>Harbour fees rise again</h1>"
    + "<p>The harbour board raised mooring fees for the third year running.</p>" * 12
    + "</article></body></html>"
)


async def _get(url: str, settings: Settings, **client: Any) -> Any:
    async with make_client(settings, **client) as http:
        try:
            return await fetch_page(http, url, settings)
        except FetchError as exc:
            return exc


def test_the_proxy_setting_sends_plain_http_through_the_proxy() -> None:
    async def main() -> tuple[Any, Proxy, RawServer]:
        async with Proxy() as proxy, RawServer({"/tide": html(PAGE)}) as site:
            settings = Settings(proxy=proxy.address)
            return await _get(site.url("/tide"), settings), proxy, site

    page, proxy, site = asyncio.run(main())
    assert not isinstance(page, FetchError), page
    assert page.body == PAGE.encode()
    assert proxy.seen == [f"GET {site.url('/tide')} HTTP/1.1"]
    assert site.hits["/tide"] == 1


def test_https_goes_through_a_connect_tunnel_and_is_still_verified() -> None:
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(TLS / "cert.pem", TLS / "key.pem")

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        body = PAGE.encode()
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        await writer.drain()
        writer.close()

    async def main() -> tuple[Any, Any, Proxy, int]:
        listener = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=server_tls)
        port = listener.sockets[0].getsockname()[1]
        trust = ssl.create_default_context(cafile=str(TLS / "cert.pem"))
        try:
            async with Proxy() as proxy:
                settings = Settings(proxy=proxy.address)
                url = f"https://127.0.0.1:{port}/"
                trusted = await _get(url, settings, tls=trust)
                untrusted = await _get(url, settings)
                return trusted, untrusted, proxy, port
        finally:
            listener.close()

    trusted, untrusted, proxy, port = asyncio.run(main())
    assert not isinstance(trusted, FetchError), trusted
    assert trusted.body == PAGE.encode()
    assert isinstance(untrusted, FetchError) and "CERTIFICATE_VERIFY_FAILED" in untrusted.detail
    assert proxy.seen == [f"CONNECT 127.0.0.1:{port} HTTP/1.1"] * 2


@pytest.mark.parametrize("trust_env", [False, True])
def test_environment_proxies_are_used_only_with_trust_env(
    trust_env: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def main() -> tuple[Any, Proxy]:
        async with Proxy() as proxy, RawServer({"/tide": html(PAGE)}) as site:
            monkeypatch.setenv("HTTP_PROXY", proxy.address)
            monkeypatch.delenv("NO_PROXY", raising=False)
            monkeypatch.delenv("no_proxy", raising=False)
            return await _get(site.url("/tide"), Settings(trust_env=trust_env)), proxy

    page, proxy = asyncio.run(main())
    assert page.status == 200
    assert len(proxy.seen) == (1 if trust_env else 0)


def test_no_proxy_is_honoured_with_trust_env(monkeypatch: pytest.MonkeyPatch) -> None:
    async def main() -> tuple[Any, Proxy]:
        async with Proxy() as proxy, RawServer({"/tide": html(PAGE)}) as site:
            monkeypatch.setenv("HTTP_PROXY", proxy.address)
            monkeypatch.setenv("NO_PROXY", "127.0.0.1")
            return await _get(site.url("/tide"), Settings(trust_env=True)), proxy

    page, proxy = asyncio.run(main())
    assert page.status == 200 and proxy.seen == []


PUBLIC = [ipaddress.ip_network("127.0.0.1/32")]


@pytest.mark.parametrize(
    "location",
    [
        "http://127.0.0.2:{port}/admin",
        "http://127\u30020\u30020\u30022:{port}/admin",
        "http://0x7f.0.0.2:{port}/admin",  # a name only a resolver reads: we resolve it too
        "http://127.0.2:{port}/admin",
    ],
)
def test_through_a_proxy_the_policy_judges_the_target(location: str) -> None:
    """The proxy sits on a private address (127.0.0.3) and is used; the target a public
    page redirects to is private and is refused before the proxy is asked for it."""

    async def main() -> tuple[Any, Proxy, int]:
        async with RawServer({"/admin": html("secret")}, host="127.0.0.2") as private:
            routes = {"/": redirect(location.format(port=private.port))}
            async with Proxy(host="127.0.0.3") as proxy, RawServer(routes) as public:
                settings = Settings(proxy=proxy.address, treat_as_public=PUBLIC)
                result = await _get(public.url("/"), settings)
                return result, proxy, private.hits["/admin"]

    result, proxy, hits = asyncio.run(main())
    assert isinstance(result, ForbiddenAddress), result
    assert hits == 0 and len(proxy.seen) == 1, proxy.seen


def _feed(link: str) -> bytes:
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Opinion</title>'
        f"<item><title>Harbour fees</title><link>{link}</link></item></channel></rss>"
    ).encode()


@pytest.mark.parametrize("command", ["fetch", "fetch-many", "run"])
def test_the_proxy_flag_of_the_commands(command: str, workdir: Path) -> None:
    async def main() -> tuple[Any, Proxy]:
        routes = {"/harbour": html(ARTICLE)}
        async with Proxy() as proxy, RawServer(routes) as site:
            feed = reply(
                200, _feed(site.url("/harbour")), [("Content-Type", "application/rss+xml")]
            )
            routes["/feed.xml"] = feed
            if command == "fetch":
                args = ["fetch", site.url("/harbour")]
            elif command == "run":
                (workdir / "sources.toml").write_text(
                    "[settings.politeness]\ndelay = 0\n[[sources]]\n"
                    f'name = "harbour"\nkind = "feed"\nurls = ["{site.url("/feed.xml")}"]\n',
                    encoding="utf-8",
                )
                args = ["run"]
            else:
                (workdir / "urls.txt").write_text(site.url("/harbour") + "\n", encoding="utf-8")
                (workdir / "sources.toml").write_text(
                    "[settings.politeness]\nobey_robots = false\ndelay = 0\n", encoding="utf-8"
                )
                args = ["fetch-many", "urls.txt", "--config", "sources.toml"]
            result = await asyncio.to_thread(
                run_scraper, *args, "--proxy", proxy.address, cwd=workdir
            )
            return result, proxy

    result, proxy = asyncio.run(main())
    assert result.returncode == 0, result.stderr
    assert any(line.startswith("GET http://127.0.0.1:") for line in proxy.seen), proxy.seen
    if command == "run":
        assert any("/feed.xml" in line for line in proxy.seen)
        assert any("/harbour" in line for line in proxy.seen)


def test_a_proxy_flag_that_is_not_an_http_url_is_a_usage_error(workdir: Path) -> None:
    result = run_scraper("fetch", "http://127.0.0.1:9/", "--proxy", "socks5://x:1", cwd=workdir)
    assert result.returncode == 2 and "proxy" in result.stderr
    assert "Traceback" not in result.stderr
