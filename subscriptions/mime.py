"""A message's bytes as Python's email generator writes them, written faster.

Django's SMTP backend sends `message.as_bytes(linesep="\\r\\n")`; the generator behind it
walks the message in Python: every header through the compat32 folding machinery (a
Header object, split into chunks, measured), every line of the body written one at a
time, and a regular expression compiled per message to check its boundary. For a
digest (~50 KB, two text parts) that is most of the CPU a hand-over thread spends,
under the GIL the sending process shares. `as_bytes` writes the same bytes for the
shapes it knows, a multipart of text parts, and hands anything else to the generator;
a header that does not fit on one line goes through the generator's own folding.
tests/subscriptions/test_mime.py compares the two byte for byte.
"""

import random
import re
import sys
from email import policy as email_policy
from email.utils import formatdate, make_msgid

from django.conf import settings
from django.core.mail.message import DNS_NAME, SafeMIMEMultipart, forbid_multi_line_headers

# As email.generator: line ends of any kind, the boundary's digits.
_NLCRE = re.compile(rb"\r\n|\r|\n")
_WIDTH = len(repr(sys.maxsize - 1))


def _header_lines(message, policy, linesep: str) -> list[bytes]:
    return _folded(message.raw_items(), policy, linesep)


def _folded(headers, policy, linesep: str) -> list[bytes]:
    # compat32 folds a line longer than this (RFC 5322's 78 characters); 0: never.
    longest = policy.max_line_length or sys.maxsize
    lines = []
    for name, value in headers:
        # A short printable ASCII value with nothing at either end comes out of the
        # folding as it went in: one line.
        if (
            isinstance(value, str)
            and value
            and len(name) + 2 + len(value) <= longest
            and value.isascii()
            and value.isprintable()
            and value.strip() == value
        ):
            lines.append(f"{name}: {value}{linesep}".encode("ascii"))
        else:
            lines.append(policy.fold_binary(name, value))
    return lines


def _text_part(part, policy, linesep: str) -> bytes | None:
    """A text part's bytes (written with its message's `policy`, as the generator does);
    None for a part the generator must write."""
    payload = part._payload
    if part.is_multipart() or not isinstance(payload, str) or part.preamble or part.epilogue:
        return None
    if part.get_content_maintype() != "text":
        return None
    head = b"".join(_header_lines(part, policy, linesep))
    # The text of a part with non-ASCII characters is kept as surrogate escapes of its
    # bytes.
    nl = linesep.encode("ascii")
    return head + nl + _line_ends(payload.encode("ascii", "surrogateescape"), nl)


def _line_ends(data: bytes, linesep: bytes) -> bytes:
    """A payload's bytes as BytesGenerator writes them: line by line, `linesep` after each."""
    if b"\r" not in data:  # the usual case: one kind of line end, a plain replace
        return data if linesep == b"\n" else data.replace(b"\n", linesep)
    return _NLCRE.sub(linesep, data)


def _boundary(texts: list[bytes]) -> str:
    """A boundary as the generator makes one, found in none of `texts` (at all, not
    only at a line's start: stricter than the generator's check)."""
    boundary = "=" * 15 + f"{random.randrange(sys.maxsize):0{_WIDTH}d}" + "=="
    candidate, counter = boundary, 0
    while any(f"--{candidate}".encode("ascii") in text for text in texts):
        candidate = f"{boundary}.{counter}"
        counter += 1
    return candidate


def multipart_bytes(message, linesep: str = "\n") -> bytes | None:
    """What `BytesGenerator(fp, mangle_from_=False).flatten(message, linesep=linesep)`
    writes for a multipart of text parts with no preamble or epilogue; None for any
    other message (the generator's to write)."""
    if message.preamble is not None or message.epilogue is not None:
        return None
    parts = message.get_payload()
    if not isinstance(parts, list) or not parts:
        return None
    policy = message.policy.clone(linesep=linesep)
    texts = []
    for part in parts:
        text = _text_part(part, policy, linesep)
        if text is None:
            return None
        texts.append(text)
    boundary = message.get_boundary()
    if not boundary:
        boundary = _boundary(texts)
        message.set_boundary(boundary)
    return _multipart(_header_lines(message, policy, linesep), boundary, texts, linesep)


