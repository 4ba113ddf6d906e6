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

from django.core.mail.message import SafeMIMEMultipart

# As email.generator: line ends of any kind, the boundary's digits.
_NLCRE = re.compile(r"\r\n|\r|\n")
_WIDTH = len(repr(sys.maxsize - 1))


def _header_lines(message, policy, linesep: str) -> list[bytes]:
    # compat32 folds a line longer than this (RFC 5322's 78 characters); 0: never.
    longest = policy.max_line_length or sys.maxsize
    lines = []
    for name, value in message.raw_items():
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
    # BytesGenerator writes the payload line by line, with `linesep` after each; the
    # text of a part with non-ASCII characters is kept as surrogate escapes of its bytes.
    if "\r" not in payload:  # the usual case: one kind of line end, a plain replace
        payload = payload.replace("\n", linesep) if linesep != "\n" else payload
    else:
        payload = _NLCRE.sub(linesep, payload)
    body = payload.encode("ascii", "surrogateescape")
    return head + linesep.encode("ascii") + body


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
    nl = linesep.encode("ascii")
    dash = f"--{boundary}".encode("ascii")
    return b"".join(
        [
            *_header_lines(message, policy, linesep),
            nl,
            dash + nl,
            (nl + dash + nl).join(texts),
            nl + dash + b"--" + nl,
        ]
    )


class FastMultipart(SafeMIMEMultipart):
    """Django's multipart message, serialized by multipart_bytes where it can be."""

    def as_bytes(self, unixfrom: bool = False, linesep: str = "\n") -> bytes:
        if not unixfrom:
            written = multipart_bytes(self, linesep)
            if written is not None:
                return written
        return super().as_bytes(unixfrom=unixfrom, linesep=linesep)
