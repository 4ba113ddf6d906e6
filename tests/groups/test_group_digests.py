"""A group's digest: invite, confirm, and one digest to each member per period, by the
one sender and its exactly-once rules; a member who leaves gets no more; the owner's
new interests make the next digest."""

from dataclasses import replace
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.http import urlencode

from digest import history, sending, tasks
from digest.models import Delivery, Paper
from groups import links, services
from groups import sending as group_sending
from groups import tasks as group_tasks
from groups.models import Group, Membership
from subscriptions import services as subscription_services
from subscriptions import tokens as subscription_tokens
from subscriptions import your_data
from subscriptions.models import Subscriber
from tests.digest.test_source_health import a_stale_and_a_quiet_source
from tests.groups.conftest import OWNER, emails_to, links_in, make_due

# Real commits: invitations and links are mailed by tasks enqueued on commit.
pytestmark = pytest.mark.django_db(transaction=True)

ANOMALY_TITLE = "Performance Anomaly Detection in Athletics"
FOUNDATION_TITLE = "Accelerating Multimodal Foundation Models"


def _group_digests() -> list:
    return [m for m in mail.outbox if "for your Paperboy group" in m.subject]


def test_invite_then_confirm_then_one_digest_to_each_member_even_when_the_task_runs_twice(
    client: Client, ingested_papers
):
    chosen = services.GroupSettings(
        name="Reading club",
        interests=["anomaly detection"],
        frequency="weekly",
        send_hour=8,
        time_zone="Europe/Paris",
    )
    group = services.create_group(OWNER, chosen)
    # The owner's link starts the group (a POST: a GET changes nothing).
    [owner_email] = emails_to(OWNER, "manage link")
    [manage_path] = links_in(owner_email, "manage")
    assert client.get(manage_path).status_code == 200
    assert Group.objects.get().status == Group.Status.PENDING
    client.post(manage_path, {"action": "start"})
    assert Group.objects.get().status == Group.Status.ACTIVE

    response = client.post(
        manage_path, {"action": "invite", "addresses": "bea@lab.example\nCy@Lab.Example"}
    )
    assert "Invited: bea@lab.example, Cy@lab.example" in response.content.decode()
    invitations = emails_to("bea@lab.example") + emails_to("Cy@lab.example")
    assert [m.subject for m in invitations] == ["You are invited to a Paperboy group"] * 2
    # Nothing the owner typed is in an invitation: the page behind its link shows it.
    assert all("Reading club" not in m.body for m in invitations)

    # Invited is not a member: the digest goes to the owner alone.
    make_due(group)
    tasks.dispatch_digests()
    assert [m.to for m in _group_digests()] == [[OWNER]]

    for invitation in invitations:
        [join_path] = links_in(invitation, "join")
        page = client.get(join_path)
        assert "Join Reading club?" in page.content.decode()
        assert "anomaly detection" in page.content.decode()
        assert Membership.objects.get(email=invitation.to[0]).status == "invited"
        joined = client.post(join_path)
        assert "You joined Reading club" in joined.content.decode()
    assert Membership.objects.filter(status="active").count() == 3

    mail.outbox.clear()
    next_week = Group.objects.get().next_digest_at + timedelta(minutes=1)
    # New papers of the coming week, seen after the owner's first digest: when this runs
    # on a Sunday the next send is hours away, not a week (so not a day before it).
    Paper.objects.update(first_seen=next_week - timedelta(seconds=30))
    group_tasks.send_group_digests([group.pk], next_week.isoformat())
    group_tasks.send_group_digests([group.pk], next_week.isoformat())  # a duplicated task
    make_due(group)  # and beat's dispatch, twice, on top
    tasks.dispatch_digests()
    tasks.dispatch_digests()

    digests = _group_digests()
    assert sorted(m.to[0] for m in digests) == sorted([OWNER, "bea@lab.example", "Cy@lab.example"])
    assert all(ANOMALY_TITLE in m.body for m in digests)
    this_week = Delivery.objects.filter(group=group, window_end=next_week)
    assert this_week.count() == 3
    assert set(this_week.values_list("status", flat=True)) == {Delivery.Status.SENT}


