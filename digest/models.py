from django.db import models
from django.utils import timezone


class Source(models.Model):
    class Kind(models.TextChoices):
        ARXIV_RSS = "arxiv_rss", "arXiv RSS"

    class Status(models.TextChoices):
        NEVER = "never", "never fetched"
        OK = "ok"
        NOT_MODIFIED = "not_modified", "not modified"
        ERROR = "error"

    name = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=32, choices=Kind.choices, default=Kind.ARXIV_RSS)
    url = models.URLField(max_length=500)
    enabled = models.BooleanField(default=True)
    last_fetched_at = models.DateTimeField(null=True, blank=True)
    last_status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEVER)
    last_error = models.TextField(blank=True)
    # Validators of the last response that parsed, for conditional GET.
    etag = models.CharField(max_length=200, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Paper(models.Model):
    canonical_id = models.CharField(
        max_length=64, unique=True, help_text="arXiv id without version, e.g. 2604.21952."
    )
    title = models.TextField()
    abstract = models.TextField(blank=True)
    authors = models.JSONField(default=list, blank=True)
    categories = models.JSONField(default=list, blank=True)
    abs_url = models.URLField(max_length=500, blank=True)
    pdf_url = models.URLField(max_length=500, blank=True)
    version = models.PositiveIntegerField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    first_seen = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    upvotes = models.PositiveIntegerField(null=True, blank=True)
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
        SENT = "sent"
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
