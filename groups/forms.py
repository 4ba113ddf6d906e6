import re

from django import forms
from django.core.exceptions import ValidationError

from digest.matching import like
from groups.models import Group
from groups.services import MAX_INVITES_AT_ONCE
from subscriptions import addresses
from subscriptions.forms import AddressField, PreferencesForm, parse_interest_lines


class GroupForm(PreferencesForm):
    """The owner's choices: a name, and the interests and schedule of a subscriber's
    form, in the same language, checked the same way. No categories: a group follows
    its interests (which may be `cat:` ones)."""

    field_order = ["name", "interests"]
    categories = None
    name = forms.CharField(max_length=100, label="The group's name")
    frequency = forms.ChoiceField(
        choices=Group.Frequency.choices, initial=Group.Frequency.WEEKLY, widget=forms.RadioSelect
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["interests"].label = "The group's interests"

    def clean_interests(self) -> list[str]:
        interests = parse_interest_lines(self.cleaned_data["interests"])
        if seeds := [interest for interest in interests if like.is_like(interest)]:
            # A seed teaches one reader's own digests (their model); a group has none.
            raise ValidationError(
                f"{seeds[0]}: like: lines are for your own digests; a group follows "
                "words, authors and categories."
            )
        return interests

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise ValidationError("Give the group a name.")
        return name


class StartGroupForm(GroupForm):
    field_order = ["name", "email", "interests"]
    email = AddressField(
        max_length=254,
        label="Your email address",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    # Bots fill every field; people never see this one.
    website = forms.CharField(required=False, max_length=200, label="Leave this empty")

    def is_bot(self) -> bool:
        return bool(self.cleaned_data.get("website"))


_SEPARATORS = re.compile(r"[\s,;]+")


class InviteForm(forms.Form):
    addresses = forms.CharField(
        max_length=6000,
        label="Invite by address",
        help_text=f"One address per line (up to {MAX_INVITES_AT_ONCE} at once). Each gets an "
        "email with a link; nobody is a member until they confirm.",
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "ada@lab.example"}),
    )

    def clean_addresses(self) -> list[str]:
        found, errors = [], []
        for word in _SEPARATORS.split(self.cleaned_data["addresses"]):
            if not word:
                continue
            try:
                found.append(addresses.normalize_email(word))
            except ValidationError as error:
                errors.append(f"{word}: {' '.join(error.messages)}")
        if errors:
            raise ValidationError(errors)
        if not found:
            raise ValidationError("Give at least one address.")
        if len(found) > MAX_INVITES_AT_ONCE:
            raise ValidationError(
                f"At most {MAX_INVITES_AT_ONCE} addresses at once, please (these are {len(found)})."
            )
        return found
