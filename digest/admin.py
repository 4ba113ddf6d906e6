from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.timesince import timesince

from digest import compose, sending, source_setup
from digest import health as source_health
from digest.models import Delivery, Feedback, Paper, Source
from digest.sources import ARXIV_KINDS, HUGGING_FACE_KINDS, KIND_LABELS, health, kind_for_url
from digest.sources.addresses import is_allowed, refusal_for_url
from digest.sources.ids import is_arxiv_host, is_hugging_face_host


def _service_kind_error(kind: str, host: str) -> str:
    """Why `kind` cannot be read from `host`: arXiv's kinds speak for arXiv's papers."""
    if is_allowed(host, settings.FETCH_ALLOWED_HOSTS):
        return ""  # an intranet mirror, a test server
    if kind in ARXIV_KINDS and not is_arxiv_host(host):
        return (
            "The arXiv kinds are for arxiv.org addresses: their feeds describe arXiv's papers. "
            "Choose “Any RSS or Atom feed” for a feed elsewhere."
        )
    if kind in HUGGING_FACE_KINDS and not is_hugging_face_host(host):
        return "The Hugging Face kinds are for huggingface.co addresses."
    return ""


class SourceForm(forms.ModelForm):
    """Adding a source takes a URL; the kind is detected from it unless chosen.

    URLs of hosts that are not public (loopback, private networks, cloud
    metadata, local names) are refused here; names that resolve to such
    addresses are refused at every fetch (digest.sources.addresses). A feed that
    is a source already, however its URL is spelled, is refused with its name.
    """

    url = forms.URLField(label="URL", max_length=500, assume_scheme="https")
    name = forms.CharField(
        max_length=100,
        required=False,
        help_text="Leave empty for one made from the URL (“arXiv cs.LG”).",
    )
    kind = forms.ChoiceField(
        choices=[("", "Detect from the URL"), *KIND_LABELS.items()],
        required=False,
        help_text="Leave on “Detect” for arXiv, Hugging Face and ordinary RSS/Atom URLs.",
    )

    class Meta:
        model = Source
        fields = ["url", "name", "kind", "enabled"]

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        refusal = refusal_for_url(url, settings.FETCH_ALLOWED_HOSTS)
        if refusal:
            raise forms.ValidationError(f"Paperboy will not fetch this URL: {refusal}.")
        existing = source_setup.source_with_same_feed(url, other_than=self.instance.pk)
        if existing is not None:
            raise forms.ValidationError(
                f"This feed is a source already: “{existing.name}” ({existing.url})."
            )
        return url

    def clean_name(self) -> str:
        name = self.cleaned_data["name"]
        if name and Source.objects.exclude(pk=self.instance.pk).filter(name=name).exists():
            raise forms.ValidationError(
                f"A source is named “{name}” already: choose another name, or leave it "
                "empty for one made from the URL."
            )
        return name

    def clean(self) -> dict:
        cleaned = super().clean()
        url = cleaned.get("url")
        if url:
            kind = cleaned["kind"] = cleaned.get("kind") or kind_for_url(url)
            if error := _service_kind_error(kind, urlsplit(url).hostname or ""):
                self.add_error("kind", error)
            if not cleaned.get("name") and "name" not in self.errors:
                cleaned["name"] = source_setup.unused_name(url, kind, other_than=self.instance.pk)
        return cleaned


# Short enough for the list to fit a laptop's screen; the form shows the long labels.
SHORT_KIND_LABELS = {
    "arxiv_rss": "arXiv RSS",
    "arxiv_rss_legacy": "arXiv RDF",
    "arxiv_api": "arXiv API",
    "hf_daily": "HF daily",
    "hf_page": "HF page",
    "feed": "RSS/Atom",
}
HEALTH_FIELDS = [
    "state",
    "content_changed_at",
    "feed_built_at",
    "schedule_hints",
    "stale_reported_at",
    "last_status",
    "last_fetched_at",
    "last_success_at",
    "last_summary",
    "consecutive_failures",
    "last_error",
    "last_dropped",
    "last_problems",
    "etag",
    "last_modified",
]


