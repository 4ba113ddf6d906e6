"""Finding the arXiv id of a paper wherever a feed hides it.

One paper, one row: whatever the feed, an arXiv paper's canonical id is its
arXiv id without version ("2403.01234", or "hep-th/9901001" for old ids), found
in a link, a guid, a Hugging Face id or an arXiv DOI (10.48550/arXiv.2403.01234).
Papers with no arXiv id are keyed on their DOI, then on their link.
"""

import re
from urllib.parse import urlsplit

# New-style ids (2604.21952, 0704.0001) and old-style ones (hep-th/9901001, math.AG/0309136).
ID_PATTERN = r"(?P<id>\d{4}\.\d{4,5}|[a-z][a-z-]*(?:\.[A-Za-z-]+)?/\d{7})(?:v(?P<version>\d+))?"
_ID = re.compile(rf"^{ID_PATTERN}$")
_IN_TEXT = [
    # oai:arXiv.org:2604.21952v1, arXiv:2604.21952, arxiv.org/abs/…, /pdf/…, 10.48550/arXiv.…
    re.compile(rf"oai:arXiv\.org:{ID_PATTERN}", re.IGNORECASE),
    re.compile(rf"arxiv\.org/(?:abs|pdf|html)/{ID_PATTERN}(?=$|[/?#\s\"'<>]|\.pdf)", re.I),
    re.compile(rf"10\.48550/arXiv\.{ID_PATTERN}(?=$|[^\w.])", re.IGNORECASE),
    re.compile(rf"\barXiv:\s?{ID_PATTERN}(?=$|[^\w.])", re.IGNORECASE),
    re.compile(rf"huggingface\.co/papers/{ID_PATTERN}(?=$|[/?#\s\"'<>])", re.IGNORECASE),
]
_DOI = re.compile(r"\b(10\.\d{4,9}/[^\s\"'<>]+)", re.IGNORECASE)
_DOI_VERSION = re.compile(r"(?<=\d)v\d+$")


def split_arxiv_id(value: str) -> tuple[str, int | None] | None:
    """("2403.01234", 2) for "2403.01234v2"; None when `value` is not a bare arXiv id."""
    found = _ID.match(value.strip())
    if found is None:
        return None
    version = found.group("version")
    return found.group("id"), int(version) if version else None


def find_arxiv_id(*texts: str) -> tuple[str, int | None] | None:
    """The first arXiv id (and version, if given) in any of `texts`, tried in order."""
    for text in texts:
        if not text:
            continue
        for pattern in _IN_TEXT:
            found = pattern.search(text)
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
