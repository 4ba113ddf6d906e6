import csv
from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Count, Min, QuerySet
from django.db.models.functions import Lower
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from digest import recent, sending
from subscriptions import services
from subscriptions.forms import AddressField
from subscriptions.models import ConsentRecord, Interest, Subscriber

# "Pause for 4 weeks" pauses until this many days from today.
PAUSE_DAYS = 28
# The interests page shows this many of the most followed interests.
TOP_INTERESTS = 100

CSV_COLUMNS = [
    "email",
    "status",
    "frequency",
    "send_hour",
    "time_zone",
    "interests",
    "signed_up_at",
    "confirmed_at",
    "unsubscribed_at",
]
# A spreadsheet runs a cell starting with one of these as a formula; emails and
# interests are typed by anyone who signs up (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: object) -> str:
    """The cell as text, quoted with a leading ' where a spreadsheet would run it."""
    if value is None:
        return ""
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


class InterestInline(admin.TabularInline):
    model = Interest
    extra = 1
    fields = ["text", "created_at"]
    readonly_fields = ["created_at"]


class SubscriberAdminForm(forms.ModelForm):
    # Staff type addresses too: the same normalization as the signup form.
    email = AddressField(max_length=254)

    class Meta:
        model = Subscriber
        fields = ["email"]  # the admin adds the others of its fieldsets


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    form = SubscriberAdminForm
    list_display = [
        "email",
        "status",
        "frequency",
        "send_hour",
        "time_zone",
        "interest_count",
        "next_digest_at",
        "signed_up_at",
    ]
    list_filter = ["status", "frequency", ("signed_up_at", admin.DateFieldListFilter)]
    search_fields = ["email", "interests__text"]
    date_hierarchy = "signed_up_at"
    inlines = [InterestInline]
    consent_fields = [
        "signed_up_at",
        "signup_ip",
        "signup_user_agent",
        "confirmed_at",
        "unsubscribed_at",
    ]
    readonly_fields = [*consent_fields, "preview_link", "unconfirmed_signup"]
    fieldsets = [
        (None, {"fields": ["email", "status", "unconfirmed_signup"]}),
        (
            "Schedule",
            {"fields": ["frequency", "send_hour", "time_zone", "next_digest_at", "preview_link"]},
        ),
        ("Consent record", {"fields": consent_fields}),
    ]
    actions = [
        "preview_digest",
        "send_digest_now",
        "pause_four_weeks",
        "resume",
        "export_csv",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(interest_count=Count("interests"))

    @admin.display(ordering="interest_count", description="interests")
    def interest_count(self, subscriber: Subscriber) -> int:
        return subscriber.interest_count

    @admin.display(description="digest")
    def preview_link(self, subscriber: Subscriber) -> str:
        if subscriber.pk is None:
            return "-"
        url = reverse("admin:subscriptions_subscriber_preview", args=[subscriber.pk])
        return format_html('<a href="{}">Preview the digest they would get now</a>', url)

    def get_urls(self):
        preview = self.admin_site.admin_view(self.preview_view)
        interests = self.admin_site.admin_view(self.interests_view)
        # Before the default URLs: their "<path:object_id>/" would take "interests/".
        return [
            path("<int:pk>/preview/", preview, name="subscriptions_subscriber_preview"),
            path("interests/", interests, name="subscriptions_subscriber_interests"),
            *super().get_urls(),
        ]

    def preview_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        subscriber = get_object_or_404(Subscriber, pk=pk)
        if not self.has_view_permission(request, subscriber):
            return HttpResponseRedirect(reverse("admin:index"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": subscriber,
            "title": f"Digest preview for {subscriber.email}",
            "preview": sending.preview(subscriber),
        }
        return TemplateResponse(request, "admin/subscriptions/subscriber/preview.html", context)

    def interests_view(self, request: HttpRequest) -> HttpResponse:
        """The interests active subscribers follow most, and what each found lately."""
        if not self.has_view_permission(request):
            return HttpResponseRedirect(reverse("admin:index"))
        rows = list(
            Interest.objects.filter(subscriber__status=Subscriber.Status.ACTIVE)
            .annotate(key=Lower("text"))
            .values("key")
            # One spelling stands for the group: the engine reads "AND"/"OR" in
            # capitals only, so the lowered key could match differently.
            .annotate(text=Min("text"), followers=Count("subscriber", distinct=True))
            .order_by("-followers", "key")[:TOP_INTERESTS]
        )
        # The live preview's index of recent papers, built once per process.
        index = recent.recent_index()
        for row in rows:
            row["matched"] = index.match([row["text"]]).total
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Most followed interests",
            "rows": rows,
            "days": recent.PREVIEW_DAYS,
            "top": TOP_INTERESTS,
            "paper_count": len(index.papers),
        }
        return TemplateResponse(request, "admin/subscriptions/subscriber/interests.html", context)

    @admin.action(description="Preview digest (one subscriber)")
    def preview_digest(self, request: HttpRequest, queryset) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(
                request, "Select exactly one subscriber to preview.", messages.WARNING
            )
            return None
        url = reverse("admin:subscriptions_subscriber_preview", args=[queryset.get().pk])
        return HttpResponseRedirect(url)

    @admin.action(description="Send digest now", permissions=["change"])
    def send_digest_now(self, request: HttpRequest, queryset: QuerySet[Subscriber]) -> None:
        selected = list(queryset)
        queued = sum(services.send_digest_now(subscriber) for subscriber in selected)
        skipped = len(selected) - queued
        message = (
            f"Queued the digest of {queued} subscriber{'s' if queued != 1 else ''}; "
            "one who already had this period's digest gets nothing more."
        )
        if skipped:
            message += f" {skipped} not active, so left alone."
        self.message_user(request, message, messages.SUCCESS if queued else messages.WARNING)

    @admin.action(description=f"Pause for {PAUSE_DAYS // 7} weeks", permissions=["change"])
    def pause_four_weeks(self, request: HttpRequest, queryset: QuerySet[Subscriber]) -> None:
        until = timezone.localdate() + timedelta(days=PAUSE_DAYS)
        count = 0
        for subscriber in queryset:
            services.pause(subscriber, until)
            count += 1
        self.message_user(request, f"Paused {count} subscriber(s) until {until:%Y-%m-%d}.")

    @admin.action(description="Resume", permissions=["change"])
    def resume(self, request: HttpRequest, queryset: QuerySet[Subscriber]) -> None:
        count = 0
        for subscriber in queryset:
            services.resume(subscriber)
            count += 1
        self.message_user(request, f"Resumed {count} subscriber(s).")

    @admin.action(description="Export as CSV")
    def export_csv(self, request: HttpRequest, queryset: QuerySet[Subscriber]) -> HttpResponse:
        stamp = timezone.now().strftime("%Y%m%d-%H%M")
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="subscribers-{stamp}.csv"'
        writer = csv.writer(response)
        writer.writerow(CSV_COLUMNS)
        for subscriber in queryset.prefetch_related("interests").order_by("pk"):
            interests = " | ".join(interest.text for interest in subscriber.interests.all())
            writer.writerow(
                csv_safe(value)
                for value in (
                    subscriber.email,
                    subscriber.status,
                    subscriber.frequency,
                    subscriber.send_hour,
                    subscriber.time_zone,
                    interests,
                    subscriber.signed_up_at,
                    subscriber.confirmed_at,
                    subscriber.unsubscribed_at,
                )
            )
        return response

    # Deleting from the admin, one or many, goes through the service so the
    # consent record (proof of consent and its end) outlives the address.
    def delete_model(self, request: HttpRequest, obj: Subscriber) -> None:
        services.delete_everything(obj, by="staff")

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Subscriber]) -> None:
        with transaction.atomic():  # all selected or none, as the bulk delete would
            for subscriber in queryset:
                services.delete_everything(subscriber, by="staff")


@admin.register(ConsentRecord)
class ConsentRecordAdmin(admin.ModelAdmin):
    """Read-only: these records are evidence, made only by deleting a subscriber."""

    list_display = [
        "short_hash",
        "signed_up_at",
        "confirmed_at",
        "unsubscribed_at",
        "deleted_at",
        "deleted_by",
    ]
    list_filter = ["deleted_by", ("deleted_at", admin.DateFieldListFilter)]
    # A hash prefix works as is; an address is hashed first (get_search_results).
    search_fields = ["^email_sha256"]
    search_help_text = "An exact email address, or the start of its SHA-256."

    @admin.display(description="email SHA-256", ordering="email_sha256")
    def short_hash(self, record: ConsentRecord) -> str:
        return f"{record.email_sha256[:12]}…"

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[ConsentRecord], search_term: str
    ) -> tuple[QuerySet[ConsentRecord], bool]:
        if "@" in search_term:
            return queryset.filter(email_sha256=services.email_digest(search_term)), False
        return super().get_search_results(request, queryset, search_term)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
