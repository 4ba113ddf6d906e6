from datetime import date, timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from digest import seeds
from digest.matching import InterestSyntaxError, like, trending, validate_interest
from subscriptions import addresses
from subscriptions.models import Subscriber, known_time_zones, validate_time_zone

MAX_INTERESTS = 30
# like: lines count apart: a library's papers are many, each one short line.
MAX_SEEDS = 100

HOUR_CHOICES = [(hour, f"{hour:02d}:00") for hour in range(24)]


def parse_interest_lines(text: str) -> list[str]:
    """One interest per line, each validated; errors name the line they are on."""
    interests: list[str] = []
    errors: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            interest = validate_interest(line)
        except InterestSyntaxError as error:
            errors.append(f"Line {number}: {error}")
            continue
        if interest.lower() not in (known.lower() for known in interests):
            interests.append(interest)
    if errors:
        raise ValidationError(errors)
    if not interests:
        raise ValidationError("Add at least one interest, one per line.")
    seed_count = sum(1 for interest in interests if like.is_like(interest))
    if len(interests) - seed_count > MAX_INTERESTS:
        raise ValidationError(
            f"At most {MAX_INTERESTS} interests, please (you gave {len(interests) - seed_count})."
        )
    if seed_count > MAX_SEEDS:
        raise ValidationError(f"At most {MAX_SEEDS} like: lines, please (you gave {seed_count}).")
    return interests


def check_seeds(interests: list[str]) -> list[str]:
    """`interests` (valid lines) once the paper of each like line is found, in the
    database or on arXiv (stored then): ValidationError naming an id arXiv has no paper
    for, or saying arXiv could not be reached. Asks the network: for saving, not for
    the live preview."""
    try:
        seeds.check_interests(interests)
    except seeds.SeedError as error:
        raise ValidationError(error.messages) from None
    return interests


class AddressField(forms.EmailField):
    """An email address in its one normalized spelling (subscriptions.addresses), or a
    message saying why it cannot be used."""

    def to_python(self, value: object) -> str:
        text = super().to_python(value)
        return addresses.normalize_email(text) if text else text


# Offered on the forms; any category can still be followed with a cat: interest.
CATEGORY_CHOICES = [
    ("cs.LG", "Machine learning (cs.LG)"),
    ("cs.CL", "Computation and language (cs.CL)"),
    ("cs.CV", "Computer vision (cs.CV)"),
    ("cs.AI", "Artificial intelligence (cs.AI)"),
    ("cs.RO", "Robotics (cs.RO)"),
    ("cs.CR", "Cryptography and security (cs.CR)"),
    ("stat.ML", "Statistics, machine learning (stat.ML)"),
    ("quant-ph", "Quantum physics (quant-ph)"),
    ("astro-ph", "Astrophysics (astro-ph)"),
    ("cond-mat", "Condensed matter (cond-mat)"),
    ("hep", "High energy physics (hep)"),
    ("q-bio", "Quantitative biology (q-bio)"),
    ("math", "Mathematics (math)"),
    ("econ", "Economics (econ)"),
]


class PreferencesForm(forms.Form):
    """What a subscriber chooses, on the signup form and on the manage page."""

    interests = forms.CharField(
        max_length=4000,
        widget=forms.Textarea(
            attrs={
                "rows": 5,
                "placeholder": "diffusion models\nLLM\ngraph neural networks -molecules",
                "aria-describedby": "interests-hint",
            }
        ),
    )
    frequency = forms.ChoiceField(
        choices=Subscriber.Frequency.choices,
        initial=Subscriber.Frequency.DAILY,
        widget=forms.RadioSelect,
    )
    send_hour = forms.TypedChoiceField(
        choices=HOUR_CHOICES, coerce=int, initial=8, label="Send at (your local time)"
    )
    time_zone = forms.CharField(
        max_length=64, initial="UTC", validators=[validate_time_zone], label="Time zone"
    )
    categories = forms.MultipleChoiceField(
        choices=CATEGORY_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Only these arXiv categories (optional)",
    )

    def clean_interests(self) -> list[str]:
        return check_seeds(parse_interest_lines(self.cleaned_data["interests"]))

    @staticmethod
    def time_zone_names() -> list[str]:
        return sorted(known_time_zones())


class SignupForm(PreferencesForm):
    # The box is cleaned before the interests it adds a line to.
    field_order = ["email", "trending", "interests"]

    email = AddressField(max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    trending = forms.BooleanField(
        required=False,
        label="Also the day's top trending papers",
        help_text=(
            f"The {trending.DEFAULT_COUNT} most upvoted papers on Hugging Face of each "
            "digest: the interest line trending."
        ),
    )
    # Bots fill every field; people never see this one.
    website = forms.CharField(required=False, max_length=200, label="Leave this empty")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        # With the box ticked, trending alone is a subscription.
        self.fields["interests"].required = False

    def clean_interests(self) -> list[str]:
        text = self.cleaned_data["interests"]
        if self.cleaned_data.get("trending") and not any(
            trending.is_trending(line) for line in text.splitlines()
        ):
            text = f"{text}\n{trending.WORD}"
        return check_seeds(parse_interest_lines(text))

    def is_bot(self) -> bool:
        return bool(self.cleaned_data.get("website"))


class ManageForm(PreferencesForm):
    paused_until = forms.DateField(
        required=False,
        label="Pause until (optional)",
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="No digest before this day; the first one after it brings the best you missed.",
    )
    digest_length = forms.ChoiceField(
        choices=Subscriber.DigestLength.choices,
        initial=Subscriber.DigestLength.SHORT,
        required=False,  # a page older than the choice sends none: the choice stays
        widget=forms.RadioSelect,
        label="How much of each paper the email shows",
        help_text="The web copy (“View in the browser”) always has whole abstracts.",
    )

    def clean_paused_until(self) -> date | None:
        return checked_pause_end(self.cleaned_data["paused_until"])


def checked_pause_end(day: date | None) -> date | None:
    """A pause's last day as the manage page and the admin take it: a day already here
    is no pause, and a pause lasts at most a year."""
    if day is not None and day <= timezone.localdate():
        return None
    if day is not None and day > timezone.localdate() + timedelta(days=366):
        raise ValidationError("A pause can last at most a year.")
    return day


class LinkRequestForm(forms.Form):
    email = AddressField(max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    website = forms.CharField(required=False, max_length=200, label="Leave this empty")
