"""A group's way through the site, in a real browser (Debian's Chromium via Playwright):
start a group, start it from the owner's link in the outbox, invite an address, open
the invitation in the outbox, join (an invited address is not a member until it
presses the button), read the group's digest, and leave from its link."""

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from digest import tasks
from groups import links
from groups.models import Group, Membership

pytestmark = pytest.mark.django_db(transaction=True)


def _open_newest_email(page: Page, base: str, subject_part: str) -> None:
    page.goto(f"{base}/outbox/")
    page.get_by_role("link", name=subject_part).first.click()
    page.get_by_text("Plain-text part").click()


def test_start_a_group_invite_join_read_its_digest_and_leave(
    page: Page, live_server, ingested_papers, screenshot
):
    base = live_server.url
    page.goto(f"{base}/groups/new/")
    page.get_by_label("The group's name").fill("Vision lab")
    page.get_by_label("Your email address").fill("owner@lab.example")
    page.get_by_label("The group's interests").fill("anomaly detection")
    page.get_by_label("Daily").check()
    page.get_by_role("button", name="Start the group").click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()

    _open_newest_email(page, base, "Your Paperboy group: its manage link")
    page.get_by_role("link", name="/groups/manage/").click()
    expect(page.get_by_role("heading", name="Vision lab")).to_be_visible()
    page.get_by_role("button", name="Start the group").click()
    expect(page.get_by_role("status")).to_contain_text("you are its first member")
    page.get_by_label("Invite by address").fill("bea@lab.example")
    page.get_by_role("button", name="Invite").click()
    expect(page.get_by_role("status")).to_contain_text("Invited: bea@lab.example")
    expect(page.get_by_text("bea@lab.example, invited")).to_be_visible()
    screenshot(page, "group-manage.png")
    assert Membership.objects.get(email="bea@lab.example").status == "invited"

    _open_newest_email(page, base, "You are invited to a Paperboy group")
    page.get_by_role("link", name="/groups/join/").click()
    expect(page.get_by_role("heading", name="Join Vision lab?")).to_be_visible()
    expect(page.get_by_text("anomaly detection")).to_be_visible()
    screenshot(page, "group-join.png")
    assert Membership.objects.get(email="bea@lab.example").status == "invited"
    page.get_by_role("button", name="Yes, join the group").click()
    expect(page.get_by_role("heading", name="You joined Vision lab")).to_be_visible()
    assert Membership.objects.get(email="bea@lab.example").status == "active"

    Group.objects.update(next_digest_at=Group.objects.get().started_at)
    tasks.dispatch_digests()
    tasks.dispatch_digests()

    page.goto(f"{base}/outbox/")
    digests = page.get_by_role("link", name="for your Paperboy group")
    expect(digests).to_have_count(2)  # the owner's and Bea's, once each
    _open_newest_email(page, base, "for your Paperboy group")
    digest = page.frame_locator("iframe.email-frame")
    expect(digest.get_by_text("Vision lab").first).to_be_visible()
    expect(digest.get_by_role("link", name="Performance Anomaly Detection")).to_be_visible()
    leave_link = page.get_by_role("link", name="/groups/leave/")
    to = Membership.objects.get(pk=int(_member_of_link(page))).email
    leave_link.click()
    expect(page.get_by_role("heading", name="Leave Vision lab?")).to_be_visible()
    page.get_by_role("button", name="Leave the group").click()
    expect(page.get_by_role("heading", name="You left Vision lab")).to_be_visible()
    assert Membership.objects.get(email=to).status == "left"


def _member_of_link(page: Page) -> str:
    """The membership the newest digest's leave link names, read from the signed link."""
    href = page.get_by_role("link", name="/groups/leave/").get_attribute("href")
    token = urlsplit(href).path.rstrip("/").rsplit("/", 1)[-1]
    return str(links.read_id(links.LEAVE, token, "m"))
