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
    # Items of the last feed read that could not be stored, and why (digest/record_checks.py):
    # the rest of the feed was stored.
    last_dropped = models.PositiveIntegerField(
        "items dropped", default=0, help_text="Items of the last feed read that were not stored."
    )
    last_problems = models.TextField(
        "item problems",
        blank=True,
        help_text="Why items of the last feed read were dropped, or fields of them left out.",
    )
    last_success_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    # A fetch holds the source until this time, so two runs never overlap; a
    # lease rather than a lock, so a worker killed mid-fetch does not block it forever.
    fetch_lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    # Validators of the last response that parsed, for conditional GET.
    etag = models.CharField(max_length=200, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)
    # Health (digest/health.py): when the feed was last seen to change, what it held
    # then, what it says of its own timing, and whether its stale spell was reported.
    content_changed_at = models.DateTimeField(
        "changed",
        null=True,
        blank=True,
        help_text="The last fetch that found new entries (or, before any, the first success).",
    )
    entries_key = models.CharField(max_length=32, blank=True, editable=False)
    feed_built_at = models.DateTimeField(
        "feed built", null=True, blank=True, help_text="The feed's own lastBuildDate or updated."
    )
    schedule_hints = models.JSONField(
        "feed's schedule hints",
        default=dict,
        blank=True,
        help_text="The ttl, skipDays and skipHours the feed gave.",
    )
    stale_reported_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When this stale spell was logged as an error; cleared once it ends.",
    )

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


class PaperAnalysis(models.Model):
    """A paper's analysis as the matching engine made it (digest/matching/stored.py), so
    that every window and preview the paper is in reads it back instead of analysing the
    paper again. `key` says what it was made from: the analyser's version and the
    paper's title and abstract; a row whose key is not the paper's now is made again."""

    paper = models.OneToOneField(
        Paper, on_delete=models.CASCADE, primary_key=True, related_name="analysis"
    )
    key = models.CharField(max_length=64)
    data = models.BinaryField()
    made_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "paper analyses"

    def __str__(self) -> str:
        return f"analysis of {self.paper_id} ({len(self.data)} bytes)"


class ClauseSet(models.Model):
    """The clauses of the readers' interests evaluated together on some papers, by name
    (digest/matching/evaluated.py): what their records say was evaluated on them. One
    row for the papers of one fetch, read once by a window for all of them."""

    digest = models.CharField(max_length=32, unique=True)
    clauses = models.BinaryField()
    made_at = models.DateTimeField(default=timezone.now)  # or when last used again

    def __str__(self) -> str:
        return f"clause set {self.digest[:8]} ({len(self.clauses)} bytes)"


class PaperEvaluation(models.Model):
    """The readers' clauses evaluated on a paper once, by the fetch that brought it, and
    their hits there (digest/matching/evaluated.py), so that every window and preview
    the paper is in takes them instead of evaluating them again. `key` says what it
    was made of: the analyser's version, the paper's texts, authors and categories; a
    row whose key is not the paper's now is never read."""

    paper = models.OneToOneField(
        Paper, on_delete=models.CASCADE, primary_key=True, related_name="evaluation"
    )
    key = models.CharField(max_length=64)
    clause_set = models.ForeignKey(ClauseSet, on_delete=models.PROTECT, related_name="papers")
    hits = models.BinaryField()
    made_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"evaluation of {self.paper_id} ({len(self.hits)} bytes)"


class Delivery(models.Model):
    """One subscriber's digest for one period, claimed before it is rendered.

    The unique (subscriber, period) pair is the lock that makes sending
    idempotent: a retried or duplicated task finds the row and sends nothing.
    The row is also the send journal: it says "sending" (committed) before the
    message is handed to the provider and "sent" right after, so whatever dies
    when, what may have left is known, and is only ever sent again with the
    same Message-ID (docs/DELIVERY.md).
    """

    class Status(models.TextChoices):
        CLAIMED = "claimed"
        SENDING = "sending", "sending (being handed to the provider)"
        SENT = "sent", "sent (handed to the provider)"
        DELIVERED = "delivered", "delivered (the provider says)"
        BOUNCED = "bounced"
        COMPLAINED = "complained", "marked as spam"
        EMPTY = "empty", "nothing matched"
        FEED = "feed", "in the feed (feed only, no email)"
        SKIPPED = "skipped", "skipped (not active)"
        RETRY = "retry", "waiting to retry"
        FAILED = "failed", "failed (gave up)"

    # Statuses a worker or the reconciler will still act on.
    PENDING = (Status.CLAIMED, Status.SENDING, Status.RETRY)

    subscriber = models.ForeignKey(
        "subscriptions.Subscriber", on_delete=models.CASCADE, related_name="deliveries"
    )
    # A group's digest to one of its members (groups/); empty for the subscriber's own.
    # The two are separate digests with separate periods: each is sent once.
    group = models.ForeignKey(
        "groups.Group",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="deliveries",
    )
    period = models.CharField(max_length=16, help_text='"2026-11-28" or "2026-W48".')
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CLAIMED)
    # Papers first seen in (window_start, window_end] belong to this digest.
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    esp_message_id = models.CharField(
        "provider's message id",
        max_length=200,
        blank=True,
        db_index=True,  # how the provider's webhooks name a delivery
        help_text="The ESP's own id, or the Message-ID where the backend has none.",
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True, help_text="Why the last attempt failed.")
    maybe_sent = models.BooleanField(
        "hand-over uncertain",
        default=False,
        help_text="An attempt ended without knowing whether the provider took the message "
        "(a worker died, a reply timed out); every attempt carries the same Message-ID.",
    )
    # What the digest holds, written before it is handed over, so its web copy and any
    # resend show the same papers, order and reasons; the email shows the first
    # DIGEST_MAX_PAPERS, the web copy all (up to WEB_COPY_MAX_PAPERS):
    # [[canonical id, score, [[interest, [words], [fields]], ...]], ...]
    items = models.JSONField(default=list, blank=True)
    more_count = models.PositiveIntegerField(default=0, help_text="Matched beyond the cap.")
    # What the digest says about the sources it depends on that were stale when it was
    # claimed, the same in every attempt and in its web copy (digest/health.py).
    source_note = models.CharField(max_length=500, blank=True)
    feedback = models.TextField(blank=True, help_text="What the provider reported later.")
    # Names the digest's message: its Message-ID (and the provider's idempotency key)
    # derive from it, the same on every attempt; unique even across a recreated
    # database, where ids start again from 1.
    message_key = models.UUIDField(default=uuid.uuid4, editable=False, unique=True)
    # Who holds a claimed or sending delivery (one token per claim), and until when;
    # a delivery waiting to retry may be taken again from lease_until on.
    lease_token = models.UUIDField(null=True, blank=True, editable=False)
    lease_until = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["subscriber", "period"],
                condition=models.Q(group__isnull=True),
                name="delivery_once_per_period",
            ),
            models.UniqueConstraint(
                fields=["subscriber", "group", "period"],
                condition=models.Q(group__isnull=False),
                name="group_delivery_once_per_member_period",
            ),
        ]
        indexes = [
            # The reconciler asks exactly this: pending, and its time has come.
            models.Index(
                fields=["lease_until"],
                condition=models.Q(status__in=["claimed", "sending", "retry"]),
                name="delivery_pending_idx",
            ),
        ]
        ordering = ["-claimed_at"]
        verbose_name_plural = "deliveries"

    def __str__(self) -> str:
        group = f" (group {self.group_id})" if self.group_id else ""
        return f"{self.subscriber}{group} {self.period} ({self.status})"

    @property
    def paper_ids(self) -> list[str]:
        """The canonical ids of the papers this digest holds, in its order."""
        return [entry[0] for entry in self.items]


