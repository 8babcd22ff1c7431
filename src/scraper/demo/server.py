"""A tiny HTTP server for the demo web, on 127.0.0.1, with ETags for conditional GET."""

from __future__ import annotations

import hashlib
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self

from scraper.demo.site import DemoSite, Page


class DemoServer:
    """Serves `DemoSite` pages from a background thread; use as a context manager."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, delay: float = 0.0) -> None:
        self.delay = delay  # seconds before each answer, to make runs slow enough to interrupt
        self.requests: list[tuple[str, dict[str, str]]] = []  # (path, headers), for tests
        self._lock = threading.Lock()
        self._pages: dict[str, Page] = {}
        self._httpd = ThreadingHTTPServer((host, port), self._handler_class())
        self._httpd.daemon_threads = True
        bound_host, bound_port = self._httpd.server_address[:2]
        self.base_url = f"http://{bound_host!s}:{bound_port}"
        self.site = DemoSite(self.base_url)
        self._pages = self.site.pages()
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="demo-server")

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with server._lock:
                    server.requests.append((self.path, dict(self.headers.items())))
                    page = server._pages.get(self.path)
                if server.delay:
                    time.sleep(server.delay)
                if page is None:
                    self.send_error(404)
                    return
                content_type, body = page
                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("ETag", etag)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass  # the run's own output says what was fetched

        return Handler

    def set_page(self, path: str, page: Page | None) -> None:
        """Add, replace or (with None) remove one page while serving."""
        with self._lock:
            if page is None:
                self._pages.pop(path, None)
            else:
                self._pages[path] = page

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()