class HealthFilter(admin.SimpleListFilter):
    """Enabled sources by their state now (digest/sources/health.py): computed, not stored,
    so it is worked out for each source; there are a few dozen at most."""

    title = "health"
    parameter_name = "health"

    def lookups(self, request, model_admin):
        return [(state, health.LABELS[state]) for state in health.STATES]

    def queryset(self, request, queryset):
        if self.value() not in health.STATES:
            return queryset
        matching = [s.pk for s, h in source_health.enabled_health() if h.state == self.value()]
        return queryset.filter(pk__in=matching)


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    form = SourceForm
    # Each column short (its whole text on hover or on the source's page), so the
    # list fits a 1280 px screen beside the navigation and the filters.
    list_display = [
        "short_name",
        "short_kind",
        "on",
        "last_fetch",
        "health_now",
        "paper_count",
        "dropped",
        "error",
    ]
    list_display_links = ["short_name"]
    list_filter = [HealthFilter, "kind", "enabled", "last_status"]
    search_fields = ["name", "url"]
    readonly_fields = HEALTH_FIELDS
    actions = ["fetch_now", "enable", "disable"]

    class Media:
        css = {"all": ["paperboy/css/admin-sources.css"]}

    def get_fieldsets(self, request, obj=None):
        if obj is None:  # adding: what a source needs, nothing it does not have yet
            return [(None, {"fields": ["url", "name", "kind"]})]
        return [
            (None, {"fields": ["url", "name", "kind", "enabled"]}),
            ("Last fetches", {"fields": HEALTH_FIELDS}),
        ]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(paper_count=Count("papers"))

    def save_model(self, request, obj: Source, form, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if source_setup.should_fetch_now(obj, created=not change, changed=form.changed_data):
            source_setup.fetch_after_commit([obj.pk])
            self.message_user(
                request, f"Fetching “{obj.name}” now; reload the list to see how it went."
            )

    @admin.display(ordering="name", description="name")
    def short_name(self, source: Source) -> str:
        return format_html('<span title="{}">{}</span>', source.url, source.name)

    @admin.display(ordering="kind", description="kind")
    def short_kind(self, source: Source) -> str:
        return format_html(
            '<span title="{}">{}</span>',
            KIND_LABELS.get(source.kind, source.kind),
            SHORT_KIND_LABELS.get(source.kind, source.kind),
        )

    @admin.display(boolean=True, ordering="enabled", description="on")
    def on(self, source: Source) -> bool:
        return source.enabled

    @admin.display(ordering="-last_fetched_at", description="last fetch")
    def last_fetch(self, source: Source) -> str:
        """How the last fetch went, and how long ago; on hover, what the last success
        brought ("3 new, 0 updated, 0 unchanged") and the time."""
        status = source.get_last_status_display()
        if source.last_status == Source.Status.ERROR and source.consecutive_failures > 1:
            status = f"error ({source.consecutive_failures} in a row)"
        if source.last_fetched_at is None:
            return status
        return format_html(
            '<span title="{}">{}</span><br><span title="{}">{} ago</span>',
            source.last_summary,
            status,
            f"{source.last_fetched_at:%Y-%m-%d %H:%M} UTC",
            timesince(source.last_fetched_at, depth=1),
        )

    @admin.display(description="health")
    def health_now(self, source: Source) -> str:
        """The state now, "stale" in bold; on hover, the whole of it and why."""
        if not source.enabled:
            return "—"
        found = source_health.health_of(source)
        title = " — ".join(part for part in (found.label, found.reason) if part)
        if found.state == health.STALE:
            return format_html('<strong title="{}">stale</strong>', title)
        return format_html('<span title="{}">{}</span>', title, health.LABELS[found.state])

    @admin.display(description="state now")
    def state(self, source: Source) -> str:
        if not source.enabled:
            return "disabled"
        found = source_health.health_of(source)
        return f"{found.label}: {found.reason}" if found.reason else found.label

    @admin.display(ordering="paper_count", description="papers")
    def paper_count(self, source: Source) -> str:
        papers = reverse("admin:digest_paper_changelist") + f"?sources__id__exact={source.pk}"
        return format_html('<a href="{}">{}</a>', papers, source.paper_count)

    @admin.display(ordering="last_dropped", description="dropped")
    def dropped(self, source: Source) -> int:
        return source.last_dropped

    @admin.display(description="last error")
    def error(self, source: Source) -> str:
        if not source.last_error:
            return ""
        return format_html(
            '<span title="{}">{}</span>',
            source.last_error,
            Truncator(source.last_error).chars(60),
        )

    @admin.action(description="Fetch now")
    def fetch_now(self, request, queryset) -> None:
        ids = list(queryset.filter(enabled=True).values_list("pk", flat=True))
        source_setup.fetch_after_commit(ids)
        skipped = queryset.count() - len(ids)
        message = f"Fetching {len(ids)} source(s) in the background; reload to see how it went."
        if skipped:
            message += f" {skipped} disabled source(s) left alone."
        self.message_user(request, message, messages.SUCCESS)

    @admin.action(description="Enable (and fetch now)")
    def enable(self, request, queryset) -> None:
        count = source_setup.enable(queryset)
        self.message_user(request, f"Enabled {count} source(s); fetching them now.")

    @admin.action(description="Disable")
    def disable(self, request, queryset) -> None:
        self.message_user(request, f"Disabled {queryset.update(enabled=False)} source(s).")


@admin.register(Paper)
class PaperAdmin(admin.ModelAdmin):
    list_display = [
        "canonical_id",
        "title",
        "version",
        "first_seen",
        "announced_as_new",
        "published_at",
        "upvotes",
    ]
    list_filter = [("first_seen", admin.DateFieldListFilter), "announced_as_new", "sources"]
    search_fields = ["canonical_id", "title", "abstract", "doi"]
    date_hierarchy = "first_seen"
    readonly_fields = ["first_seen", "updated_at"]
    filter_horizontal = ["sources"]


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "subscriber",
        "group",
        "period",
        "status",
        "paper_count",
        "attempts",
        "maybe_sent",
        "lease_until",
        "sent_at",
    ]
    list_filter = ["status", "maybe_sent", ("claimed_at", admin.DateFieldListFilter)]
    search_fields = ["subscriber__email", "period", "esp_message_id"]
    list_select_related = ["subscriber", "group"]
    raw_id_fields = ["subscriber", "group"]
    readonly_fields = [
        "claimed_at",
        "sent_at",
        "esp_message_id",
        "message_id",
        "window_start",
        "window_end",
        "lease_until",
        "maybe_sent",
    ]
    actions = ["retry_now"]

    @admin.display(description="papers")
    def paper_count(self, delivery: Delivery) -> int:
        return len(delivery.items)

    @admin.display(description="Message-ID")
    def message_id(self, delivery: Delivery) -> str:
        return compose.message_id(delivery)

    @admin.action(description="Retry the selected failed deliveries now")
    def retry_now(self, request, queryset) -> None:
        # Same Message-ID and items as before; the reconciler sends them within a minute.
        count = sending.retry_now(queryset)
        self.message_user(request, f"{count} failed delivery(ies) will be retried within a minute.")


@admin.register(Feedback)
class FeedbackAdmin(admin.ModelAdmin):
    """The readers' clicks, newest first. What a reader said is theirs: staff look, and
    may remove a row (as the reader can), but never make or change one."""

    list_display = ["created", "subscriber", "value", "paper_link", "delivery"]
    list_filter = ["value", ("created", admin.DateFieldListFilter)]
    search_fields = ["subscriber__email", "paper__canonical_id", "paper__title"]
    list_select_related = ["subscriber", "paper", "delivery"]
    date_hierarchy = "created"
    fields = ["subscriber", "value", "paper", "delivery", "created"]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="paper", ordering="paper__canonical_id")
    def paper_link(self, feedback: Feedback) -> str:
        title = Truncator(feedback.paper.title).chars(80)
        return format_html('<a href="{}">{}</a>', feedback.paper.abs_url, title)
