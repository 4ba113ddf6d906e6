"""A chunk's hand-overs through Django's SMTP backend to a real SMTP server (aiosmtpd):
one connection for the chunk, a new one only after a failure; against a server slower
than building, several at once, never more than DIGEST_SEND_CONCURRENCY, and each
message handed over only once its row says "sending" (checked by the server, as each
message arrives, in the database)."""

import asyncio
import socket
import threading
import time
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP
from django.db import connection
from django.utils import timezone

from digest import handover, sending
from digest.kept_lines import kept
from digest.models import Delivery

pytestmark = pytest.mark.django_db(transaction=True)


class Server:
    """Accepts every message but those to `refuse` (421 at RCPT TO, which closes the
    connection); waits `delay` seconds before each reply; at each DATA, reads the
    message's row and how many rows are "sending"."""

    def __init__(self, delay: float = 0, refuse: tuple[str, ...] = ()) -> None:
        self.delay, self.refuse = delay, refuse
        self.lock = threading.Lock()
        self.seen: list[tuple[str, str, str, int]] = []  # to, Message-ID, status, sending
        self.connections = self.open = self.most_open = self.quits = 0
        self.transports: list = []

    def close_all(self, reply: str) -> None:
        """Say `reply` unasked on every open connection and close it."""

        def close(transport) -> None:
            transport.write(reply.encode() + b"\r\n")
            transport.close()

        with self.lock:
            transports = list(self.transports)
        for loop, transport in transports:
            loop.call_soon_threadsafe(close, transport)
        deadline = time.monotonic() + 5
        while self.open and time.monotonic() < deadline:
            time.sleep(0.01)

    async def handle_EHLO(self, server, session, envelope, hostname, responses) -> list[str]:
        # Once per connection a client opens (not for the one aiosmtpd opens to itself).
        with self.lock:
            self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_QUIT(self, server, session, envelope) -> str:
        with self.lock:
            self.quits += 1
        return "221 Bye"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        if address in self.refuse:
            return "421 4.7.0 Try again later, closing connection"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        message = message_from_bytes(envelope.content, policy=policy.default)
        message_id = str(message["Message-ID"])
        # The ORM is synchronous: ask from a thread, on a connection of its own.
        status, in_flight = await asyncio.get_running_loop().run_in_executor(
            None, self._rows, message_id
        )
        with self.lock:
            self.seen.append((envelope.rcpt_tos[0], message_id, status, in_flight))
        return "250 2.0.0 Accepted"

    @staticmethod
    def _rows(message_id: str) -> tuple[str, int]:
        try:
            key = message_id.removeprefix("<digest.").split("@")[0]
            status = Delivery.objects.get(message_key=key).status
            return status, Delivery.objects.filter(status=Delivery.Status.SENDING).count()
        finally:
            connection.close()

    def factory(self, handler_server):
        outer = self

        class CountingSMTP(SMTP):
            def connection_made(self, transport) -> None:
                with outer.lock:
                    outer.open += 1
                    self.counted = (asyncio.get_event_loop(), transport)
                    outer.transports.append(self.counted)
                    outer.most_open = max(outer.most_open, outer.open)
                super().connection_made(transport)

            def connection_lost(self, error) -> None:
                with outer.lock:
                    outer.open -= 1
                    outer.transports.remove(self.counted)
                super().connection_lost(error)

            async def push(self, status) -> None:
                if outer.delay and status[3:4] != "-":  # once per reply, not per line
                    await asyncio.sleep(outer.delay)
                await super().push(status)

        return CountingSMTP(outer, **handler_server.SMTP_kwargs)


@pytest.fixture
def smtp_server(settings):
    started: list[Controller] = []

    def start(**options) -> Server:
        server = Server(**options)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]

        class Counted(Controller):
            def factory(self):
                return server.factory(self)

        controller = Counted(server, hostname="127.0.0.1", port=port)
        controller.start()
        started.append(controller)
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
        settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
        return server

    handover._overlapping["last"] = False  # as in a fresh worker process
    try:
        yield start
    finally:
        kept.close_all()
        for controller in started:
            controller.stop()
        handover._overlapping["last"] = False


def _readers(make_subscriber, count: int) -> list:
    return [make_subscriber(email=f"reader{n}@example.com") for n in range(count)]


