"""Staff see each group: its owner, schedule, interests, members and pending
invitations, and can mail the owner a new manage link."""

from django.contrib import admin, messages
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest

from groups import services
from groups.models import Group, GroupInterest, Membership


class GroupInterestInline(admin.TabularInline):
    model = GroupInterest
    extra = 0
    fields = ["text", "created_at"]
    readonly_fields = ["created_at"]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    can_delete = False
    fields = ["email", "status", "invited_at", "confirmed_at", "confirm_ip", "left_at"]
    readonly_fields = fields
    ordering = ["status", "email"]
    verbose_name = "member or invitation"
    verbose_name_plural = "members and invitations (an invited address is not a member)"

    def has_add_permission(self, request: HttpRequest, obj: Group | None = None) -> bool:
        # Members join by their own confirmation only: the owner invites from the group's
        # manage page.
        return False


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "owner_email",
        "status",
        "frequency",
        "member_count",
        "invitation_count",
        "next_digest_at",
    ]
    list_filter = ["status", "frequency"]
    search_fields = ["name", "owner_email", "memberships__email"]
    readonly_fields = ["next_digest_at", "created_at", "started_at"]
    fields = [
        "name",
        "owner_email",
        "status",
        ("frequency", "send_hour", "time_zone"),
        "next_digest_at",
        ("created_at", "started_at"),
    ]
    inlines = [GroupInterestInline, MembershipInline]
    actions = ["mail_owner_link"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Group]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                members=Count("memberships", filter=Q(memberships__status="active")),
                invitations=Count("memberships", filter=Q(memberships__status="invited")),
            )
        )

    @admin.display(description="members", ordering="members")
    def member_count(self, group: Group) -> int:
        return group.members

    @admin.display(description="pending invitations", ordering="invitations")
    def invitation_count(self, group: Group) -> int:
        return group.invitations

    def save_model(self, request: HttpRequest, group: Group, form, change: bool) -> None:
        # A schedule or status staff changed is followed at once, as the owner's change.
        services.follow_new_schedule(group)
        super().save_model(request, group, form, change)

    @admin.action(description="Mail the owner a new manage link")
    def mail_owner_link(self, request: HttpRequest, queryset: QuerySet[Group]) -> None:
        for group in queryset:
            services.mail_owner_link(group)
        self.message_user(request, f"Mailed {queryset.count()} owner(s).", messages.SUCCESS)
