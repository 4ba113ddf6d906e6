from django.contrib import admin
from django.db.models import Count

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
    readonly_fields = [
        "signed_up_at",
        "signup_ip",
        "signup_user_agent",
        "confirmed_at",
        "unsubscribed_at",
    ]
    fieldsets = [
        (None, {"fields": ["email", "status"]}),
        ("Schedule", {"fields": ["frequency", "send_hour", "time_zone", "next_digest_at"]}),
        ("Consent record", {"fields": readonly_fields}),
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(interest_count=Count("interests"))

    @admin.display(ordering="interest_count", description="interests")
    def interest_count(self, subscriber: Subscriber) -> int:
        return subscriber.interest_count
