"""Fetches go to public addresses only (issue 11, finding 7): the first URL and every
redirect, whatever the spelling of the address, and to the very address that was
checked. The feed server of these tests listens on 127.0.0.1, so a fetch that was not
refused would reach it: each refusal is also checked by the requests it never got."""

import ipaddress
import shutil
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from digest.sources import fetch as fetching
from digest.sources.addresses import (
    ForbiddenAddress,
    ip_literal,
    is_allowed,
    refusal_for_url,
    why_not_public,
)
from digest.sources.records import FeedError
from tests.support import FeedServer, Route, serve

FEED = b'<?xml version="1.0"?><rss version="2.0"><channel><title>Internal</title></channel></rss>'
LOCAL = ["127.0.0.1"]


@pytest.fixture
def server() -> Iterator[FeedServer]:
    with serve() as running:
        yield running


# Ways to write an address that is not public; those with {port} name the test server.
FORBIDDEN = [
    "http://2130706433:{port}/feed",  # 127.0.0.1 as one decimal number
    "http://0x7f000001:{port}/feed",  # … in hexadecimal
    "http://017700000001:{port}/feed",  # … in octal
    "http://127.1:{port}/feed",
    "http://[::ffff:127.0.0.1]:{port}/feed",  # IPv4-mapped IPv6
    "http://[::1]:{port}/feed",
    "http://localhost:{port}/feed",
    "http://0.0.0.0:{port}/feed",
    "http://10.0.0.1/feed",
    "http://192.168.1.1:8080/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fd00:ec2::254]/latest/meta-data/",
    "http://100.100.100.200/latest/meta-data/",
]


def port_of(server: FeedServer) -> int:
    return int(server.base.rsplit(":", 1)[1])


def test_fetches_to_addresses_that_are_not_public_are_refused_before_connecting(server):
    server.url("/feed", Route(body=FEED))

    for url in ["{base}/feed", *FORBIDDEN]:  # 127.0.0.1 too: it is allowed by name only
        url = url.format(base=server.base, port=port_of(server))
        with pytest.raises(ForbiddenAddress, match="public addresses only") as refused:
            fetching.fetch(url, timeout=2)
        assert not refused.value.transient, url
    assert server.requests == []


@pytest.mark.parametrize("target", FORBIDDEN)
def test_a_redirect_from_an_allowed_host_to_an_address_that_is_not_public_is_refused(
    server, target
):
    server.url("/feed", Route(body=FEED))  # what the redirect's target would get, on 127.0.0.1
    location = target.format(port=port_of(server))
    url = server.url("/moved", Route(status=302, headers={"Location": location}))

    with pytest.raises(ForbiddenAddress, match="public addresses only"):
        fetching.fetch(url, timeout=2, allowed_hosts=LOCAL)
    assert [request["path"] for request in server.requests] == ["/moved"]


def test_an_allowed_host_is_fetched_and_a_redirect_to_it_followed(server):
    server.url("/feed", Route(body=FEED))
    url = server.url("/moved", Route(status=301, headers={"Location": f"{server.base}/feed"}))

    assert fetching.fetch(url, allowed_hosts=LOCAL).body == FEED


def test_a_name_that_resolves_to_a_private_address_is_refused(monkeypatch):
    real = socket.getaddrinfo

    def resolver(host, port, *args, **kwargs):
        if host == "feeds.example.org":  # a public name pointed at the private network
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)

    with pytest.raises(ForbiddenAddress, match="resolves to a private address") as refused:
        fetching.fetch("http://feeds.example.org/rss", timeout=2)
    assert "10.1.2.3" not in str(refused.value)


def test_each_hop_is_resolved_once_and_connected_to_at_the_address_checked(server, monkeypatch):
    # DNS rebinding: a name that answers a public address to the check and a private
    # one to the connection. There is one lookup, so nothing to answer differently.
    real, lookups = socket.getaddrinfo, []

    def resolver(host, port, *args, **kwargs):
        if host == "feeds.test":
            lookups.append(host)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    port = port_of(server)
    server.url("/feed", Route(body=FEED))

    result = fetching.fetch(f"http://feeds.test:{port}/feed", allowed_hosts=["feeds.test"])

    assert result.body == FEED
    assert lookups == ["feeds.test"]
    assert server.requests[0]["Host"] == f"feeds.test:{port}"


