"""Subscribers as a CSV file for staff (the admin's "Export as CSV")."""

import csv
from collections.abc import Iterable
from typing import Protocol

from subscriptions.models import Subscriber

CSV_COLUMNS = [
    "email",
    "status",
    "frequency",
    "send_hour",
    "time_zone",
    "paused_until",
    "interests",
    "categories",
    "digest_length",
    "signed_up_at",
    "confirmed_at",
    "unsubscribed_at",
    "consent_note",
]
# Several values in one cell (interests, categories) are joined with this.
LIST_SEPARATOR = " | "
# A spreadsheet runs a cell starting with one of these as a formula; emails and
# interests are typed by anyone who signs up (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class Writable(Protocol):
    def write(self, text: str, /) -> object: ...


def csv_safe(value: object) -> str:
    """The cell as text, quoted with a leading ' where a spreadsheet would run it."""
    if value is None:
        return ""
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def row_of(subscriber: Subscriber) -> list[object]:
    """The CSV_COLUMNS of one subscriber (its interests prefetched)."""
    return [
        subscriber.email,
        subscriber.status,
        subscriber.frequency,
        subscriber.send_hour,
        subscriber.time_zone,
        subscriber.paused_until,
        LIST_SEPARATOR.join(interest.text for interest in subscriber.interests.all()),
        LIST_SEPARATOR.join(subscriber.categories),
        subscriber.digest_length,
        subscriber.signed_up_at,
        subscriber.confirmed_at,
        subscriber.unsubscribed_at,
        subscriber.consent_note,
    ]


def write_csv(subscribers: Iterable[Subscriber], out: Writable) -> None:
    """A header row, then one row per subscriber, every cell made safe to open."""
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for subscriber in subscribers:
        writer.writerow(csv_safe(value) for value in row_of(subscriber))
