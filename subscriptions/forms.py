from django import forms
from django.core.exceptions import ValidationError

from digest.matching import InterestSyntaxError, validate_interest
from subscriptions.models import Subscriber, known_time_zones, validate_time_zone

MAX_INTERESTS = 30

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
    if len(interests) > MAX_INTERESTS:
        raise ValidationError(
            f"At most {MAX_INTERESTS} interests, please (you gave {len(interests)})."
        )
    return interests


class SignupForm(forms.Form):
    email = forms.EmailField(
        max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    interests = forms.CharField(
        max_length=4000,
        widget=forms.Textarea(
            attrs={"rows": 5, "placeholder": "diffusion models\nLLM\ngraph neural networks"}
        ),
        help_text="One topic per line. Words match in any case, whole words only.",
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
    # Bots fill every field; people never see this one.
    website = forms.CharField(required=False, max_length=200, label="Leave this empty")

    def clean_interests(self) -> list[str]:
        return parse_interest_lines(self.cleaned_data["interests"])

    def is_bot(self) -> bool:
        return bool(self.cleaned_data.get("website"))

    @staticmethod
    def time_zone_names() -> list[str]:
        return sorted(known_time_zones())
