"""Forms of the data box system's web pages: the prepared message (concept), a new message written
in a box, and the sending of either. The sign-in's form is the simulator's own
(`govsim.forms.SignInForm`)."""

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import BOX_ID_PATTERN, SUBJECT_MAX_LENGTH, TEXT_MAX_LENGTH, DataBox
from .services import accessible_box


class ConceptForm(forms.Form):
    """The prepared message: recipient box, subject and text, from the link's query (GET) or
    the sending form (POST). Django's CharField already refuses NUL characters."""

    to = forms.CharField(label=_("Recipient's data box"), max_length=7)
    subject = forms.CharField(label=_("Subject"), max_length=SUBJECT_MAX_LENGTH)
    text = forms.CharField(
        label=_("Text"), max_length=TEXT_MAX_LENGTH, required=False, widget=forms.Textarea
    )

    recipient: DataBox

    def clean_to(self) -> str:
        box_id = self.cleaned_data["to"].strip().lower()
        box = accessible_box(box_id) if re.fullmatch(BOX_ID_PATTERN, box_id) else None
        if box is None:
            raise forms.ValidationError(
                _("There is no accessible data box with this ID."), code="unknown_box"
            )
        self.recipient = box
        return box_id

    def clean_text(self) -> str:
        # A browser sends line breaks of a form field as CRLF; keep the text as the link gave it.
        return self.cleaned_data["text"].replace("\r\n", "\n")


def refuse_same_box(sender: str | None, recipient: str | None) -> None:
    """A box does not send to itself (the real system refuses it too)."""
    if sender and sender == recipient:
        raise forms.ValidationError(
            _("A data box cannot send a message to itself."), code="same_box"
        )


class WriteForm(ConceptForm):
    """A new message written in one of the person's boxes (`sender`, from the page's address):
    the same fields as a concept, checked before the check-and-send page shows it."""

    def __init__(self, *args, sender: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.sender = sender

    def clean(self) -> dict:
        cleaned = super().clean()
        refuse_same_box(self.sender, cleaned.get("to"))
        return cleaned


class SendForm(ConceptForm):
    """The concept as sent: which of the person's boxes sends it, and the form's one-time token."""

    sender = forms.CharField(label=_("Send from the data box"), max_length=7)
    token = forms.CharField(max_length=64, widget=forms.HiddenInput)

    def clean(self) -> dict:
        cleaned = super().clean()
        refuse_same_box(cleaned.get("sender"), cleaned.get("to"))
        return cleaned
