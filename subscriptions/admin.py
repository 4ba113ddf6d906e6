from django.contrib import admin, messages
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from digest import sending
from subscriptions.models import Interest, Subscriber


class InterestInline(admin.TabularInline):
    model = Interest
    extra = 1
    fields = ["text", "created_at"]
    readonly_fields = ["created_at"]


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
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
    readonly_fields = [*consent_fields, "preview_link"]
    fieldsets = [
        (None, {"fields": ["email", "status"]}),
        (
            "Schedule",
            {"fields": ["frequency", "send_hour", "time_zone", "next_digest_at", "preview_link"]},
        ),
        ("Consent record", {"fields": consent_fields}),
    ]
    actions = ["preview_digest"]

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
        return [
            path("<int:pk>/preview/", preview, name="subscriptions_subscriber_preview"),
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

    @admin.action(description="Preview digest (one subscriber)")
    def preview_digest(self, request: HttpRequest, queryset) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(
                request, "Select exactly one subscriber to preview.", messages.WARNING
            )
            return None
        url = reverse("admin:subscriptions_subscriber_preview", args=[queryset.get().pk])
        return HttpResponseRedirect(url)