def test_a_member_subscribed_on_their_own_gets_both_digests_apart(make_group, make_subscriber):
    reader = make_subscriber(email="bea@lab.example", interests=("foundation models",))
    group = make_group(members=("bea@lab.example",))

    # The group's digest first: today's period of it does not take her own today's.
    group_tasks.send_group_digests([group.pk])
    tasks.dispatch_digests()
    tasks.dispatch_digests()

    to_bea = emails_to("bea@lab.example")
    assert len(to_bea) == 2
    own = next(m for m in to_bea if "on your topics" in m.subject)
    grouped = next(m for m in to_bea if "for your Paperboy group" in m.subject)
    assert FOUNDATION_TITLE in own.body and ANOMALY_TITLE not in own.body
    assert ANOMALY_TITLE in grouped.body and FOUNDATION_TITLE not in grouped.body
    # Each in its own period's row, one of each; the group's leaves her schedule alone.
    assert reader.deliveries.filter(group=None).count() == 1
    assert reader.deliveries.filter(group=group).count() == 1
    assert own.extra_headers["List-Unsubscribe"] != grouped.extra_headers["List-Unsubscribe"]
    assert "/groups/leave/" in grouped.extra_headers["List-Unsubscribe"]


def test_the_group_digest_says_whose_it_is_and_how_to_leave(make_group):
    make_group(members=("bea@lab.example",))
    tasks.dispatch_digests()

    [digest] = emails_to("bea@lab.example")
    html = digest.alternatives[0][0]
    assert "Vision lab" in digest.body and "Vision lab" in html
    assert links_in(digest, "leave") and "/groups/leave/" in html
    # The owner's manage link goes to the owner only.
    assert not links_in(digest, "manage")
    [to_owner] = emails_to(OWNER)
    assert links_in(to_owner, "manage")
    assert digest.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Vision lab" not in digest.subject  # the owner's text stays out of headers
    # No "more like this": the group's papers are its owner's choice, and a member's
    # vote would teach her own digests.
    assert "/feedback/" not in digest.body and "/feedback/" not in html


def test_a_member_who_leaves_gets_no_more_digests(make_group, client: Client):
    group = make_group()
    tasks.dispatch_digests()
    [to_cy] = emails_to("cy@lab.example")
    [leave_path] = links_in(to_cy, "leave")

    page = client.get(leave_path)  # a mail scanner opening the link changes nothing
    assert "Leave Vision lab?" in page.content.decode()
    assert Membership.objects.get(email="cy@lab.example").status == "active"
    left = client.post(leave_path)
    assert "You left Vision lab" in left.content.decode()
    assert Membership.objects.get(email="cy@lab.example").status == "left"

    mail.outbox.clear()
    tomorrow = Group.objects.get().next_digest_at + timedelta(minutes=1)
    Paper.objects.update(first_seen=tomorrow - timedelta(hours=1))
    group_sending.send_groups([group.pk], tomorrow)

    assert sorted(m.to[0] for m in _group_digests()) == ["bea@lab.example", OWNER]
    # Her own invitation link cannot bring her back.
    membership = Membership.objects.get(email="cy@lab.example")
    assert client.post(links.invite_url(membership.pk, "old-key")).status_code == 400


def test_a_digest_claimed_before_the_member_left_is_not_sent(make_group):
    group = make_group(members=("bea@lab.example",))
    held = group_sending.claim_groups([group.pk], timezone.now())
    services.leave(Membership.objects.get(email="bea@lab.example").pk)

    outcome = sending.deliver_many(held.deliveries, held.token)

    assert outcome.counts == {"sent": 1, "skipped": 1}
    assert [m.to for m in _group_digests()] == [[OWNER]]
    skipped = Delivery.objects.get(subscriber__email="bea@lab.example")
    assert skipped.status == Delivery.Status.SKIPPED