def test_the_environments_proxy_is_not_used(server, monkeypatch):
    # A proxy would make the connection itself, to an address nobody checked.
    with serve() as proxy:
        proxy.url(f"{server.base}/feed", Route(body=b"through the proxy"))
        monkeypatch.setenv("http_proxy", proxy.base)
        monkeypatch.setenv("HTTP_PROXY", proxy.base)
        server.url("/feed", Route(body=FEED))

        assert fetching.fetch(f"{server.base}/feed", allowed_hosts=LOCAL).body == FEED
    assert proxy.requests == []


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("10.1", "10.0.0.1"),
        ("[::1]", "::1"),
        ("169.254.169.254", "169.254.169.254"),
        ("example.org", None),
        ("256.1.1.1", None),
        ("1.2.3.4.5", None),
    ],
)
def test_numeric_hosts_are_read_as_the_c_resolver_reads_them(host, address):
    assert ip_literal(host) == (ipaddress.ip_address(address) if address else None)


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.0.1", "private"),
        ("169.254.169.254", "cloud metadata"),
        ("169.254.1.1", "link-local"),
        ("fd00:ec2::254", "cloud metadata"),
        ("fc00::1", "private"),
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("100.64.0.1", "shared (carrier-grade NAT)"),
        ("0.0.0.0", "unspecified"),
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("2002:7f00:1::", "loopback"),  # 6to4 around 127.0.0.1
        ("64:ff9b::a00:1", "private"),  # NAT64 around 10.0.0.1
        ("8.8.8.8", ""),
        ("2606:4700::1111", ""),
        ("::ffff:8.8.8.8", ""),
    ],
)
def test_only_public_addresses_pass(address, kind):
    assert why_not_public(ipaddress.ip_address(address)) == kind


def test_allowed_hosts_are_names_as_written():
    assert is_allowed("127.0.0.1", LOCAL)
    assert is_allowed("Feeds.Intranet.", ["feeds.intranet"])
    assert not is_allowed("2130706433", LOCAL)
    assert not is_allowed("localhost", LOCAL)


@pytest.mark.parametrize(
    ("url", "refusal"),
    [
        ("http://127.0.0.1:6379/", "127.0.0.1 is a loopback address"),
        ("http://169.254.169.254/", "169.254.169.254 is a cloud metadata address"),
        ("http://2130706433/", "2130706433 is 127.0.0.1, a loopback address"),
        ("http://metadata.google.internal/", "metadata.google.internal is a local name"),
        ("https://rss.arxiv.org/rss/cs.LG", ""),
        ("https://lab.example.org/feed.xml", ""),
    ],
)
def test_the_admin_can_tell_without_dns_which_urls_will_be_refused(url, refusal):
    assert refusal_for_url(url).startswith(refusal)
    assert bool(refusal_for_url(url)) == bool(refusal)


@pytest.fixture
def tls_names(tmp_path, monkeypatch) -> Iterator[tuple[str, int]]:
    """An HTTPS feed server on 127.0.0.1 with a certificate for "feeds.test" from a CA of
    the test's own (trusted through SSL_CERT_FILE); "feeds.test" and "other.test" both
    resolve to it. Yields (the certificate's name, the port)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("needs the openssl command")

    def run(*args: str) -> None:
        subprocess.run([openssl, *args], cwd=tmp_path, check=True, capture_output=True)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=Test CA",
        "-keyout", "ca.key", "-out", "ca.pem")  # fmt: skip
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=feeds.test",
        "-keyout", "feeds.key", "-out", "feeds.csr")  # fmt: skip
    (tmp_path / "san.ext").write_text("subjectAltName=DNS:feeds.test\n")
    run("x509", "-req", "-in", "feeds.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-days", "1", "-extfile", "san.ext", "-out", "feeds.pem")  # fmt: skip
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(FEED)))
            self.end_headers()
            self.wfile.write(FEED)

        def log_message(self, *args) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "feeds.pem", tmp_path / "feeds.key")
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    real = socket.getaddrinfo

    def resolver(host, port, *args, **kwargs):
        if host in ("feeds.test", "other.test"):
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    try:
        yield "feeds.test", httpd.server_port
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_https_goes_to_the_checked_address_and_verifies_the_certificate_for_the_name(tls_names):
    name, port = tls_names
    allowed = ["feeds.test", "other.test"]

    assert fetching.fetch(f"https://{name}:{port}/feed", allowed_hosts=allowed).body == FEED
    # The same server under a name its certificate does not carry: refused by TLS.
    with pytest.raises(FeedError, match=r"cannot reach .*(CERTIFICATE_VERIFY_FAILED|mismatch)"):
        fetching.fetch(f"https://other.test:{port}/feed", allowed_hosts=allowed)
