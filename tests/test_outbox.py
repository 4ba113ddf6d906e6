"""Without a provider, email lands in a local outbox a person can open."""

from email import message_from_bytes, policy

import pytest
from django.core.mail import EmailMultiAlternatives
from django.test import RequestFactory

from config import outbox


@pytest.fixture
def outbox_dir(tmp_path, settings):
    settings.OUTBOX_DIR = tmp_path
    settings.DEBUG = True
    return tmp_path


def _send(subject: str) -> None:
    message = EmailMultiAlternatives(
        subject, "plain part https://example.org/x", to=["a@example.com"]
    )
    message.attach_alternative("<p>html <script>alert(1)</script> part</p>", "text/html")
    outbox.EmailBackend().send_messages([message])


def test_each_message_is_saved_as_an_eml_file(outbox_dir):
    _send("Hello")
    _send("Again")

    files = sorted(outbox_dir.glob("*.eml"))
    assert len(files) == 2
    parsed = message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert parsed["Subject"] == "Hello"
    assert parsed.get_body(("plain",)).get_content().strip() == "plain part https://example.org/x"


def test_the_outbox_pages_list_and_show_messages(outbox_dir):
    _send("Your digest")
    name = next(outbox_dir.glob("*.eml")).name
    request = RequestFactory().get("/outbox/")

    listing = outbox.outbox_list(request)
    detail = outbox.outbox_message(request, name)
    html = outbox.outbox_message_html(request, name)

    assert b"Your digest" in listing.content
    assert b'<a href="https://example.org/x"' in detail.content
    assert "sandbox" in html["Content-Security-Policy"]
    assert b"html <script>" in html.content  # shown as sent, but inert in a sandbox


def test_the_outbox_refuses_paths_outside_it(outbox_dir):
    from django.http import Http404

    with pytest.raises(Http404):
        outbox.outbox_message(RequestFactory().get("/"), "../../etc/passwd")


def test_the_outbox_pages_do_not_exist_in_production(outbox_dir, settings, client):
    _send("Private")
    settings.DEBUG = False

    assert client.get("/outbox/").status_code == 404
    assert client.get(f"/outbox/{next(outbox_dir.glob('*.eml')).name}/").status_code == 404
