from datetime import datetime, timedelta

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Min, Q, QuerySet
from django.db.models.functions import Lower
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from digest import recent, seeds, sending, staff_preview
from digest.matching import InterestSyntaxError, like, validate_interest
from subscriptions import export, reader_feedback, services
from subscriptions.forms import CATEGORY_CHOICES, AddressField, checked_pause_end
from subscriptions.models import ConsentRecord, Interest, Subscriber

# "Pause for 4 weeks" pauses until this many days from today.
PAUSE_DAYS = 28
# The interests page shows this many of the most followed interests.
TOP_INTERESTS = 100

# The windows the preview shows: since the last digest (what "send now" would send),
# or the last days whatever was sent already.
PREVIEW_WINDOWS = {"last": "since their last digest", "1": "the last day", "7": "the last 7 days"}
# How a subscriber added by staff starts.
START_WITH_CONFIRMATION = "confirm"
START_ACTIVE = "activate"


def preview_since(window: str, now: datetime) -> datetime | None:
    """Where a preview of `window` (a key of PREVIEW_WINDOWS) starts; None: at the end
    of the subscriber's last digest."""
    return None if window == "last" else now - timedelta(days=int(window))


def _paper_link(paper: recent.PreviewPaper) -> str:
    if not paper.url:
        return paper.title
    return format_html('<a href="{}">{}</a>', paper.url, paper.title)


def _report_row(feedback: recent.InterestFeedback) -> tuple:
    """One interest's row of the subscriber page's report: its papers, the best one, what
    to look at; a like line finds none by words and names the paper it follows."""
    if feedback.note:
        paper = _paper_link(feedback.example) if feedback.example else ""
        return (feedback.interest, "-", "-", format_html("{} {}", feedback.note, paper))
    best = _paper_link(feedback.example) if feedback.example else "-"
    return (feedback.interest, feedback.matches, best, feedback.message)


class InterestFormSet(BaseInlineFormSet):
    """The interests typed on the subscriber page, refused when one repeats another."""

    def clean(self) -> None:
        super().clean()
        seen: dict[str, str] = {}
        for form in self.forms:
            if form.errors or not form.cleaned_data or form.cleaned_data.get("DELETE"):
                continue
            text = form.instance.text  # as Interest.clean left it
            # Compared without case, as parse_interest_lines does for the signup
            # and manage forms: "Anomaly Detection" finds what "anomaly detection" finds.
            key = text.lower()
            if key in seen:
                form.add_error(
                    "text",
                    f"“{text}” repeats the interest “{seen[key]}” (interests are the "
                    "same whatever their case).",
                )
            else:
                seen[key] = text
        self._check_seeds()

    def _check_seeds(self) -> None:
        """Each like line's paper found (or fetched from arXiv and stored), as the
        signup and manage forms do; the refusal on the line it is about."""
        lines = {
            form.instance.text: form
            for form in self.forms
            if not form.errors
            and form.cleaned_data
            and not form.cleaned_data.get("DELETE")
            and like.is_like(form.instance.text)
        }
        if not lines:
            return
        try:
            resolved = seeds.resolve(like.seed_ids(lines))
        except seeds.SeedError as error:
            raise ValidationError(error.messages) from None
        for text, form in lines.items():
            if like.like_id(text) in resolved.missing:
                form.add_error("text", seeds.missing_message(like.like_id(text)))


class InterestInline(admin.TabularInline):
    model = Interest
    formset = InterestFormSet
    extra = 1
    fields = ["text", "created_at"]
    readonly_fields = ["created_at"]


