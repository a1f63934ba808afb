"""A real HTTP server on loopback answering like Nominatim and Photon, from recorded bodies.

Paths: `/nominatim/search` and `/photon/api` answer the fixtures in this folder;
`/slow` answers after `SLOW_S`, `/broken` with HTTP 500, `/html` with a web
page, `/odd` with JSON of another shape, `/nonsense` with a point off the globe.
Every request's path and query are kept in `requests` so tests can check what
the adapter asked.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

HERE = Path(__file__).parent / "fixtures"
SLOW_S = 3.0
BODIES = {
    "/nominatim/search": (200, "application/json", (HERE / "nominatim_search.json").read_bytes()),
    "/photon/api": (200, "application/json", (HERE / "photon_search.json").read_bytes()),
    "/broken": (500, "text/plain", b"internal error"),
    "/html": (200, "text/html", b"<html><body>Service temporarily unavailable</body></html>"),
    "/odd": (200, "application/json", b'{"error": "Unable to geocode"}'),
    "/nonsense": (
        200,
        "application/json",
        json.dumps([{"lat": "91.5", "lon": "0", "display_name": "x"}]).encode(),
    ),
}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        url = urlsplit(self.path)
        self.server.requests.append((url.path, parse_qs(url.query), self.headers.get("User-Agent")))  # type: ignore[attr-defined]
        if url.path == "/slow":
            time.sleep(SLOW_S)
            status, kind, body = BODIES["/nominatim/search"]
        else:
            status, kind, body = BODIES.get(url.path, (404, "text/plain", b"not found"))
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def recorded_geocoder() -> Iterator[tuple[str, list[tuple[str, dict[str, list[str]], str | None]]]]:
    """The server's base URL and its list of requests, while the block runs."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.requests = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", server.requests  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()
