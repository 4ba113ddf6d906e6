"""What staff see of a reader's "more / less like this" clicks (digest.models.Feedback)
and the model they train (digest.models.ReaderModel) on the subscriber pages of the
admin: counts and whether a model exists in the list, the latest clicks and the model
on the page."""

from django.db.models import Count, Exists, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator

from digest.models import Feedback, ReaderModel
from subscriptions.models import Subscriber

LATEST = 10


def _count(value: int) -> Coalesce:
    # A subquery each, so the counts never multiply with the interests' join.
    rows = (
        Feedback.objects.filter(subscriber=OuterRef("pk"), value=value)
        .order_by()
        .values("subscriber")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def counts() -> dict[str, Coalesce]:
    """Annotations of a Subscriber queryset: feedback_more, feedback_less."""
    return {
        "feedback_more": _count(Feedback.Value.MORE),
        "feedback_less": _count(Feedback.Value.LESS),
    }


def report(subscriber: Subscriber) -> str:
    """The reader's latest clicks as a table, and a link to all of them."""
    if subscriber.pk is None:
        return "-"
    latest = list(subscriber.reader_feedback.select_related("paper")[:LATEST])
    if not latest:
        return "No clicks yet."
    rows = format_html_join(
        "",
        '<tr><td>{}</td><td>{}</td><td><a href="{}">{}</a></td></tr>',
        (
            (
                f"{feedback.created:%Y-%m-%d %H:%M}",
                feedback.get_value_display(),
                feedback.paper.abs_url,
                Truncator(feedback.paper.title).chars(80),
            )
            for feedback in latest
        ),
    )
    every = reverse("admin:digest_feedback_changelist") + f"?subscriber__id__exact={subscriber.pk}"
    total = subscriber.reader_feedback.count()
    return format_html(
        '<table class="feedback-report"><thead><tr><th>when</th><th>said</th><th>paper</th>'
        '</tr></thead><tbody>{}</tbody></table><p><a href="{}">All {} of their clicks</a></p>',
        rows,
        every,
        total,
    )


def has_model() -> Exists:
    """An annotation of a Subscriber queryset: whether they have a reader model."""
    return Exists(ReaderModel.objects.filter(subscriber=OuterRef("pk")))


def model_report(subscriber: Subscriber) -> str:
    """The reader's model: its kind, what it learned from and when."""
    model = ReaderModel.objects.filter(subscriber=subscriber).first() if subscriber.pk else None
    if model is None:
        return "No model: their digests are the keyword matches alone."
    return format_html(
        "{}, from {} liked, {} disliked and {} followed papers; trained {} (representation {}).",
        model.get_kind_display(),
        model.likes,
        model.dislikes,
        model.seeds,
        f"{model.trained_at:%Y-%m-%d %H:%M}",
        model.representation_key,
    )