class SubscriberAdminForm(forms.ModelForm):
    # Staff type addresses too: the same normalization as the signup form.
    email = AddressField(max_length=254)
    categories = forms.MultipleChoiceField(
        choices=CATEGORY_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Only papers in these arXiv categories; none ticked: all.",
    )
    start = forms.ChoiceField(
        label="How they start",
        choices=[
            (
                START_WITH_CONFIRMATION,
                "Mail them the confirmation link: pending until they press it",
            ),
            (START_ACTIVE, "Active at once: they agreed elsewhere (say how below)"),
        ],
        initial=START_WITH_CONFIRMATION,
        widget=forms.RadioSelect,
    )
    staff_reason = forms.CharField(
        label="How they agreed",
        required=False,
        max_length=300,
        help_text="Needed to make them active without the confirmation link: where and how "
        "they asked for the digests. Kept in their consent record, with your name.",
    )

    class Meta:
        model = Subscriber
        fields = ["email"]  # the admin adds the others of its fieldsets

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            del self.fields["start"]  # a choice for new subscribers only
        # Categories saved before the choices changed stay choices, so saving keeps them.
        offered = {value for value, _ in CATEGORY_CHOICES}
        kept = [(c, c) for c in self.instance.categories if c not in offered]
        self.fields["categories"].choices = [*CATEGORY_CHOICES, *kept]

    def clean_paused_until(self):
        return checked_pause_end(self.cleaned_data.get("paused_until"))

    def activates(self) -> bool:
        """True when saving makes the subscriber active without their confirmation."""
        if self.instance.pk is None:
            return self.cleaned_data.get("start") == START_ACTIVE
        return (
            "status" in self.changed_data
            and self.cleaned_data.get("status") == Subscriber.Status.ACTIVE
        )

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.activates() and not cleaned.get("staff_reason", "").strip():
            self.add_error(
                "staff_reason",
                "Say how they agreed to get digests, or let the confirmation link ask them.",
            )
        return cleaned


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    form = SubscriberAdminForm
    list_display = [
        "email",
        "status",
        "frequency",
        "send_hour",
        "time_zone",
        "paused_until",
        "interest_count",
        "seed_count",
        "feedback_counts",
        "has_model",
        "next_digest_at",
        "signed_up_at",
    ]
    list_filter = [
        "status",
        "frequency",
        ("paused_until", admin.EmptyFieldListFilter),
        ("signed_up_at", admin.DateFieldListFilter),
    ]
    search_fields = ["email", "interests__text"]
    date_hierarchy = "signed_up_at"
    inlines = [InterestInline]
    consent_fields = [
        "signed_up_at",
        "signup_ip",
        "signup_user_agent",
        "confirmed_at",
        "unsubscribed_at",
        "consent_note",
    ]
    readonly_fields = [
        *consent_fields,
        "preview_link",
        "unconfirmed_signup",
        "interest_report",
        "feedback_report",
        "model_report",
    ]
    actions = [
        "preview_digest",
        "send_digest_now",
        "pause_four_weeks",
        "resume",
        "export_csv",
    ]
    # Saving these moves the next digest to follow them (unless staff set it themselves).
    schedule_fields = ["frequency", "send_hour", "time_zone", "paused_until"]

    def get_fieldsets(self, request, obj=None):
        if obj is None:  # adding: no consent to show yet, and the next digest comes by itself
            return [
                (None, {"fields": ["email", "start", "staff_reason"]}),
                (
                    "Schedule",
                    {
                        "fields": [
                            "frequency",
                            "send_hour",
                            "time_zone",
                            "categories",
                            "digest_length",
                        ]
                    },
                ),
            ]
        # The reason is asked only of staff who could make the subscriber active.
        reason = [] if obj.status == Subscriber.Status.ACTIVE else ["staff_reason"]
        return [
            (None, {"fields": ["email", "status", *reason, "unconfirmed_signup"]}),
            (
                "Schedule",
                {
                    "fields": [
                        "frequency",
                        "send_hour",
                        "time_zone",
                        "categories",
                        "digest_length",
                        "paused_until",
                        "next_digest_at",
                        "preview_link",
                    ]
                },
            ),
            (
                f"Their interests in the last {recent.PREVIEW_DAYS} days",
                {"fields": ["interest_report"]},
            ),
            ("Their feedback", {"fields": ["feedback_report", "model_report"]}),
            ("Consent record", {"fields": self.consent_fields}),
        ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if obj is not None:
            form.base_fields["staff_reason"].label = "Why staff activate them"
            form.base_fields["staff_reason"].help_text = (
                "Only when you set the status to active: how they agreed to get digests. "
                "Kept in their consent record, with your name."
            )
        return form

    def save_model(self, request, obj: Subscriber, form, change: bool) -> None:
        reason = form.cleaned_data.get("staff_reason", "").strip()
        staff = request.user.get_username()
        if not change:
            services.add_by_staff(obj, staff, reason if form.activates() else "")
            return
        if form.activates():
            services.activate_by_staff(obj, staff, reason)
            return
        changed = set(form.changed_data)
        if "next_digest_at" not in changed and not changed.isdisjoint(self.schedule_fields):
            services.follow_new_schedule(obj)
        super().save_model(request, obj, form, change)

    def response_add(self, request, obj: Subscriber, post_url_continue=None):
        if obj.status == Subscriber.Status.PENDING:
            self.message_user(
                request,
                f"{obj.email} gets the confirmation link and stays pending until they press it.",
            )
        return super().response_add(request, obj, post_url_continue)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                interest_count=Count("interests"),
                # Its like: lines (digest.seeds): the papers its learned ranking starts from.
                seed_count=Count("interests", filter=Q(interests__text__istartswith="like:")),
                **reader_feedback.counts(),
                has_model=reader_feedback.has_model(),
            )
        )

    @admin.display(ordering="seed_count", description="seeds")
    def seed_count(self, subscriber: Subscriber) -> int:
        return subscriber.seed_count

    @admin.display(ordering="interest_count", description="interests")
    def interest_count(self, subscriber: Subscriber) -> int:
        return subscriber.interest_count

    @admin.display(ordering="feedback_more", description="more / less")
    def feedback_counts(self, subscriber: Subscriber) -> str:
        return f"{subscriber.feedback_more} / {subscriber.feedback_less}"

    @admin.display(boolean=True, ordering="has_model", description="model")
    def has_model(self, subscriber: Subscriber) -> bool:
        return subscriber.has_model

    @admin.display(description="their model")
    def model_report(self, subscriber: Subscriber) -> str:
        return reader_feedback.model_report(subscriber)

    @admin.display(description="latest clicks")
    def feedback_report(self, subscriber: Subscriber) -> str:
        return reader_feedback.report(subscriber)

    @admin.display(description="digest")
    def preview_link(self, subscriber: Subscriber) -> str:
        if subscriber.pk is None:
            return "-"
        url = reverse("admin:subscriptions_subscriber_preview", args=[subscriber.pk])
        return format_html(
            '<a href="{}">Preview the digest they would get now</a>, or of the last days, '
            "and mail it to yourself",
            url,
        )

    @admin.display(description="each interest")
    def interest_report(self, subscriber: Subscriber) -> str:
        """What each saved interest finds among the recent papers (in their categories),
        its best paper, and a warning for one that finds nothing (with the spelling it
        may mean) or nearly everything: the signup and manage pages' own feedback."""
        lines = [interest.text for interest in subscriber.interests.all()]
        if not lines:
            return "No interests."
        valid, invalid = [], []
        for line in lines:
            try:
                valid.append(validate_interest(line))
            except InterestSyntaxError as error:  # saved before a rule of the language
                invalid.append((line, str(error)))
        rows = [
            _report_row(feedback)
            for feedback in recent.interest_feedback(valid, subscriber.categories)
        ]
        rows += [(line, "-", "-", error) for line, error in invalid]
        body = format_html_join(
            "",
            '<tr><td><code>{}</code></td><td class="matches">{}</td><td>{}</td>'
            '<td class="warning">{}</td></tr>',
            rows,
        )
        return format_html(
            '<table class="interest-report"><thead><tr><th>interest</th><th>papers</th>'
            "<th>the best of them</th><th>to look at</th></tr></thead><tbody>{}</tbody></table>",
            body,
        )

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
        """The digest of a window (GET), and that digest mailed to the staff member (POST)."""
        subscriber = get_object_or_404(Subscriber, pk=pk)
        if not self.has_view_permission(request, subscriber):
            return HttpResponseRedirect(reverse("admin:index"))
        window = request.POST.get("window") or request.GET.get("window") or "last"
        if window not in PREVIEW_WINDOWS:
            window = "last"
        now = timezone.now()
        preview = sending.preview(subscriber, now, since=preview_since(window, now))
        if request.method == "POST":
            self._send_test_digest(request, subscriber, preview)
            here = reverse("admin:subscriptions_subscriber_preview", args=[pk])
            return HttpResponseRedirect(f"{here}?window={window}")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": subscriber,
            "title": f"Digest preview for {subscriber.email}",
            "preview": preview,
            "window": window,
            "windows": PREVIEW_WINDOWS,
            "can_send_test": self.has_change_permission(request, subscriber),
        }
        return TemplateResponse(request, "admin/subscriptions/subscriber/preview.html", context)

    def _send_test_digest(
        self, request: HttpRequest, subscriber: Subscriber, preview: sending.Preview
    ) -> None:
        if not self.has_change_permission(request, subscriber):
            self.message_user(request, "You may not send test digests.", messages.ERROR)
            return
        to = request.user.email
        if not to:
            self.message_user(
                request,
                "Your staff account has no email address to send the test digest to: "
                "add one to your user first.",
                messages.ERROR,
            )
            return
        staff_preview.send_test_digest(subscriber, preview, to)
        self.message_user(
            request,
            f"Sent the test digest ({len(preview.shown)} paper(s)) to {to}; "
            f"{subscriber.email} got nothing and their schedule is as it was.",
            messages.SUCCESS,
        )

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
            "one who already had this period's digest gets nothing more "
            "(to see a digest again, mail yourself a test digest from its preview)."
        )
        if skipped:
            message += f" {skipped} not active, so left alone."
        self.message_user(request, message, messages.SUCCESS if queued else messages.WARNING)

    @admin.action(description=f"Pause for {PAUSE_DAYS // 7} weeks", permissions=["change"])
    def pause_four_weeks(self, request: HttpRequest, queryset: QuerySet[Subscriber]) -> None:
        # Four weeks from each subscriber's own today, as the unsubscribe page's pause.
        days = {services.pause_for(s, timedelta(days=PAUSE_DAYS)) for s in queryset}
        count = queryset.count()
        if len(days) == 1:
            self.message_user(request, f"Paused {count} subscriber(s) until {min(days):%Y-%m-%d}.")
        else:
            self.message_user(
                request,
                f"Paused {count} subscriber(s) for four weeks, until {min(days):%Y-%m-%d} to "
                f"{max(days):%Y-%m-%d} in their own time zones.",
            )

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
        export.write_csv(queryset.prefetch_related("interests").order_by("pk"), response)
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
