"""A subscriber's data to take away, and interests to bring in.

Export: everything Paperboy keeps about one subscriber as JSON (preferences,
interests, the consent record, every digest with its papers and why each was there,
the provider's reports, their "more / less like this"), and the papers they were
sent as BibTeX or CSV. Import: a text file of interests (one a line) or another
Paperboy's JSON export (preferences and interests; never the address, consent or
history, which belong to the service that recorded them). Either is validated whole
before anything changes.
"""

import csv
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from digest import compose, history, likes
from digest.models import Delivery, Paper
from digest.sources.ids import is_arxiv_id
from subscriptions import services
from subscriptions.export import Writable, csv_safe
from subscriptions.forms import MAX_INTERESTS, ManageForm, check_seeds, parse_interest_lines
from subscriptions.models import Subscriber

FORMAT = "paperboy-export"
VERSION = 1
# An export holds every digest: a year of the fullest daily ones (50 papers each) is
# about 15 MB. Larger files are refused unread, and imports are counted per subscriber.
MAX_IMPORT_BYTES = 32 * 1024 * 1024
IMPORTS_PER_HOUR = 20


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _paper_json(paper: Paper) -> dict:
    return {
        "id": paper.canonical_id,
        "title": paper.title,
        "authors": list(paper.authors),
        "categories": list(paper.categories),
        "published_at": _time(paper.published_at),
        "abs_url": paper.abs_url,
        "pdf_url": paper.pdf_url,
        "doi": paper.doi,
        "journal_ref": paper.journal_ref,
    }


def export_data(subscriber: Subscriber, now: datetime | None = None) -> dict:
    """Everything kept about `subscriber`, as JSON-ready data (read in four queries).

    Each digest lists its papers in its order, with their scores and the interests
    (and words) that found them. Abstracts stay out: they are the papers' own text,
    one link away, and would make a year of digests tens of megabytes.
    """
    preferences = services.preferences_of(subscriber)
    deliveries = list(subscriber.deliveries.select_related("group").order_by("window_end", "pk"))
    papers = compose.stored_papers(deliveries)
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported_at": (now or timezone.now()).isoformat(),
        "site": settings.SITE_URL,
        "email": subscriber.email,
        "status": subscriber.status,
        "preferences": {
            "frequency": preferences.frequency,
            "send_hour": preferences.send_hour,
            "time_zone": preferences.time_zone,
            "categories": list(preferences.categories),
            "paused_until": preferences.paused_until.isoformat()
            if preferences.paused_until
            else None,
            "digest_length": preferences.digest_length,
        },
        "interests": [
            {"text": interest.text, "created_at": _time(interest.created_at)}
            for interest in subscriber.interests.all()
        ],
        "consent": {
            "signed_up_at": _time(subscriber.signed_up_at),
            "signup_ip": subscriber.signup_ip,
            "signup_user_agent": subscriber.signup_user_agent,
            "confirmed_at": _time(subscriber.confirmed_at),
            "unsubscribed_at": _time(subscriber.unsubscribed_at),
            "note": subscriber.consent_note,
        },
        "delivery_reports": {
            "soft_bounces_in_a_row": subscriber.soft_bounces,
            "suppressed_reason": subscriber.suppressed_reason,
        },
        "feed": bool(subscriber.feed_token),
        "next_digest_at": _time(subscriber.next_digest_at),
        "digests": [_delivery_json(delivery, papers) for delivery in deliveries],
        # "More / less like this" from the digests, newest first (digest.likes).
        "feedback": [
            {
                "paper": feedback.paper.canonical_id,
                "title": feedback.paper.title,
                "said": likes.CHOICES[feedback.value],
                "at": _time(feedback.created),
            }
            for feedback in subscriber.reader_feedback.select_related("paper")
        ],
    }


def _delivery_json(delivery: Delivery, papers: dict[str, Paper]) -> dict:
    return {
        "period": delivery.period,
        # A group's digest to them (groups/) names the group; their own names none.
        "group": delivery.group.name if delivery.group_id else None,
        "status": delivery.status,
        "papers_from": _time(delivery.window_start),
        "papers_to": _time(delivery.window_end),
        "made_at": _time(delivery.claimed_at),
        "sent_at": _time(delivery.sent_at),
        "attempts": delivery.attempts,
        "error": delivery.error,
        "provider_reports": delivery.feedback,
        "more_matches": delivery.more_count,
        "papers": [
            {
                **_paper_json(item.paper),
                "score": item.score,
                "matched": [
                    {"interest": r.interest, "words": list(r.matched), "fields": list(r.fields)}
                    for r in item.reasons
                ],
            }
            for item in compose.items_from_json(delivery.items, papers)
        ],
    }


