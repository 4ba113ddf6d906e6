"""Connections to the provider that outlive a chunk, for the next chunks of this process.

A worker sends chunk after chunk; opening an SMTP connection costs a connect, the
greeting and EHLO (and STARTTLS and AUTH): three to six round trips, as many as a
message. So a chunk's connections are given back here when it ends and the next chunk
takes them, unless they were idle longer than EMAIL_KEEP_OPEN_SECONDS (well under the
five minutes RFC 5321 asks a server to wait), which a sweeper thread closes with a QUIT.

A kept connection the server has given up on (it closed it, or sent an unprompted
421 before closing) has something to read on its socket: such a connection is closed
and another opened, before any message goes on it, so a server's idle timeout never
costs a digest a failed attempt.

Only backends that talk to a provider keep connections (digest/handover.py decides);
connections are kept per backend configuration (a test that changes the settings
gets connections of its own).
"""

import atexit
import logging
import os
import select
import threading
import time

from django.conf import settings
from django.core.mail import get_connection

logger = logging.getLogger(__name__)

Key = tuple


def configuration() -> Key:
    """What a connection is a connection to."""
    return (
        settings.EMAIL_BACKEND,
        settings.EMAIL_HOST,
        settings.EMAIL_PORT,
        settings.EMAIL_HOST_USER,
        settings.EMAIL_USE_TLS,
        settings.EMAIL_USE_SSL,
    )


def close_quietly(line) -> None:
    try:
        line.close()
    except Exception:  # a connection that broke has nothing left to close
        logger.debug("closing an email connection failed", exc_info=True)


def given_up(line) -> bool:
    """True when the server has closed `line` or said something it was not asked."""
    sock = getattr(getattr(line, "connection", None), "sock", None)
    if sock is None:
        return False  # not open (it opens when used), or not an SMTP connection
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):  # closed under us
        return True
    return bool(readable)


class KeptLines:
    def __init__(self) -> None:
        self.changed = threading.Condition()  # its lock guards `idle`
        self.idle: list[tuple[Key, object, float]] = []  # the last given back last
        self.sweeper: threading.Thread | None = None

    def take(self, key: Key):
        """A kept connection to `key`, or a new one (not opened yet)."""
        while True:
            with self.changed:
                found = next(
                    (i for i in range(len(self.idle) - 1, -1, -1) if self.idle[i][0] == key),
                    None,
                )
                line = None if found is None else self.idle.pop(found)[1]
            if line is None:
                return get_connection()
            if not given_up(line):
                return line
            close_quietly(line)

    def give_back(self, key: Key, lines: list) -> None:
        if settings.EMAIL_KEEP_OPEN_SECONDS <= 0:
            for line in lines:
                close_quietly(line)
            return
        now = time.monotonic()
        with self.changed:
            self.idle.extend((key, line, now) for line in lines)
            if self.sweeper is None:
                self.sweeper = threading.Thread(
                    target=self._sweep, name="email-connections", daemon=True
                )
                self.sweeper.start()
            self.changed.notify()

    def close_all(self) -> None:
        with self.changed:
            lines, self.idle = [line for _, line, _ in self.idle], []
            self.changed.notify()
        for line in lines:
            close_quietly(line)

    def forget(self) -> None:
        """In a forked child: the parent's sockets are the parent's (no QUIT on them)."""
        self.changed = threading.Condition()
        self.idle, self.sweeper = [], None

    def _sweep(self) -> None:
        """Close each connection idle longer than EMAIL_KEEP_OPEN_SECONDS (the QUITs
        outside the lock: a round trip each); end when none is kept."""
        while True:
            with self.changed:
                if not self.idle:
                    self.sweeper = None
                    return
                cutoff = time.monotonic() - settings.EMAIL_KEEP_OPEN_SECONDS
                expired = [line for _, line, used in self.idle if used <= cutoff]
                self.idle = [entry for entry in self.idle if entry[2] > cutoff]
                if not expired:
                    self.changed.wait(min(used for _, _, used in self.idle) - cutoff)
                    continue
            for line in expired:
                close_quietly(line)


kept = KeptLines()
atexit.register(kept.close_all)
os.register_at_fork(after_in_child=kept.forget)
