"""Stand-ins for what is outside the machine: an email provider that is down, and
feed servers (a real HTTP server on 127.0.0.1 serving recorded files)."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from anymail.backends.test import EmailBackend as AnymailTestBackend
from django.core.mail.backends.base import BaseEmailBackend


class ESPBackend(AnymailTestBackend):
    """An anymail provider that accepts every message and answers with its own id."""

    def get_esp_message_id(self, message) -> str:
        return f"esp-{super().get_esp_message_id(message)}"


class FailingEmailBackend(BaseEmailBackend):
    """An email provider that is down."""

    def send_messages(self, email_messages):
        raise ConnectionRefusedError("the provider is down")


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    # Answer 304 when the request's If-None-Match equals this ETag.
    etag: str = ""


class _Handler(BaseHTTPRequestHandler):
    routes: dict[str, Route]
    requests: list[dict[str, str]]

    def do_GET(self) -> None:
        self.requests.append({"path": self.path, **dict(self.headers)})
        route = self.routes.get(self.path)
        if route is None:
            self.send_error(404)
            return
        if route.etag and self.headers.get("If-None-Match") == route.etag:
            self.send_response(304)
            self.end_headers()
            return
        self.send_response(route.status)
        if route.etag:
            self.send_header("ETag", route.etag)
        for name, value in route.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(route.body)))
        self.end_headers()
        self.wfile.write(route.body)

    def log_message(self, *args) -> None:
        pass


@contextmanager
def serve(routes: dict[str, Route]) -> Iterator[tuple[str, list[dict[str, str]]]]:
    """A real HTTP server on 127.0.0.1 serving `routes`; yields its base URL and request log."""
    requests: list[dict[str, str]] = []
    handler = type("Handler", (_Handler,), {"routes": routes, "requests": requests})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", requests
    finally:
        server.shutdown()
        server.server_close()
