"""Finding the arXiv id of a paper wherever a feed hides it.

One paper, one row: whatever the feed, an arXiv paper's canonical id is its
arXiv id without version ("2403.01234", or "hep-th/9901001" for old ids).
Papers with no arXiv id are keyed on their DOI, then on their link.

An id is taken only from where it names the paper itself: a URL whose host is
arXiv's (arxiv.org, export.arxiv.org, rss.arxiv.org …) or Hugging Face's papers
page, an arXiv DOI (10.48550/arXiv.…, bare or on doi.org), or an identifier
that is nothing but the id ("arXiv:2403.01234", arXiv's "oai:arXiv.org:…").
URLs are parsed and their host checked: "arxiv.org/abs/…" in another site's
query string or path names nothing (https://evil.example/?ref=arxiv.org/abs/…).
"""

import re
from urllib.parse import unquote, urlsplit

# New-style ids (2604.21952, 0704.0001) and old-style ones (hep-th/9901001, math.AG/0309136).
ID_PATTERN = r"(?P<id>\d{4}\.\d{4,5}|[a-z][a-z-]*(?:\.[A-Za-z-]+)?/\d{7})(?:v(?P<version>\d+))?"
_ID = re.compile(rf"^{ID_PATTERN}$")
# Identifiers that are an arXiv id and nothing else, as a whole value.
_IDENTIFIERS = [
    re.compile(rf"^oai:arXiv\.org:{ID_PATTERN}$", re.IGNORECASE),
    re.compile(rf"^arXiv:\s?{ID_PATTERN}$", re.IGNORECASE),
    re.compile(rf"^(?:doi:\s?)?10\.48550/arXiv\.{ID_PATTERN}$", re.IGNORECASE),
]
# The paths that name one paper, on each kind of host.
_ARXIV_PATH = re.compile(rf"^/(?:abs|pdf|html)/{ID_PATTERN}(?:\.pdf)?/?$")
_HUGGING_FACE_PATH = re.compile(rf"^/papers/{ID_PATTERN}/?$")
_DOI_PATH = re.compile(rf"^/10\.48550/arXiv\.{ID_PATTERN}$", re.IGNORECASE)
_HUGGING_FACE_HOSTS = frozenset({"huggingface.co", "www.huggingface.co"})
_DOI_HOSTS = frozenset({"doi.org", "dx.doi.org", "www.doi.org"})
_DOI = re.compile(r"\b(10\.\d{4,9}/[^\s\"'<>]+)", re.IGNORECASE)
_DOI_VERSION = re.compile(r"(?<=\d)v\d+$")


def split_arxiv_id(value: str) -> tuple[str, int | None] | None:
    """("2403.01234", 2) for "2403.01234v2"; None when `value` is not a bare arXiv id."""
    found = _ID.match(value.strip())
    if found is None:
        return None
    version = found.group("version")
    return found.group("id"), int(version) if version else None


def is_arxiv_host(host: str) -> bool:
    """arxiv.org or one of its subdomains (export., rss., www.); not "evilarxiv.org"."""
    host = host.lower().removesuffix(".")
    return host == "arxiv.org" or host.endswith(".arxiv.org")


def is_hugging_face_host(host: str) -> bool:
    return host.lower().removesuffix(".") in _HUGGING_FACE_HOSTS


def is_arxiv_id(canonical_id: str) -> bool:
    """True when a canonical id is an arXiv id (not "doi:…", "url:…", "hf:…")."""
    return split_arxiv_id(canonical_id) is not None


def _pattern_for_url(text: str) -> re.Pattern[str] | None:
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
    except ValueError:  # a malformed IPv6 host, a bad port
        return None
    if parts.scheme.lower() not in ("http", "https"):
        return None
    if is_arxiv_host(host):
        return _ARXIV_PATH
    if is_hugging_face_host(host):
        return _HUGGING_FACE_PATH
    if host.lower() in _DOI_HOSTS:
        return _DOI_PATH
    return None


def _arxiv_id_of(text: str) -> re.Match[str] | None:
    text = text.strip()
    if "://" in text:
        pattern = _pattern_for_url(text)
        return pattern.match(unquote(urlsplit(text).path)) if pattern else None
    return next((found for pattern in _IDENTIFIERS if (found := pattern.match(text))), None)


def find_arxiv_id(*texts: str) -> tuple[str, int | None] | None:
    """The arXiv id (and version, if given) of the first of `texts` that names one:
    an arXiv or Hugging Face URL, an arXiv DOI, or an "arXiv:…" identifier."""
    for text in texts:
        found = _arxiv_id_of(text) if isinstance(text, str) and text else None
        if found:
            version = found.group("version")
            return found.group("id"), int(version) if version else None
    return None


def find_doi(*texts: str) -> str:
    """The first DOI in `texts`, lower-cased (DOIs are case-insensitive), or ""."""
    for text in texts:
        found = _DOI.search(text or "")
        if found:
            doi = found.group(1).rstrip(".,;)").lower()
            # bioRxiv/medRxiv links append the version to the DOI: 10.1101/2024.01.01.123456v2
            return _DOI_VERSION.sub("", doi)
    return ""


def canonical_id(*, arxiv_id: str = "", doi: str = "", link: str = "") -> str:
    """The key of a paper: its arXiv id, else "doi:<doi>", else "url:<host/path>"."""
    if arxiv_id:
        return arxiv_id
    if doi:
        return f"doi:{doi.lower()}"
    if link:
        parts = urlsplit(link.strip())
        path = parts.path.rstrip("/")
        query = f"?{parts.query}" if parts.query else ""
        return f"url:{parts.netloc.lower()}{path}{query}"
    return ""
