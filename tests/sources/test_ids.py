"""One paper, one key: arXiv ids found wherever feeds put them."""

import pytest

from digest.sources.ids import canonical_id, find_arxiv_id, find_doi, split_arxiv_id


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("oai:arXiv.org:2604.21952v1", ("2604.21952", 1)),
        ("https://arxiv.org/abs/2604.21952", ("2604.21952", None)),
        ("http://rss.arxiv.org/abs/2604.21952v2", ("2604.21952", 2)),
        ("https://arxiv.org/pdf/2401.00011v3.pdf", ("2401.00011", 3)),
        ("http://arxiv.org/abs/hep-th/9901001v2", ("hep-th/9901001", 2)),
        ("http://arxiv.org/abs/math.AG/0309136", ("math.AG/0309136", None)),
        ("https://doi.org/10.48550/arXiv.2403.01234", ("2403.01234", None)),
        ("10.48550/ARXIV.2403.01234", ("2403.01234", None)),
        ("arXiv:2403.01234v4", ("2403.01234", 4)),
        ("https://huggingface.co/papers/2606.00467", ("2606.00467", None)),
        ("https://export.arxiv.org/abs/2604.21952v3", ("2604.21952", 3)),
        ("https://www.arxiv.org/html/2604.21952v1/", ("2604.21952", 1)),
        ("https://dx.doi.org/10.48550/arXiv.2403.01234", ("2403.01234", None)),
        ("doi:10.48550/arXiv.2403.01234", ("2403.01234", None)),
        ("https://example.org/arxiv.org-mirror/notes", None),
        ("https://arxiv.org.evil.example/abs/2604.21952", None),
        ("https://huggingface.co.evil.example/papers/2606.00467", None),
        ("https://evil.example/papers/2606.00467", None),
        ("https://arxiv.org/list/cs.LG/2604.21952", None),
        ("https://biorxiv.org/content/10.1101/2026.09.12.675901v1", None),
        ("see 2403.01234 somewhere", None),
    ],
)
def test_an_arxiv_id_is_found_where_feeds_put_it(text, expected):
    assert find_arxiv_id(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        # Issue 11, finding 3: another site's link that mentions an arXiv URL names nothing.
        "https://evil.example/hijack?ref=arxiv.org/abs/2604.21952v99",
        "https://evil.example/arxiv.org/abs/2604.21952v99",
        "https://evil.example/#https://arxiv.org/abs/2604.21952",
        "https://evilarxiv.org/abs/2604.21952",
        "https://evil.example/?next=huggingface.co/papers/2606.00467",
        "https://evil.example/?doi=10.48550/arXiv.2403.01234",
        "ftp://arxiv.org/abs/2604.21952",
        "see arXiv:2403.01234 and more",
    ],
)
def test_an_arxiv_id_is_not_taken_from_other_hosts_or_from_inside_text(text):
    assert find_arxiv_id(text) is None


def test_the_first_text_that_names_an_id_wins():
    assert find_arxiv_id("", "https://lab.example/p", "arXiv:2401.00001") == ("2401.00001", None)


def test_a_bare_id_splits_into_id_and_version():
    assert split_arxiv_id("2606.00467") == ("2606.00467", None)
    assert split_arxiv_id(" 2606.00467v12 ") == ("2606.00467", 12)
    assert split_arxiv_id("hf-123") is None


def test_dois_are_lowercased_and_lose_the_biorxiv_version():
    assert find_doi("doi:10.1101/2026.09.12.675901v2") == "10.1101/2026.09.12.675901"
    assert find_doi("https://doi.org/10.1103/PhysRevD.111.032004.") == "10.1103/physrevd.111.032004"
    assert find_doi("no doi here") == ""


def test_the_canonical_id_prefers_arxiv_then_doi_then_link():
    assert canonical_id(arxiv_id="2401.00001", doi="10.1/x", link="https://a") == "2401.00001"
    assert canonical_id(doi="10.1/X", link="https://a") == "doi:10.1/x"
    assert canonical_id(link="https://Lab.Example.org/p/x/?a=1") == "url:lab.example.org/p/x?a=1"
    assert canonical_id() == ""