class Lease(models.Model):
    """A job only one process in the deployment may run at a time (celery beat), held by
    `holder` until `expires_at` and renewed while it runs; a holder that dies lets it go."""

    name = models.CharField(max_length=64, primary_key=True)
    holder = models.CharField(max_length=200)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} held by {self.holder} until {self.expires_at:%Y-%m-%d %H:%M:%S}"


class Feedback(models.Model):
    """A reader's "more like this" (+1) or "less like this" (-1) on a paper of a digest.

    One row per reader and paper: a later click replaces the earlier one (latest wins),
    and removing it leaves no trace. Personal data: it goes with its subscriber.
    """

    class Value(models.IntegerChoices):
        MORE = 1, "more like this"
        LESS = -1, "less like this"

    subscriber = models.ForeignKey(
        "subscriptions.Subscriber", on_delete=models.CASCADE, related_name="reader_feedback"
    )
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="reader_feedback")
    # The digest the click came from; kept when that digest's row goes.
    delivery = models.ForeignKey(
        Delivery,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reader_feedback",
    )
    value = models.SmallIntegerField(choices=Value.choices)
    # When the reader said it last (a new click on the same paper moves it).
    created = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["subscriber", "paper"], name="feedback_once_per_paper"),
            models.CheckConstraint(
                condition=models.Q(value__in=[1, -1]), name="feedback_value_is_more_or_less"
            ),
        ]
        ordering = ["-created"]
        verbose_name_plural = "feedback"

    def __str__(self) -> str:
        return f"{self.subscriber} {self.get_value_display()}: {self.paper.canonical_id}"


class TextRepresentation(models.Model):
    """The fitted text representation readers' models are trained on (digest.learning):
    its kind and what it keeps as bytes (the default's idf vector as a .npy array; never
    a pickle). The newest row is the one in use; `key` changes with what it gives."""

    kind = models.CharField(max_length=64)
    key = models.CharField(max_length=32, unique=True)
    data = models.BinaryField()
    papers = models.PositiveIntegerField(help_text="Stored papers it was fitted on.")
    fitted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-fitted_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.kind} {self.key} ({self.papers} papers, {self.fitted_at:%Y-%m-%d %H:%M})"


class ReaderModel(models.Model):
    """One reader's model (digest.learning.reader): a weight vector over a representation's
    columns and an intercept, from their likes (+1 clicks and the papers they follow)
    and dislikes. Personal data: it goes with its subscriber; none exists for a reader
    with no feedback and no seeds, whose digests are then the keywords' alone."""

    class Kind(models.TextChoices):
        LOGISTIC = "logistic", "logistic regression"
        CENTROID = "centroid", "centroid (few examples)"

    subscriber = models.OneToOneField(
        "subscriptions.Subscriber", on_delete=models.CASCADE, related_name="reader_model"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # The arrays (columns, weights, the kept likes' vectors) as one .npz of numpy arrays.
    weights = models.BinaryField()
    intercept = models.FloatField(default=0.0)
    representation_key = models.CharField(max_length=32)
    likes = models.PositiveIntegerField(default=0)
    dislikes = models.PositiveIntegerField(default=0)
    seeds = models.PositiveIntegerField(default=0)
    # The kept likes, in the rows of the arrays: [[canonical id, title, "liked"|"follow"]],
    # so a suggestion's reason names one without a query.
    positives = models.JSONField(default=list, blank=True)
    # Canonical ids of the papers the reader judged: never suggested to them.
    judged = models.JSONField(default=list, blank=True)
    # The newest click it learned from; a later one (or other counts) means retrain.
    feedback_at = models.DateTimeField(null=True, blank=True)
    trained_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.subscriber} {self.kind} (+{self.likes} -{self.dislikes} seeds {self.seeds})"
