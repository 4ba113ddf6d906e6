"""Start a group, the owner's manage page, join and leave. Thin: the rules are in
groups/services.py. The pages behind a signed link are token pages, as the
subscriber's: no-store, no Referer, csrf_exempt (the token is the secret a forgery
would need), and GET never changes anything: mail scanners open links."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from groups import links, services
from groups.forms import GroupForm, InviteForm, StartGroupForm
from groups.models import Group, Membership
from subscriptions import mailed_to, ratelimit, tokens
from subscriptions.decorators import token_page
from subscriptions.visitors import client_ip


def _bad_link(request: HttpRequest, error: tokens.BadToken) -> HttpResponse:
    return render(request, "subscriptions/bad_link.html", {"message": str(error)}, status=400)


def _too_many(request: HttpRequest, action: str, per_hour: int) -> bool:
    return not ratelimit.allow(f"{action}-ip:{client_ip(request)}", per_hour, 3600)


def _settings(form: GroupForm) -> services.GroupSettings:
    data = form.cleaned_data
    return services.GroupSettings(
        name=data["name"],
        interests=data["interests"],
        frequency=data["frequency"],
        send_hour=data["send_hour"],
        time_zone=data["time_zone"],
    )


@require_http_methods(["GET", "HEAD", "POST"])
def start_group(request: HttpRequest) -> HttpResponse:
    """A new group: its manage link goes to the address given, which must start it."""
    form = StartGroupForm(request.POST or None)
    if request.method == "POST":
        if _too_many(request, "group-start", settings.SIGNUP_RATE_LIMIT_PER_HOUR):
            return render(request, "subscriptions/rate_limited.html", status=429)
        if form.is_valid():
            if not form.is_bot():
                services.create_group(form.cleaned_data["email"], _settings(form))
            # The same answer for every address, known or not.
            response = redirect("subscriptions:check_inbox")
            mailed_to.remember(response, form.cleaned_data["email"])
            return response
    context = {"form": form, "time_zones": GroupForm.time_zone_names()}
    return render(request, "groups/start.html", context)


def _manage_page(
    request: HttpRequest,
    group: Group,
    form: GroupForm | None = None,
    invite_form: InviteForm | None = None,
    status: int = 200,
    **extra: object,
) -> HttpResponse:
    memberships = list(group.memberships.order_by("email"))
    initial = services.settings_of(group)
    context = {
        "group": group,
        "form": form
        or GroupForm(
            initial={
                "name": initial.name,
                "interests": "\n".join(initial.interests),
                "frequency": initial.frequency,
                "send_hour": initial.send_hour,
                "time_zone": initial.time_zone,
            }
        ),
        "invite_form": invite_form or InviteForm(),
        "time_zones": GroupForm.time_zone_names(),
        "members": [m for m in memberships if m.status == Membership.Status.ACTIVE],
        "pending": [m for m in memberships if m.status == Membership.Status.INVITED],
        "own_membership": next(
            (
                m
                for m in memberships
                if m.status == Membership.Status.ACTIVE
                and m.email.lower() == group.owner_email.lower()
            ),
            None,
        ),
        **extra,
    }
    if context["own_membership"]:
        context["leave_url"] = links.leave_url(context["own_membership"].pk)
    return render(request, "groups/manage.html", context, status=status)


@csrf_exempt  # the signed token is the secret a forgery would need (token_page)
@token_page
@require_http_methods(["GET", "HEAD", "POST"])
def manage(request: HttpRequest, token: str) -> HttpResponse:
    """The owner's page: start the group, change its interests and schedule, invite by
    address, withdraw an invitation."""
    try:
        group_id = links.read_id(links.MANAGE, token, "g")
    except tokens.BadToken as error:
        return _bad_link(request, error)
    group = Group.objects.filter(pk=group_id).exclude(status=Group.Status.CLOSED).first()
    if group is None:
        return _bad_link(request, tokens.BadToken("This link is not valid."))
    if request.method != "POST":
        return _manage_page(request, group)
    action = request.POST.get("action", "save")
    if action == "start":
        services.start(group, client_ip(request), request.headers.get("User-Agent", ""))
        group.refresh_from_db()
        return _manage_page(request, group, started=True)
    if action == "invite":
        if _too_many(request, "group-invite", settings.SIGNUP_RATE_LIMIT_PER_HOUR):
            return render(request, "subscriptions/rate_limited.html", status=429)
        invite_form = InviteForm(request.POST)
        if not invite_form.is_valid():
            return _manage_page(request, group, invite_form=invite_form, status=400)
        done = services.invite(group, invite_form.cleaned_data["addresses"])
        return _manage_page(request, group, invite_result=done)
    if action == "withdraw":
        membership = request.POST.get("membership", "")
        if membership.isdigit():
            services.withdraw(group, int(membership))
        return _manage_page(request, group, withdrawn=True)
    form = GroupForm(request.POST)
    if not form.is_valid():
        return _manage_page(request, group, form=form, status=400)
    services.update_group(group, _settings(form))
    group.refresh_from_db()
    return _manage_page(request, group, saved=True)


@csrf_exempt  # the signed token is the secret a forgery would need (token_page)
@token_page
@require_http_methods(["GET", "HEAD", "POST"])
def join(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows the group (its name, interests, schedule, owner) and a button; POST
    makes the invited address a member."""
    try:
        payload = links.read_token(links.INVITE, token)
        membership_id, key = payload.get("m"), payload.get("k")
        if not isinstance(membership_id, int) or not isinstance(key, str):
            raise tokens.BadToken("This link is not valid.")
        if request.method != "POST":
            invitation = services.invitation_of(membership_id, key)
            return render(request, "groups/join.html", {"invitation": invitation})
        membership = services.join(
            membership_id, key, client_ip(request), request.headers.get("User-Agent", "")
        )
    except tokens.BadToken as error:
        return _bad_link(request, error)
    context = {
        "membership": membership,
        "group": membership.group,
        "leave_url": links.leave_url(membership.pk),
    }
    return render(request, "groups/joined.html", context)


@csrf_exempt  # RFC 8058: mail providers POST here with no cookies and no token.
@token_page
@require_http_methods(["GET", "HEAD", "POST"])
def leave(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows the button and changes nothing; POST leaves the group (the one-click
    POST of a mail program too)."""
    try:
        membership_id = links.read_id(links.LEAVE, token, "m")
    except tokens.BadToken as error:
        return _bad_link(request, error)
    membership = Membership.objects.select_related("group").filter(pk=membership_id).first()
    if membership is None:
        return _bad_link(request, tokens.BadToken("This link is not valid."))
    if request.method != "POST":
        return render(request, "groups/leave.html", {"membership": membership})
    services.leave(membership_id)
    return render(request, "groups/left.html", {"membership": membership})
