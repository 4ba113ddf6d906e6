"""A local SMTP server that accepts every message and keeps nothing, for bench/send.py.

aiosmtpd (a dev requirement) in a process of its own, so the sender's process is
measured alone. `--reply-delay-ms` waits that long before each reply (the greeting,
EHLO's, MAIL's, RCPT's, DATA's 354 and the final 250 alike: a multi-line reply waits
once), as a provider's round trip would, so every message over a reused connection
costs four waits.

    python bench/smtp_sink.py [--port 0] [--reply-delay-ms 30]

Prints `listening on HOST:PORT` when ready; on SIGTERM or SIGINT it prints what it
received as one JSON object (messages, connections, most connections at once, its
CPU seconds) and exits.
"""

import argparse
import asyncio
import json
import logging
import resource
import signal
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP


class Counts:
    def __init__(self) -> None:
        self.messages = 0
        self.connections = 0
        self.open = 0
        self.most_open = 0


class Sink:
    """The handler: counts each message and answers 250."""

    def __init__(self, counts: Counts) -> None:
        self.counts = counts

    async def handle_EHLO(self, server, session, envelope, hostname, responses) -> list[str]:
        # Once per connection a client opens (not for the one aiosmtpd opens to itself).
        self.counts.connections += 1
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server, session, envelope) -> str:
        self.counts.messages += 1
        return "250 2.0.0 Accepted"


class DelayedSMTP(SMTP):
    def __init__(self, handler, counts: Counts, delay: float, **kwargs) -> None:
        super().__init__(handler, **kwargs)
        self.counts, self.delay = counts, delay

    def connection_made(self, transport) -> None:
        self.counts.open += 1
        self.counts.most_open = max(self.counts.most_open, self.counts.open)
        super().connection_made(transport)

    def connection_lost(self, error) -> None:
        self.counts.open -= 1
        super().connection_lost(error)

    async def smtp_DATA(self, arg: str) -> None:
        # aiosmtpd reads the data a line at a time (an await and a copy for each of a
        # digest's ~400 lines) to keep it; a sink keeps nothing, so it reads up to the
        # end marker a buffer at a time: the server then takes less of the machine's
        # CPU, which the sender being measured shares. The commands' checks are
        # aiosmtpd's own.
        if arg or self.envelope is None or not self.envelope.rcpt_tos:
            return await super().smtp_DATA(arg)
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        tail = b"\r\n"  # the marker's CRLF may be the one before DATA's first line
        while True:
            chunk = await self._reader.read(1 << 16)
            if not chunk:
                return  # the connection closed mid-message
            seen = tail + chunk
            end = seen.find(b"\r\n.\r\n")
            if end >= 0:
                # What follows is the next command (a pipelining client's): put back.
                self._reader._buffer[:0] = seen[end + 5 :]
                break
            tail = seen[-4:]
        status = await self._call_handler_hook("DATA")
        self._set_post_data_state()
        await self.push(status)

    async def push(self, status) -> None:
        line = status if isinstance(status, str) else status.decode()
        # "250-SIZE …" continues a reply; "250 HELP" (or a bare code) ends it.
        if self.delay and line[3:4] != "-":
            await asyncio.sleep(self.delay)
        await super().push(status)


class DelayedController(Controller):
    def __init__(self, handler, counts: Counts, delay: float, **kwargs) -> None:
        super().__init__(handler, **kwargs)
        self.counts, self.delay = counts, delay

    def factory(self) -> SMTP:
        return DelayedSMTP(self.handler, self.counts, self.delay, **self.SMTP_kwargs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: any free port")
    parser.add_argument("--reply-delay-ms", type=float, default=0)
    args = parser.parse_args()
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # a line per command otherwise

    counts = Counts()
    port = args.port
    if not port:
        import socket

        with socket.socket() as probe:
            probe.bind((args.host, 0))
            port = probe.getsockname()[1]
    controller = DelayedController(
        Sink(counts), counts, args.reply_delay_ms / 1000, hostname=args.host, port=port
    )
    controller.start()
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    print(f"listening on {args.host}:{port}", flush=True)
    stop.wait()
    controller.stop()
    print(
        json.dumps(
            {
                "messages": counts.messages,
                "connections": counts.connections,
                "most_open": counts.most_open,
                "cpu_seconds": round(sum(resource.getrusage(resource.RUSAGE_SELF)[:2]), 2),
            }
        ),
        flush=True,
    )


if __name__ == "__main__":
    main()