def _multipart(head: list[bytes], boundary: str, parts: list[bytes], linesep: str) -> bytes:
    """A multipart's bytes as the generator writes them: its header lines, a blank line,
    then each part after a delimiter line, then the close-delimiter."""
    nl = linesep.encode("ascii")
    dash = f"--{boundary}".encode("ascii")
    return b"".join([*head, nl, dash + nl, (nl + dash + nl).join(parts), nl + dash + b"--" + nl])


class FastMultipart(SafeMIMEMultipart):
    """Django's multipart message, serialized by multipart_bytes where it can be."""

    def as_bytes(self, unixfrom: bool = False, linesep: str = "\n") -> bytes:
        if not unixfrom:
            written = multipart_bytes(self, linesep)
            if written is not None:
                return written
        return super().as_bytes(unixfrom=unixfrom, linesep=linesep)


# What a Paperboy email is made of (subscriptions.emails.Email): a text body and one
# HTML alternative, no attachments. Django's message() builds email.message objects
# for it (a header object per header, the body checked line by line for lines too
# long for 8bit, each part's charset set through the email package) that the bytes
# below never need; `email_bytes` writes what they would serialize to directly.
_ADDRESSED = (("To", "to"), ("Cc", "cc"), ("Reply-To", "reply_to"))
_SET_APART = {"from", "to", "cc", "reply-to"}
# Django encodes a part with a line longer than this (bytes) quoted-printable.
_LONGEST_8BIT_LINE = 998


def _body_bytes(text: str, linesep: bytes) -> bytes | None:
    """An 8bit UTF-8 text part's payload as the generator writes it; None for one Django
    would make quoted-printable (a line too long) or that is not valid text."""
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:
        return None
    # bytes.splitlines splits on fewer characters than str.splitlines (Django's check),
    # so its lines are never shorter: within the limit here, within it there.
    if data and max(map(len, data.splitlines())) > _LONGEST_8BIT_LINE:
        return None
    return _line_ends(data, linesep)


def email_bytes(email, linesep: str = "\r\n", subject: str | None = None) -> bytes | None:
    """What `email.message().as_bytes(linesep=linesep)` gives for an EmailMultiAlternatives
    of a text body and one HTML alternative in UTF-8 (Django's default charset), written
    without building the message: the same headers, made by the same functions, in the
    same order (`subject`: what message() puts in the Subject header, when not the
    email's subject); None for any other email (its message is built as usual)."""
    encoding = email.encoding or settings.DEFAULT_CHARSET
    if (
        encoding != "utf-8"
        or email.attachments
        or len(email.alternatives) != 1
        or email.alternatives[0][1] != "text/html"
        or not isinstance(email.alternatives[0][0], str)
        or email.content_subtype != "plain"
        or email.alternative_subtype != "alternative"
    ):
        return None
    nl = linesep.encode("ascii")
    texts = [
        (subtype, _body_bytes(text, nl))
        for subtype, text in (
            *((("plain", email.body),) if email.body else ()),
            ("html", email.alternatives[0][0]),
        )
    ]
    if any(data is None for _, data in texts):
        return None
    extra = email.extra_headers
    headers = [
        ("Subject", email.subject if subject is None else subject),
        ("From", extra.get("From", email.from_email)),
    ]
    for name, field in _ADDRESSED:
        if name in extra:  # as Django's message(): an extra header of that name wins
            headers.append((name, extra[name]))
        elif values := getattr(email, field):
            headers.append((name, ", ".join(str(v) for v in values)))
    names = {name.lower() for name in extra}
    if "date" not in names:
        headers.append(("Date", formatdate(localtime=settings.EMAIL_USE_LOCALTIME)))
    if "message-id" not in names:
        headers.append(("Message-ID", make_msgid(domain=DNS_NAME)))
    headers += [(name, value) for name, value in extra.items() if name.lower() not in _SET_APART]
    headers = [forbid_multi_line_headers(name, value, encoding) for name, value in headers]
    policy = email_policy.compat32.clone(linesep=linesep)
    parts = []
    for subtype, data in texts:
        head = [
            ("Content-Type", f'text/{subtype}; charset="utf-8"'),
            ("MIME-Version", "1.0"),
            ("Content-Transfer-Encoding", "7bit" if data.isascii() else "8bit"),
        ]
        parts.append(b"".join(_folded(head, policy, linesep)) + nl + data)
    boundary = _boundary(parts)

    root = [
        ("Content-Type", f'multipart/alternative; boundary="{boundary}"'),
        ("MIME-Version", "1.0"),
        *headers,
    ]
    return _multipart(_folded(root, policy, linesep), boundary, parts, linesep)