def test_a_chunk_goes_over_one_connection(smtp_server, settings, make_subscriber, ingested_papers):
    settings.DIGEST_SEND_CONCURRENCY = 1
    server = smtp_server()
    readers = _readers(make_subscriber, 6)

    outcome = sending.send_chunk([r.pk for r in readers], timezone.now())

    assert str(outcome) == "sent 6"
    assert server.connections == 1
    assert sorted(to for to, *_ in server.seen) == sorted(r.email for r in readers)
    assert {status for *_, status, _ in server.seen} == {Delivery.Status.SENDING}
    sent = dict(Delivery.objects.values_list("esp_message_id", "status"))
    assert sent == {message_id: Delivery.Status.SENT for _, message_id, *_ in server.seen}


def test_the_next_chunk_of_the_process_goes_over_the_same_connection(
    smtp_server, settings, make_subscriber, ingested_papers
):
    settings.DIGEST_SEND_CONCURRENCY = 1
    server = smtp_server()
    readers = _readers(make_subscriber, 6)

    first = sending.send_chunk([r.pk for r in readers[:3]], timezone.now())
    second = sending.send_chunk([r.pk for r in readers[3:]], timezone.now())

    assert (str(first), str(second)) == ("sent 3", "sent 3")
    assert server.connections == 1 and server.open == 1  # kept open for the next
    assert len(server.seen) == 6


def test_a_kept_connection_the_server_closed_is_replaced_before_a_digest_goes_on_it(
    smtp_server, settings, make_subscriber, ingested_papers
):
    settings.DIGEST_SEND_CONCURRENCY = 1
    server = smtp_server()
    readers = _readers(make_subscriber, 4)
    sending.send_chunk([r.pk for r in readers[:2]], timezone.now())
    # As a server's idle timeout does: it says 421 and closes the connection.
    server.close_all("421 4.4.2 Idle too long, closing connection")

    outcome = sending.send_chunk([r.pk for r in readers[2:]], timezone.now())

    assert str(outcome) == "sent 2"  # no failed attempt, no retry
    assert server.connections == 2
    assert not Delivery.objects.exclude(status=Delivery.Status.SENT).exists()


def test_connections_idle_longer_than_the_setting_are_closed(
    smtp_server, settings, make_subscriber, ingested_papers
):
    settings.DIGEST_SEND_CONCURRENCY = 1
    settings.EMAIL_KEEP_OPEN_SECONDS = 0.2
    server = smtp_server()
    sending.send_chunk([make_subscriber(email="reader@example.com").pk], timezone.now())
    assert server.open == 1

    deadline = time.monotonic() + 5
    while server.open and time.monotonic() < deadline:
        time.sleep(0.05)

    assert server.open == 0 and server.quits == 1  # closed politely, with a QUIT
    assert not kept.idle


def test_after_a_421_that_closed_the_connection_the_next_digest_opens_another(
    smtp_server, settings, make_subscriber, ingested_papers
):
    settings.DIGEST_SEND_CONCURRENCY = 1
    server = smtp_server(refuse=("reader2@example.com",))
    readers = _readers(make_subscriber, 5)

    outcome = sending.send_chunk([r.pk for r in readers], timezone.now())

    assert str(outcome) == "sent 4, retrying 1"
    assert server.connections == 2
    refused = Delivery.objects.get(subscriber__email="reader2@example.com")
    assert refused.status == Delivery.Status.RETRY
    assert "421" in refused.error and not refused.maybe_sent


def test_a_slow_server_gets_several_at_once_each_recorded_before_and_after(
    smtp_server, settings, make_subscriber, ingested_papers
):
    settings.DIGEST_SEND_CONCURRENCY = 3
    server = smtp_server(delay=0.05)  # four replies a message: 0.2 s, far above a build
    readers = _readers(make_subscriber, 10)

    outcome = sending.send_chunk([r.pk for r in readers], timezone.now())

    assert str(outcome) == "sent 10"
    assert sorted(to for to, *_ in server.seen) == sorted(r.email for r in readers)
    # Each one was "sending" when it arrived, and no more than 3 were at any time.
    assert {status for *_, status, _ in server.seen} == {Delivery.Status.SENDING}
    assert max(in_flight for *_, in_flight in server.seen) <= 3
    assert 1 < server.most_open <= 3 and server.connections <= 3
    sent = dict(Delivery.objects.values_list("esp_message_id", "status"))
    assert sent == {message_id: Delivery.Status.SENT for _, message_id, *_ in server.seen}
    assert handover._overlapping["last"]  # the next chunk of this process starts so


def test_a_local_backend_never_overlaps(settings, make_subscriber, ingested_papers):
    settings.EMAIL_BACKEND = "tests.backends.SlowOutboxBackend"  # slow, but local
    assert handover.Handover(None, sending.Outcome(), concurrency=8).limit == 1
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    assert handover.Handover(None, sending.Outcome(), concurrency=8).limit == 1
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    assert handover.Handover(None, sending.Outcome(), concurrency=8).limit == 8
