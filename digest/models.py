import uuid

from django.db import models
from django.utils import timezone

from digest.sources import KIND_LABELS


class Source(models.Model):
    """A feed Paperboy fetches on a schedule, and how its last fetch went."""

    class Status(models.TextChoices):
        NEVER = "never", "never fetched"
        OK = "ok"
        NOT_MODIFIED = "not_modified", "not modified"
        ERROR = "error"

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=32, choices=list(KIND_LABELS.items()), default="arxiv_rss")
    url = models.URLField(max_length=500)
    enabled = models.BooleanField(default=True)
    last_fetched_at = models.DateTimeField(null=True, blank=True)
    last_status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEVER)
    last_error = models.TextField(blank=True)
    last_summary = models.CharField(max_length=200, blank=True, help_text="Of the last success.")
    last_success_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    # A fetch holds the source until this time, so two runs never overlap; a
    # lease rather than a lock, so a worker killed mid-fetch does not block it forever.
    fetch_lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    # Validators of the last response that parsed, for conditional GET.
    etag = models.CharField(max_length=200, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Paper(models.Model):
    canonical_id = models.CharField(
        max_length=255,
        unique=True,
        help_text='arXiv id without version ("2604.21952"), else "doi:…" or "url:…".',
    )
    title = models.TextField()
    abstract = models.TextField(blank=True)
    authors = models.JSONField(default=list, blank=True)
    categories = models.JSONField(default=list, blank=True)
    abs_url = models.URLField(max_length=500, blank=True)
    pdf_url = models.URLField(max_length=500, blank=True)
    version = models.PositiveIntegerField(null=True, blank=True)
    doi = models.CharField("DOI", max_length=255, blank=True)
    journal_ref = models.TextField("journal reference", blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    first_seen = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    # False while Paperboy knows the paper only from a replacement announcement
    # (a new version of an older paper): such a paper is not news and is never mailed.
    announced_as_new = models.BooleanField(default=True)
    upvotes = models.PositiveIntegerField(null=True, blank=True, help_text="On Hugging Face.")
    comments = models.PositiveIntegerField(null=True, blank=True, help_text="On Hugging Face.")
    hf_url = models.URLField("Hugging Face page", max_length=500, blank=True)
    sources = models.ManyToManyField(Source, related_name="papers", blank=True)

    class Meta:
        ordering = ["-first_seen", "canonical_id"]

    def __str__(self) -> str:
        return f"{self.canonical_id}: {self.title[:80]}"


class Delivery(models.Model):
    """One subscriber's digest for one period, claimed before it is rendered.

    The unique (subscriber, period) pair is the lock that makes sending
    idempotent: a retried or duplicated task finds the row and sends nothing.
    """

    class Status(models.TextChoices):
        CLAIMED = "claimed"
        SENT = "sent", "sent (handed to the provider)"
        DELIVERED = "delivered", "delivered (the provider says)"
        BOUNCED = "bounced"
        COMPLAINED = "complained", "marked as spam"
        EMPTY = "empty", "nothing matched"
        SKIPPED = "skipped", "skipped (not active)"
        FAILED = "failed"

    subscriber = models.ForeignKey(
        "subscriptions.Subscriber", on_delete=models.CASCADE, related_name="deliveries"
    )
    period = models.CharField(max_length=16, help_text='"2026-11-28" or "2026-W48".')
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CLAIMED)
    papers = models.ManyToManyField(Paper, related_name="deliveries", blank=True)
    # Papers first seen in (window_start, window_end] belong to this digest.
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    esp_message_id = models.CharField(max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True, help_text="Why the last attempt failed.")
    # What the digest held, so its web copy shows the same papers, order and reasons:
    # [{"paper": canonical_id, "score": 5.2, "reasons": [{interest, matched, fields}]}]
    items = models.JSONField(default=list, blank=True)
    more_count = models.PositiveIntegerField(default=0, help_text="Matched beyond the cap.")
    feedback = models.TextField(blank=True, help_text="What the provider reported later.")
    # Names this delivery in the send journal (the shared cache); unique even across
    # a recreated database, where ids start again from 1.
    journal_id = models.UUIDField(default=uuid.uuid4, editable=False)
    claimed_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subscriber", "period"], name="delivery_once_per_period"
            ),
        ]
        ordering = ["-claimed_at"]
        verbose_name_plural = "deliveries"

    def __str__(self) -> str:
        return f"{self.subscriber} {self.period} ({self.status})"