def test_the_one_click_post_of_a_mail_program_leaves_the_group(make_group):
    make_group(members=("bea@lab.example",))
    tasks.dispatch_digests()
    [digest] = emails_to("bea@lab.example")
    path = (
        digest.extra_headers["List-Unsubscribe"]
        .strip("<>")
        .removeprefix("https://paperboy.example")
    )

    response = Client(enforce_csrf_checks=True).post(
        path,
        urlencode({"List-Unsubscribe": "One-Click"}),
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    assert Membership.objects.get(email="bea@lab.example").status == "left"
    # Leaving a group is not leaving Paperboy: her address is not unsubscribed.
    assert Subscriber.objects.get(email="bea@lab.example").status == Subscriber.Status.PENDING


def test_the_owner_changing_the_interests_changes_the_next_digest(make_group, client: Client):
    group = make_group(members=("bea@lab.example",))
    tasks.dispatch_digests()
    assert all(ANOMALY_TITLE in m.body for m in _group_digests())
    manage_path = links.manage_url(group.pk).removeprefix("https://paperboy.example")

    bad = client.post(manage_path, {**_form(group), "interests": 'foundation models\n"open'})
    assert bad.status_code == 400
    assert "Line 2: This quote is never closed" in bad.content.decode()
    saved = client.post(manage_path, {**_form(group), "interests": "foundation models"})
    assert "Saved." in saved.content.decode()

    mail.outbox.clear()
    tomorrow = Group.objects.get().next_digest_at + timedelta(minutes=1)
    Paper.objects.update(first_seen=tomorrow - timedelta(hours=1))
    group_sending.send_groups([group.pk], tomorrow)

    digests = _group_digests()
    assert sorted(m.to[0] for m in digests) == ["bea@lab.example", OWNER]
    assert all(FOUNDATION_TITLE in m.body and ANOMALY_TITLE not in m.body for m in digests)


def _form(group: Group) -> dict:
    return {
        "action": "save",
        "name": group.name,
        "interests": "anomaly detection",
        "frequency": group.frequency,
        "send_hour": group.send_hour,
        "time_zone": group.time_zone,
    }


def test_a_schedule_change_follows_the_group_and_never_repeats_a_period(make_group, client):
    group = make_group(members=("bea@lab.example",))
    tasks.dispatch_digests()
    manage_path = links.manage_url(group.pk).removeprefix("https://paperboy.example")

    # Today's digest went out: a new hour today does not bring a second one.
    client.post(manage_path, {**_form(group), "send_hour": 23})
    group.refresh_from_db()
    assert group.next_digest_at.date() > timezone.now().date()
    assert group.send_hour == 23


def test_a_failed_group_digest_is_retried_by_the_reconciler_and_sent_once(
    make_group, settings, time_passes
):
    group = make_group(members=("bea@lab.example",))
    settings.EMAIL_BACKEND = "tests.support.FailingEmailBackend"
    tasks.dispatch_digests()
    assert set(Delivery.objects.values_list("status", flat=True)) == {Delivery.Status.RETRY}

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    time_passes()
    time_passes()

    assert sorted(m.to[0] for m in _group_digests()) == ["bea@lab.example", OWNER]
    assert Delivery.objects.filter(group=group, status=Delivery.Status.SENT).count() == 2


def test_a_group_digest_today_leaves_a_members_own_digest_of_today_due(make_group, make_subscriber):
    reader = make_subscriber(email="bea@lab.example", due=False)
    group = make_group(members=("bea@lab.example",))
    group_tasks.send_group_digests([group.pk])

    # She changes her own schedule to an hour already past today: her own digest of
    # today is due at once, whatever the group sent her.
    earlier = subscription_services.preferences_of(reader)
    # (in the first hour of a UTC day, the hour before is yesterday's: midnight then)
    past_hour = max(timezone.now().hour - 1, 0)
    changed = replace(earlier, send_hour=past_hour, time_zone="UTC")
    subscription_services.update_preferences(reader, changed)
    reader.refresh_from_db()

    assert reader.next_digest_at <= timezone.now()


def test_a_members_own_manage_page_lists_their_groups_with_leave_and_owner_links(
    make_group, client: Client
):
    make_group(members=("bea@lab.example",))
    bea = Subscriber.objects.get(email="bea@lab.example")
    owner = Subscriber.objects.get(email=OWNER)

    def page_of(subscriber: Subscriber) -> str:
        url = subscription_tokens.absolute_url(subscription_tokens.MANAGE, subscriber.pk)
        return client.get(url.removeprefix("https://paperboy.example")).content.decode()

    to_bea, to_owner = page_of(bea), page_of(owner)
    assert "Your groups" in to_bea and "Vision lab" in to_bea
    assert "/groups/leave/" in to_bea and "/groups/manage/" not in to_bea
    assert "/groups/manage/" in to_owner  # a way back to a group whose link expired

    services.leave(Membership.objects.get(email="bea@lab.example").pk)
    assert "Your groups" not in page_of(bea)


def test_claiming_a_groups_digests_takes_the_same_queries_for_two_members_or_ten(
    make_group, django_assert_max_num_queries
):
    small = make_group(members=("a@lab.example", "b@lab.example"), name="Small")
    big = make_group(members=tuple(f"m{n}@lab.example" for n in range(10)), name="Big")
    now = timezone.now()

    with CaptureQueriesContext(connection) as small_queries:
        assert len(group_sending.claim_groups([small.pk], now).deliveries) == 3
    with django_assert_max_num_queries(len(small_queries)):
        assert len(group_sending.claim_groups([big.pk], now).deliveries) == 11


def test_the_web_copy_of_a_group_digest_has_its_papers_and_no_members_links(
    make_group, client: Client
):
    make_group(members=("bea@lab.example",))
    tasks.dispatch_digests()
    [digest] = emails_to("bea@lab.example")
    [web_url] = [w for w in digest.body.split() if "/digest/" in w]

    page = client.get(web_url.removeprefix("https://paperboy.example"))

    assert page.status_code == 200
    assert "in Athletics: A Benchmarking System" in page.content.decode()
    assert "/groups/leave/" not in page.content.decode()  # a copy people forward


def test_a_group_digest_sent_while_a_source_is_stale_says_so_in_one_line(make_group):
    group = make_group(members=("bea@lab.example",))
    now = timezone.now()
    a_stale_and_a_quiet_source(now)
    line = f"arXiv cs.LG has not updated since {now - timedelta(days=5):%A}"

    group_sending.send_groups([group.pk], now)

    [digest] = emails_to("bea@lab.example")
    assert line in digest.body and line in digest.alternatives[0][0]
    assert all(line in d.source_note for d in Delivery.objects.filter(group=group))


def test_a_feed_only_member_gets_the_group_digest_by_email_and_her_feed_keeps_her_own(
    make_group, make_subscriber
):
    reader = make_subscriber(
        email="bea@lab.example", interests=("foundation models",), frequency="feed"
    )
    group = make_group(members=("bea@lab.example",))

    tasks.dispatch_digests()

    assert [m.subject for m in emails_to("bea@lab.example")] == [
        m.subject for m in _group_digests() if m.to == ["bea@lab.example"]
    ]
    assert len(emails_to("bea@lab.example")) == 1
    own = reader.deliveries.get(group=None)
    assert own.status == Delivery.Status.FEED
    assert list(history.past_digests(reader)) == [own]  # her feed and archive: her own
    assert reader.deliveries.get(group=group).status == Delivery.Status.SENT
    # Her data to take away has both, the group's named.
    exported = your_data.export_data(reader)["digests"]
    assert sorted((d["group"] or "") for d in exported) == ["", "Vision lab"]
