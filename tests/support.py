"""Stand-ins for what is outside the machine: an email provider that is down, and
feed servers (a real HTTP server on 127.0.0.1 serving recorded files)."""

import contextlib
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from anymail.backends.test import EmailBackend as AnymailTestBackend
from django.core.mail.backends.base import BaseEmailBackend
from django.db import connection


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
    etag: str = ""  # answer 304 when If-None-Match equals it
    delay: float = 0  # seconds before the status line
    drip: float = 0  # seconds between body bytes
    content_length: bool = True


@dataclass
class FeedServer:
    base: str
    routes: dict[str, "Route | list[Route]"]
    requests: list[dict[str, str]]

    def url(self, path: str, route: "Route | list[Route]") -> str:
        """Serve `route` at `path` and return its full URL.

        A list of routes answers the requests in turn, the last one for ever after.
        """
        self.routes[path] = route
        return f"{self.base}{path}"


def _handler(
    routes: dict[str, Route], requests: list[dict[str, str]], stopping: threading.Event
) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append({"path": self.path, **dict(self.headers)})
            route = routes.get(self.path)
            if isinstance(route, list):
                route = route.pop(0) if len(route) > 1 else route[0]
            if route is None:
                self.send_error(404)
                return
            if stopping.wait(route.delay):
                return
            if route.etag and self.headers.get("If-None-Match") == route.etag:
                self.send_response(304)
                self.end_headers()
                return
            self.send_response(route.status)
            for name, value in {**route.headers, "ETag": route.etag}.items():
                if value:
                    self.send_header(name, value)
            if route.content_length:
                self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            if not route.drip:
                self.wfile.write(route.body)
                return
            for byte in route.body:
                if stopping.wait(route.drip):
                    return
                self.wfile.write(bytes([byte]))
                self.wfile.flush()

        def handle(self) -> None:
            # In the timeout tests the client gives up first; that is no server error.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                super().handle()

        def log_message(self, *args) -> None:
            pass

    return Handler


@contextmanager
def serve(routes: dict[str, Route] | None = None) -> Iterator[FeedServer]:
    """A real HTTP server on 127.0.0.1 serving `routes` (which may change while it runs)."""
    server = FeedServer("", routes if routes is not None else {}, [])
    stopping = threading.Event()
    httpd = ThreadingHTTPServer(
        ("127.0.0.1", 0), _handler(server.routes, server.requests, stopping)
    )
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    server.base = f"http://127.0.0.1:{httpd.server_port}"
    try:
        yield server
    finally:
        stopping.set()  # wake sleeping handlers so they end with the test
        httpd.shutdown()
        httpd.server_close()


def database_url() -> str:
    """The URL of the test database this process is using, for a worker subprocess."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    credentials = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{db['NAME']}"


def wait_for(condition, timeout: float = 60.0, interval: float = 0.1):
    """The first truthy result of `condition()` within `timeout` seconds, else None."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(interval)
    return None
