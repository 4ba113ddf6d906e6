"""Fixtures of the group tests: a started group, its members, and the links of its email."""

import re
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.utils import timezone

from groups import services
from groups.models import Group, Membership

OWNER = "owner@lab.example"


def links_in(message, kind: str) -> list[str]:
    """The paths of the `kind` links ("join", "leave", "manage") in an email's text part."""
    found = re.findall(rf"https?://\S+/groups/{kind}/\S+?/(?=\s|$)", message.body)
    return [urlsplit(url).path for url in found]


def emails_to(address: str, subject_part: str = "") -> list:
    return [m for m in mail.outbox if address in m.to and subject_part in m.subject]


def make_due(group: Group) -> None:
    Group.objects.filter(pk=group.pk).update(next_digest_at=timezone.now() - timedelta(minutes=1))


@pytest.fixture
def make_group(db, ingested_papers) -> Callable[..., Group]:
    """A started group (its owner its first member), whose invited `members` confirmed;
    due now, with the outbox emptied."""

    def make(
        members: tuple[str, ...] = ("bea@lab.example", "cy@lab.example"),
        interests: tuple[str, ...] = ("anomaly detection",),
        frequency: str = "daily",
        name: str = "Vision lab",
    ) -> Group:
        chosen = services.GroupSettings(
            name=name, interests=interests, frequency=frequency, send_hour=8, time_zone="UTC"
        )
        group = services.create_group(OWNER, chosen)
        services.start(group)
        group.refresh_from_db()
        services.invite(group, list(members))
        for membership in Membership.objects.filter(group=group, status="invited"):
            services.join(membership.pk, membership.invite_key)
        make_due(group)
        group.refresh_from_db()
        mail.outbox.clear()
        return group

    return make
