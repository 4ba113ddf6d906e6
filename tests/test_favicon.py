"""A favicon (issue 12): an SVG linked from every page, and /favicon.ico, which
browsers ask for anyway, leads to it instead of answering 404."""

from django.test import Client


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_favicon_ico_leads_to_the_svg_icon(db):
    response = Client().get("/favicon.ico", follow=True)

    assert response.status_code == 200
    assert response.redirect_chain == [("/static/paperboy/favicon.svg", 302)]
    assert response["Content-Type"] == "image/svg+xml"
    assert _body(response).startswith(b"<svg ")


def test_every_page_links_the_icon(db):
    page = Client().get("/").content.decode()

    assert '<link rel="icon" href="/static/paperboy/favicon.svg" type="image/svg+xml">' in page
