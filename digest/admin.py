from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import Truncator

from digest import compose, sending, tasks
from digest.models import Delivery, Paper, Source
from digest.sources import ARXIV_KINDS, HUGGING_FACE_KINDS, KIND_LABELS, kind_for_url
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
    addresses are refused at every fetch (digest.sources.addresses).
    """

    kind = forms.ChoiceField(
        choices=[("", "Detect from the URL"), *KIND_LABELS.items()],
        required=False,
        help_text="Leave on “Detect” for arXiv, Hugging Face and ordinary RSS/Atom URLs.",
    )
    name = forms.CharField(
        max_length=100, required=False, help_text="Defaults to the URL's host and path."
    )
    url = forms.URLField(max_length=500, assume_scheme="https")

    class Meta:
        model = Source
        fields = ["name", "url", "kind", "enabled"]

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        refusal = refusal_for_url(url, settings.FETCH_ALLOWED_HOSTS)
        if refusal:
            raise forms.ValidationError(f"Paperboy will not fetch this URL: {refusal}.")
        return url

    def clean(self) -> dict:
        cleaned = super().clean()
        url = cleaned.get("url")
        if url:
            cleaned["kind"] = cleaned.get("kind") or kind_for_url(url)
            if error := _service_kind_error(cleaned["kind"], urlsplit(url).hostname or ""):
                self.add_error("kind", error)
            if not cleaned.get("name"):
                parts = urlsplit(url)
                # Uniqueness is checked after clean(), on this name too.
                cleaned["name"] = f"{parts.netloc}{parts.path}".rstrip("/")[:100]
        return cleaned


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    form = SourceForm
    list_display = [
        "name",
        "kind",
        "enabled",
        "last_status",
        "last_fetched_at",
        "last_summary",
        "last_dropped",
        "consecutive_failures",
        "paper_count",
        "error",
    ]
    list_filter = ["kind", "enabled", "last_status"]
    search_fields = ["name", "url"]
    readonly_fields = [
        "last_status",
        "last_error",
        "last_fetched_at",
        "last_success_at",
        "last_summary",
        "last_dropped",
        "last_problems",
        "consecutive_failures",
        "etag",
        "last_modified",
    ]
    actions = ["fetch_now", "enable", "disable"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(paper_count=Count("papers"))

    @admin.display(ordering="paper_count", description="papers")
    def paper_count(self, source: Source) -> str:
        papers = reverse("admin:digest_paper_changelist") + f"?sources__id__exact={source.pk}"
        return format_html('<a href="{}">{}</a>', papers, source.paper_count)

    @admin.display(description="last error")
    def error(self, source: Source) -> str:
        return Truncator(source.last_error).chars(120)

    @admin.action(description="Fetch now")
    def fetch_now(self, request, queryset) -> None:
        ids = list(queryset.filter(enabled=True).values_list("pk", flat=True))
        for source_id in ids:
            tasks.fetch_source.delay_on_commit(source_id)
        skipped = queryset.count() - len(ids)
        message = f"Fetching {len(ids)} source(s) in the background; reload to see how it went."
        if skipped:
            message += f" {skipped} disabled source(s) left alone."
        self.message_user(request, message, messages.SUCCESS)

    @admin.action(description="Enable")
    def enable(self, request, queryset) -> None:
        self.message_user(request, f"Enabled {queryset.update(enabled=True)} source(s).")

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
    list_select_related = ["subscriber"]
    raw_id_fields = ["subscriber"]
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
