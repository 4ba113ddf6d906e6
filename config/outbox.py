"""The local outbox: where email goes when no provider is configured.

Each message is written as one `.eml` file in OUTBOX_DIR (any mail program opens
it), and while DEBUG is on the site lists them at /outbox/ so a person can read
a digest in the browser.
"""

import re
from email import message_from_bytes, policy
from email.message import EmailMessage as ParsedMessage
from pathlib import Path

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.clickjacking import xframe_options_sameorigin

_SAFE_NAME = re.compile(r"^[\w.-]+\.eml$")


class EmailBackend(BaseEmailBackend):
    """Writes each message to OUTBOX_DIR as `<time>-<n>.eml`."""

    def send_messages(self, email_messages: list[EmailMessage]) -> int:
        outbox = Path(settings.OUTBOX_DIR)
        outbox.mkdir(parents=True, exist_ok=True)
        sent = 0
        for message in email_messages:
            stamp = timezone.now().strftime("%Y%m%d-%H%M%S-%f")
            path = outbox / f"{stamp}-{sent}.eml"
            # Write then rename, so the /outbox/ page never shows half a file.
            partial = path.with_suffix(".part")
            partial.write_bytes(message.message().as_bytes(linesep="\n"))
            partial.rename(path)
            sent += 1
        return sent


def _require_debug() -> None:
    # The pages are for development: in production they do not exist.
    if not settings.DEBUG:
        raise Http404("the outbox is shown only while DEBUG is on")


def _read(name: str) -> ParsedMessage:
    _require_debug()
    if not _SAFE_NAME.match(name):
        raise Http404("no such message")
    path = Path(settings.OUTBOX_DIR) / name
    if not path.is_file():
        raise Http404("no such message")
    return message_from_bytes(path.read_bytes(), policy=policy.default)


def outbox_list(request: HttpRequest) -> HttpResponse:
    _require_debug()
    outbox = Path(settings.OUTBOX_DIR)
    files = sorted(outbox.glob("*.eml"), reverse=True) if outbox.is_dir() else []
    messages = []
    for path in files[:200]:
        parsed = _read(path.name)
        messages.append(
            {
                "name": path.name,
                "to": parsed["To"],
                "subject": parsed["Subject"],
                "date": parsed["Date"],
            }
        )
    return render(request, "outbox/list.html", {"messages": messages, "outbox_dir": outbox})


def outbox_message(request: HttpRequest, name: str) -> HttpResponse:
    parsed = _read(name)
    text = parsed.get_body(preferencelist=("plain",))
    html = parsed.get_body(preferencelist=("html",))
    context = {
        "name": name,
        "headers": list(parsed.items()),
        "text": text.get_content() if text else "",
        "has_html": html is not None,
    }
    return render(request, "outbox/message.html", context)


@xframe_options_sameorigin
def outbox_message_html(request: HttpRequest, name: str) -> HttpResponse:
    html = _read(name).get_body(preferencelist=("html",))
    if html is None:
        raise Http404("this message has no HTML part")
    # Links open in a new tab, as in a mail program; the frame itself stays put.
    response = HttpResponse('<base target="_blank">' + html.get_content())
    # The email's HTML runs no script here and loads nothing from elsewhere.
    response["Content-Security-Policy"] = (
        "sandbox allow-popups allow-popups-to-escape-sandbox; "
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    )
    return response
