"""Invitations: signed, expiring, bound to one invitation; rate limited; and the owner's
page reads the same whatever Paperboy knows of an address."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone

from groups import links, services
from groups.models import Group, Membership
from subscriptions.models import Subscriber
from tests.groups.conftest import OWNER, emails_to, links_in

pytestmark = pytest.mark.django_db(transaction=True)


def _manage_path(group: Group) -> str:
    return links.manage_url(group.pk).removeprefix("https://paperboy.example")


def _invite(client: Client, group: Group, addresses: str):
    return client.post(_manage_path(group), {"action": "invite", "addresses": addresses})


def _invitation_of(path: str) -> dict:
    return links.read_token(links.INVITE, path.rstrip("/").rsplit("/", 1)[-1])


def _answer(response, address: str) -> str:
    """The page with the address and the per-response bits (CSRF, dates) taken out."""
    text = response.content.decode().replace(address, "ADDRESS")
    text = re.sub(r"/groups/leave/[^\"]+", "LEAVE-LINK", text)
    text = re.sub(r"next digest [^(]+", "next digest WHEN ", text)  # made a minute apart
    return re.sub(r"name=\"membership\" value=\"\d+\"", "MEMBERSHIP", text)


def test_the_owner_page_reads_the_same_for_a_subscriber_a_suppressed_address_and_a_stranger(
    make_group, make_subscriber
):
    make_subscriber(email="known@example.com")
    make_subscriber(email="bounced@example.com", status=Subscriber.Status.SUPPRESSED)
    addresses = ("known@example.com", "bounced@example.com", "stranger@example.com")
    groups = [make_group(members=(), name="Same page") for _ in addresses]  # one each
    answers = {
        address: _answer(_invite(Client(), group, address), address)
        for address, group in zip(addresses, groups, strict=True)
    }

    assert len(set(answers.values())) == 1
    assert "Invited: ADDRESS" in answers["stranger@example.com"]
    # The suppressed address is mailed nothing; the others their invitation.
    assert not emails_to("bounced@example.com")
    assert len(emails_to("known@example.com", "invited")) == 1
    assert len(emails_to("stranger@example.com", "invited")) == 1


def test_an_address_gets_at_most_its_hourly_account_emails_whoever_invites_it(make_group):
    groups = [make_group(members=(), name=f"Group {n}") for n in range(5)]
    for group in groups:
        _invite(Client(), group, "target@example.com")

    # The same answer every time, and at most three emails an hour to the address.
    assert len(emails_to("target@example.com")) == 3
    assert Membership.objects.filter(email="target@example.com", status="invited").count() == 5


def test_a_group_invites_at_most_its_daily_limit(make_group, settings, client):
    settings.GROUP_INVITATIONS_PER_DAY = 3
    group = make_group(members=())

    first = _invite(client, group, "a@x.example b@x.example")
    second = _invite(client, group, "c@x.example, d@x.example")

    assert "Invited: a@x.example, b@x.example" in first.content.decode()
    assert "Invited: c@x.example." in second.content.decode()
    assert "invitations for today are used up: d@x.example" in second.content.decode()
    assert not emails_to("d@x.example")
    assert not Membership.objects.filter(email="d@x.example").exists()


def test_one_form_invites_at_most_twenty_and_says_which_address_is_wrong(make_group, client):
    group = make_group(members=())
    too_many = " ".join(f"p{n}@x.example" for n in range(21))

    assert "At most 20 addresses" in _invite(client, group, too_many).content.decode()
    wrong = _invite(client, group, "ok@x.example root@localhost")
    assert wrong.status_code == 400
    assert "root@localhost: Use an address at a full domain name" in wrong.content.decode()
    assert not Membership.objects.filter(email="ok@x.example").exists()


def test_members_are_not_invited_again_and_a_lost_invitation_is_mailed_again(make_group, client):
    group = make_group(members=("bea@lab.example",))
    _invite(client, group, "new@lab.example")
    again = _invite(client, group, "bea@lab.example new@lab.example")

    assert "Already members, not invited again: bea@lab.example" in again.content.decode()
    first, second = emails_to("new@lab.example")
    # The same invitation (its key), whatever second each link was signed in.
    [first_link], [second_link] = links_in(first, "join"), links_in(second, "join")
    assert _invitation_of(first_link) == _invitation_of(second_link)
    assert not emails_to("bea@lab.example")


def test_a_withdrawn_invitation_link_no_longer_works(make_group, client):
    group = make_group(members=())
    _invite(client, group, "new@lab.example")
    [join_path] = links_in(emails_to("new@lab.example")[0], "join")
    membership = Membership.objects.get(email="new@lab.example")

    client.post(_manage_path(group), {"action": "withdraw", "membership": membership.pk})

    assert client.get(join_path).status_code == 400
    assert client.post(join_path).status_code == 400
    membership.refresh_from_db()
    assert membership.status == Membership.Status.WITHDRAWN


def test_an_invitation_link_expires_and_cannot_be_altered(make_group, client, settings):
    group = make_group(members=())
    _invite(client, group, "new@lab.example")
    [join_path] = links_in(emails_to("new@lab.example")[0], "join")

    assert client.post(join_path.replace("/join/", "/join/x")).status_code == 400
    # A manage link is no invitation, nor the reverse: each purpose has its own salt.
    assert client.get(join_path.replace("/join/", "/manage/")).status_code == 400
    later = timezone.now() + timedelta(days=settings.GROUP_INVITE_LINK_MAX_AGE_DAYS, hours=1)
    with time_machine.travel(later):
        response = client.post(join_path)
    assert response.status_code == 400
    assert "expired" in response.content.decode()
    assert Membership.objects.get(email="new@lab.example").status == "invited"


def test_a_member_who_left_needs_a_new_invitation_to_come_back(make_group, client):
    group = make_group(members=("bea@lab.example",))
    membership = Membership.objects.get(email="bea@lab.example")
    old_link = links.invite_url(membership.pk, membership.invite_key)
    services.leave(membership.pk)

    assert client.post(old_link.removeprefix("https://paperboy.example")).status_code == 400
    _invite(client, group, "bea@lab.example")
    [join_path] = links_in(emails_to("bea@lab.example")[-1], "join")
    client.post(join_path)
    membership.refresh_from_db()
    assert membership.status == Membership.Status.ACTIVE


def test_starting_a_group_answers_alike_for_every_address_and_mails_only_the_owner(client):
    answers = []
    for address in ("owner@lab.example", "someone@else.example"):
        form = {
            "name": "Lab",
            "email": address,
            "interests": "anomaly detection",
            "frequency": "weekly",
            "send_hour": 9,
            "time_zone": "Europe/Berlin",
        }
        response = client.post("/groups/new/", form)
        answers.append((response.status_code, response["Location"]))
    assert answers == [(302, "/check-your-inbox/")] * 2
    assert [m.to for m in mail.outbox] == [["owner@lab.example"], ["someone@else.example"]]
    # A group waits for its owner: nothing is sent, nobody can be invited yet.
    group = Group.objects.get(owner_email="owner@lab.example")
    assert group.status == Group.Status.PENDING
    assert services.invite(group, ["x@lab.example"]).invited == []


def test_the_start_form_checks_interests_as_the_signup_form_does(client):
    response = client.post(
        "/groups/new/",
        {
            "name": "Lab",
            "email": OWNER,
            "interests": "?!?",
            "frequency": "daily",
            "send_hour": 8,
            "time_zone": "UTC",
        },
    )
    assert response.status_code == 200
    assert "Line 1:" in response.content.decode()
    assert not Group.objects.exists()


def test_staff_see_a_groups_members_pending_invitations_and_interests(make_group, admin_client):
    group = make_group(members=("bea@lab.example",))
    services.invite(group, ["pending@lab.example"])

    listing = admin_client.get("/admin/groups/group/").content.decode()
    page = admin_client.get(f"/admin/groups/group/{group.pk}/change/").content.decode()

    assert "Vision lab" in listing
    assert "bea@lab.example" in page and "pending@lab.example" in page
    assert "invited (not a member until they confirm)" in page
    assert "anomaly detection" in page


def test_staff_closing_a_group_stop_its_digests_and_reopening_follows_its_schedule(
    make_group, admin_client
):
    group = make_group(members=("bea@lab.example",))
    form = {
        "name": group.name,
        "owner_email": group.owner_email,
        "status": "closed",
        "frequency": "daily",
        "send_hour": 8,
        "time_zone": "UTC",
        "interests-TOTAL_FORMS": 0,
        "interests-INITIAL_FORMS": 0,
        "memberships-TOTAL_FORMS": 0,
        "memberships-INITIAL_FORMS": 0,
    }
    interests = group.interests.all()
    form["interests-TOTAL_FORMS"] = form["interests-INITIAL_FORMS"] = len(interests)
    for n, interest in enumerate(interests):
        form[f"interests-{n}-id"] = interest.pk
        form[f"interests-{n}-group"] = group.pk
        form[f"interests-{n}-text"] = interest.text
    members = group.memberships.all()
    form["memberships-TOTAL_FORMS"] = form["memberships-INITIAL_FORMS"] = len(members)
    for n, membership in enumerate(members):
        form[f"memberships-{n}-id"] = membership.pk
        form[f"memberships-{n}-group"] = group.pk

    response = admin_client.post(f"/admin/groups/group/{group.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:3000]
    group.refresh_from_db()
    assert (group.status, group.next_digest_at) == ("closed", None)

    admin_client.post(f"/admin/groups/group/{group.pk}/change/", {**form, "status": "active"})
    group.refresh_from_db()
    assert group.status == "active" and group.next_digest_at is not None
