"""How much of each paper the email shows is the subscriber's choice, on the manage page:
titles only, short (the sentences around the match, the default) or full."""

import re

import pytest

from subscriptions import services
from subscriptions.models import Subscriber
from tests.subscriptions.test_manage import form_data, manage_url

pytestmark = pytest.mark.django_db


def test_a_new_subscriber_gets_short_digests(make_subscriber):
    subscriber = make_subscriber()

    assert subscriber.digest_length == Subscriber.DigestLength.SHORT == "short"
    assert services.preferences_of(subscriber).digest_length == "short"


def test_the_manage_page_offers_the_three_lengths_right_after_the_pause(client, make_subscriber):
    subscriber = make_subscriber(digest_length="titles")

    page = client.get(manage_url(subscriber)).content.decode()

    offered = re.findall(r'name="digest_length" value="(\w+)"', page)
    assert offered == ["titles", "short", "full"]
    assert re.search(r'<input type="radio" name="digest_length" value="titles"[^>]* checked', page)
    assert page.index('name="paused_until"') < page.index('name="digest_length"')
    assert page.index('name="digest_length"') < page.index('value="save"')
    assert "always has whole abstracts" in page


@pytest.mark.parametrize("length", ["titles", "short", "full"])
def test_saving_the_manage_page_keeps_the_length_chosen(client, make_subscriber, length):
    subscriber = make_subscriber()

    response = client.post(manage_url(subscriber), form_data(digest_length=length))

    assert "Saved." in response.content.decode()
    subscriber.refresh_from_db()
    assert subscriber.digest_length == length


def test_a_form_without_the_choice_keeps_it_and_a_wrong_one_is_refused(client, make_subscriber):
    subscriber = make_subscriber(digest_length="full")

    client.post(manage_url(subscriber), form_data())  # a page from before the choice
    subscriber.refresh_from_db()
    assert subscriber.digest_length == "full"

    refused = client.post(manage_url(subscriber), form_data(digest_length="everything"))
    assert "Saved." not in refused.content.decode()
    subscriber.refresh_from_db()
    assert subscriber.digest_length == "full"


def test_update_preferences_saves_the_length(make_subscriber):
    subscriber = make_subscriber()
    chosen = services.Preferences(
        **{**services.preferences_of(subscriber).__dict__, "digest_length": "titles"}
    )

    services.update_preferences(subscriber, chosen)

    subscriber.refresh_from_db()
    assert services.preferences_of(subscriber).digest_length == "titles"