def export_json(subscriber: Subscriber, now: datetime | None = None) -> str:
    return json.dumps(export_data(subscriber, now), ensure_ascii=False, indent=1)


def _sent(subscriber: Subscriber) -> list[history.SentPaper]:
    """Each paper the subscriber's digests held, once, newest digest first."""
    seen: set[str] = set()
    found = []
    for sent in history.sent_papers(history.past_digests(subscriber)):
        if sent.paper.canonical_id not in seen:
            seen.add(sent.paper.canonical_id)
            found.append(sent)
    return found


CSV_COLUMNS = [
    "sent",
    "digest",
    "id",
    "title",
    "authors",
    "categories",
    "published",
    "url",
    "pdf",
    "doi",
    "matched",
]


def write_papers_csv(subscriber: Subscriber, out: Writable) -> None:
    """The papers the subscriber was sent, one a row, every cell safe to open in a
    spreadsheet (a paper's title is a stranger's text too)."""
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for sent in _sent(subscriber):
        paper = sent.paper
        row = [
            history.made_at(sent.delivery).date(),
            sent.delivery.period,
            paper.canonical_id,
            paper.title,
            "; ".join(paper.authors),
            " ".join(paper.categories),
            paper.published_at.date() if paper.published_at else "",
            paper.abs_url,
            paper.pdf_url,
            paper.doi,
            " | ".join(sent.item.matched_interests),
        ]
        writer.writerow(csv_safe(value) for value in row)


# Characters LaTeX gives a meaning of their own and that arXiv metadata uses as text.
_LATEX_TEXT_SPECIALS = re.compile(r"(?<!\\)([&%#])")


def bibtex_text(text: str) -> str:
    """`text` as a BibTeX field value between braces.

    arXiv titles and abstracts are written in LaTeX already ($\\alpha$-divergence), so
    math and commands stay; &, % and # are escaped; a value whose braces do not
    balance (which would end the field, or the file, early) has them escaped.
    """
    text = " ".join(text.split())
    text = _LATEX_TEXT_SPECIALS.sub(r"\\\1", text)
    depth = 0
    for char in text:
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            break
    if depth != 0:
        text = re.sub(r"(?<!\\)([{}])", r"\\\1", text)
    return text


def _key_part(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9]", "", ascii_text)


def bibtex_key(paper: Paper, taken: set[str]) -> str:
    """A citation key like arXiv's readers make: first author's surname, year, and the
    arXiv id (or a number), unique in the file."""
    surname = _key_part(paper.authors[0].split()[-1]) if paper.authors else ""
    year = str((paper.published_at or paper.first_seen).year)
    tail = re.sub(r"[^0-9.]", "", paper.canonical_id) if is_arxiv_id(paper.canonical_id) else ""
    base = f"{surname.lower() or 'paper'}{year}{('_' + tail) if tail else ''}"
    key, n = base, 1
    while key in taken:
        n += 1
        key = f"{base}_{n}"
    taken.add(key)
    return key


def bibtex_entry(paper: Paper, key: str) -> str:
    fields: list[tuple[str, str]] = [
        ("title", "{" + bibtex_text(paper.title) + "}"),  # double braces keep its case
        ("author", " and ".join(bibtex_text(name) for name in paper.authors)),
        ("year", str((paper.published_at or paper.first_seen).year)),
    ]
    if is_arxiv_id(paper.canonical_id):
        fields += [("eprint", paper.canonical_id), ("archivePrefix", "arXiv")]
        if paper.categories:
            fields.append(("primaryClass", paper.categories[0]))
    if paper.doi:
        fields.append(("doi", bibtex_text(paper.doi)))
    if paper.journal_ref:
        fields.append(("journal", bibtex_text(paper.journal_ref)))
    if paper.abs_url:
        fields.append(("url", paper.abs_url.replace("}", "%7D").replace("{", "%7B")))
    if paper.abstract:
        fields.append(("abstract", bibtex_text(paper.abstract)))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields if value)
    return f"@misc{{{key},\n{body}\n}}\n"


def papers_bibtex(subscriber: Subscriber) -> str:
    """The papers the subscriber was sent, newest digest first, as BibTeX @misc entries
    (arXiv's own form: eprint, archivePrefix, primaryClass)."""
    taken: set[str] = set()
    papers = [sent.paper for sent in _sent(subscriber)]
    return "\n".join(bibtex_entry(paper, bibtex_key(paper, taken)) for paper in papers)


