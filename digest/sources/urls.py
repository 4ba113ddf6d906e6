"""Feed addresses as staff type them: one spelling to catch a duplicate, and a name.

Pure Python. `feed_url_key` is for comparing only: a source keeps its URL as typed.
"""

from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

from digest.sources.ids import is_arxiv_host, is_hugging_face_host

_DEFAULT_PORTS = {"http": 80, "https": 443}
# arXiv's RSS takes ?version=… for the flavour of one and the same feed, so the
# parameter names no other feed.
_ARXIV_IGNORED_PARAMETERS = frozenset({"version"})


def feed_url_key(url: str) -> str:
    """The address of a feed in one spelling: two URLs with one key are one feed.

    http and https, a leading "www.", the host's case and a trailing dot, the default
    port, a trailing slash, a fragment, the order and escaping of query parameters,
    and, on arXiv, its `version` parameter make no difference.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".").removeprefix("www.")  # lower case already
    query = parse_qsl(parts.query, keep_blank_values=True)
    if is_arxiv_host(host):
        query = [(name, value) for name, value in query if name not in _ARXIV_IGNORED_PARAMETERS]
    netloc = f"[{host}]" if ":" in host else host  # an IPv6 address keeps its brackets
    try:
        port = parts.port
    except ValueError:  # not a number: the URL field refuses it anyway
        port = None
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        netloc = f"{netloc}:{port}"
    path = parts.path.rstrip("/")
    return f"{netloc}{path}" + (f"?{urlencode(sorted(query))}" if query else "")


def default_source_name(url: str, kind: str) -> str:
    """A name for a source added without one, from what its URL says about it:
    "arXiv cs.LG", "arXiv API: cat:cs.LG AND abs:diffusion", else its host and path."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").rstrip(".").removeprefix("www.")
    path = parts.path.strip("/")
    if is_arxiv_host(host):
        if kind in ("arxiv_rss", "arxiv_rss_legacy") and path.count("/") == 1:
            return f"arXiv {path.split('/')[1]}"  # /rss/cs.LG, /atom/quant-ph
        if kind == "arxiv_api":
            query = parse_qs(parts.query)
            asked = query.get("search_query") or query.get("id_list") or [""]
            return f"arXiv API: {asked[0]}".strip().removesuffix(":")
    if is_hugging_face_host(host) and kind == "hf_daily":
        return "Hugging Face daily papers"
    return f"{host}/{path}".rstrip("/")
