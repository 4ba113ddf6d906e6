"""One spelling per mailbox: the address normalization every store, lookup, limit,
suppression and send goes through.

Django's sender writes the domain of an address with IDNA (django.utils.encoding.
punycode), which folds full-width letters (U+FF45), script letters (U+212F) and case,
and maps soft hyphens and zero-width characters to nothing: `exam<U+00AD>ple.com` is
mailed at `example.com`. Unless we fold them the same way, every variant is a
subscriber of its own, with its own limits, while all the mail lands in one inbox. So:

- characters IDNA maps to nothing (RFC 3454 table B.1: soft hyphen, zero-width space,
  joiners, word joiner, variation selectors, BOM) are dropped, as the sender drops them:
  the address is the one without them;
- every other invisible or text-direction character (bidi marks, embeddings,
  overrides and isolates, other format and control characters) is refused: it makes an
  address read differently from where mail goes, and IDNA refuses most of them anyway
  (the send task died of a UnicodeError on `exa<U+202E>mple.com`);
- the rest is NFKC-normalized, the domain IDNA-encoded as the sender encodes it and
  lower-cased;
- IP literals (`root@[127.0.0.1]`) and one-label hosts (`root@localhost`) are refused:
  account mail goes to domains, never to a machine someone names.

The part before the @ keeps its case (it is sent as typed); comparisons ignore it
(`address_key`), as the database's unique constraint does.
"""

import ipaddress
import stringprep
import unicodedata

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.encoding import punycode

# Default_Ignorable_Code_Point (Unicode's "invisible" characters) outside the format
# (Cf) category, which the category test below already covers: Hangul fillers,
# Khmer inherent vowels, Mongolian vowel separator, the halfwidth filler.
_INVISIBLE_LETTERS = {0x115F, 0x1160, 0x17B4, 0x17B5, 0x180E, 0x3164, 0xFFA0}
# Control, format, private use, surrogate, line and paragraph separators.
_REFUSED_CATEGORIES = {"Cc", "Cf", "Co", "Cs", "Zl", "Zp"}


def _is_refused(character: str) -> bool:
    return (
        unicodedata.category(character) in _REFUSED_CATEGORIES
        or ord(character) in _INVISIBLE_LETTERS
    )


def _refused_character_error(character: str) -> ValidationError:
    name = unicodedata.name(character, "a control character")
    return ValidationError(
        f"This address contains an invisible or text-direction character "
        f"(U+{ord(character):04X} {name}), which makes it read differently from where "
        "mail would go. Please type the address again.",
        code="invisible_character",
    )


def normalize_email(address: str) -> str:
    """The one spelling of `address` that is stored, looked up and mailed.

    Raises ValidationError, with a message a person can act on, for an address mail
    would not reach as it reads. Normalizing a normalized address changes nothing.
    """
    kept = []
    for character in address.strip():
        if stringprep.in_table_b1(character):
            continue  # mapped to nothing by IDNA, so by the sender too
        if _is_refused(character):
            raise _refused_character_error(character)
        kept.append(character)
    text = unicodedata.normalize("NFKC", "".join(kept))
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        raise ValidationError("Enter a valid email address.", code="invalid")
    domain = domain.removesuffix(".")  # "example.com." is the same domain
    if domain.startswith("[") or _is_ip_address(domain):
        raise ValidationError(
            "Use an address at a domain name (like name@example.com), not at an IP address.",
            code="ip_literal",
        )
    try:
        domain = punycode(domain).lower()
    except UnicodeError:
        raise ValidationError(
            "The part after the @ is not a domain name email can be sent to.",
            code="bad_domain",
        ) from None
    if "." not in domain:
        raise ValidationError(
            "Use an address at a full domain name, like name@example.com.", code="bare_host"
        )
    if not local.isascii():
        # Django's sender cannot put such a local part on the envelope.
        raise ValidationError(
            "The part before the @ can hold only Latin letters, digits and punctuation.",
            code="non_ascii_local_part",
        )
    normalized = f"{local}@{domain}"
    validate_email(normalized)
    return normalized


def _is_ip_address(domain: str) -> bool:
    try:
        ipaddress.ip_address(domain)
    except ValueError:
        return False
    return True


def address_key(address: str) -> str:
    """What every spelling of one mailbox has in common: the normalized address in lower
    case. For rate-limit keys, hashes and comparisons.

    An address that cannot be normalized (one stored before these rules, or a provider's
    report of one) keys as itself, trimmed and lower-cased, so a comparison never raises.
    """
    try:
        return normalize_email(address).lower()
    except ValidationError:
        return address.strip().lower()


def same_address(first: str, second: str) -> bool:
    """True when both name the same mailbox (e.g. a provider's report and our subscriber)."""
    return address_key(first) == address_key(second)