# Imports


class ImportRefused(Exception):
    """The file cannot be imported; `messages` say why, naming lines where they can."""

    def __init__(self, messages: Iterable[str]) -> None:
        self.messages = list(messages)
        super().__init__("; ".join(self.messages))


@dataclass(frozen=True)
class Imported:
    """What an import changed."""

    interests: list[str]
    added: list[str]
    preferences: bool  # True when the file brought a schedule too (an export)


def check_size(size: int) -> None:
    """Refuse a file larger than MAX_IMPORT_BYTES (ImportRefused)."""
    if size > MAX_IMPORT_BYTES:
        raise ImportRefused([f"The file is larger than {MAX_IMPORT_BYTES // 2**20} MB."])


def _text_of(data: bytes) -> str:
    check_size(len(data))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRefused(["The file is not UTF-8 text."]) from None


def _interests(text: str, what: str) -> list[str]:
    """The interests of `text`, one a line, each checked by the engine; errors name the
    line (`what` says what a line is: of the file, of the export)."""
    try:
        return check_seeds(parse_interest_lines(text))
    except ValidationError as error:
        raise ImportRefused(
            re.sub(r"^Line (\d+):", rf"{what} \1:", message) for message in error.messages
        ) from None


def _merged(current: list[str], new: list[str], replace_all: bool) -> list[str]:
    if replace_all:
        return new
    known = {text.casefold() for text in current}
    return current + [text for text in new if text.casefold() not in known]


def import_file(subscriber: Subscriber, data: bytes, replace_all: bool = False) -> Imported:
    """Import interests from `data`: a text file (one interest a line) or a Paperboy JSON
    export, whose preferences (schedule, time zone, categories, length, pause) are taken
    too. The interests are added to the subscriber's, or replace them; nothing changes
    when anything in the file is refused (ImportRefused)."""
    text = _text_of(data)
    current = services.preferences_of(subscriber)
    if text.lstrip().startswith("{"):
        preferences, new = _from_export(text, current)
    else:
        preferences, new = current, _interests(text, "Line")
    interests = _merged(list(current.interests), new, replace_all)
    if len(interests) > MAX_INTERESTS:
        raise ImportRefused(
            [
                f"That would make {len(interests)} interests; at most {MAX_INTERESTS}, please "
                "(replace yours instead, or shorten the file)."
            ]
        )
    services.update_preferences(subscriber, replace(preferences, interests=interests))
    added = [text for text in interests if text not in current.interests]
    return Imported(interests, added, preferences is not current)


def _from_export(text: str, current: services.Preferences) -> tuple[services.Preferences, list]:
    """The preferences and interests of a Paperboy JSON export, checked as the manage page
    checks them."""
    try:
        export = json.loads(text)
    except ValueError as error:
        raise ImportRefused([f"The file is not valid JSON ({error})."]) from None
    if not isinstance(export, dict) or export.get("format") != FORMAT:
        raise ImportRefused(["This JSON file is not a Paperboy export."])
    if export.get("version") != VERSION:
        raise ImportRefused([f"This export's version ({export.get('version')}) is not known."])
    listed = export.get("interests")
    if not isinstance(listed, list):
        raise ImportRefused(["The export has no list of interests."])
    texts = [entry.get("text") if isinstance(entry, dict) else entry for entry in listed]
    if not all(isinstance(t, str) and "\n" not in t and "\r" not in t for t in texts):
        raise ImportRefused(["The export's interests must be lines of text."])
    new = _interests("\n".join(texts), "Interest")
    given = export.get("preferences")
    if not isinstance(given, dict):
        raise ImportRefused(["The export has no preferences."])
    form = ManageForm(
        {
            "interests": "\n".join(new),
            "frequency": given.get("frequency"),
            "send_hour": given.get("send_hour"),
            "time_zone": given.get("time_zone"),
            "categories": given.get("categories") or [],
            "paused_until": given.get("paused_until") or "",
            "digest_length": given.get("digest_length") or current.digest_length,
        }
    )
    if not form.is_valid():
        raise ImportRefused(
            f"{form.fields[name].label or name}: {message}"
            for name, messages in form.errors.items()
            for message in messages
        )
    data = form.cleaned_data
    preferences = services.Preferences(
        interests=new,
        frequency=data["frequency"],
        send_hour=data["send_hour"],
        time_zone=data["time_zone"],
        categories=data["categories"],
        paused_until=data["paused_until"],
        digest_length=data["digest_length"] or current.digest_length,
    )
    return preferences, new
