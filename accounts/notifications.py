"""Telling a user about a change of their account: one e-mail, in their language, via the outbox."""

from mojeid.messaging import queue_email

from .models import Profile, User


def tell(user: User, template: str, **context) -> None:
    """Queue the e-mail `templates/mail/<template>.txt` to the user's current address, if any.

    The address is read afresh: a change in the same transaction (a confirmed new e-mail) counts.
    The template gets `user` and `context`. Nothing is sent for a person the register records
    as deceased.
    """
    email, deceased_on = Profile.objects.filter(pk=user.pk).values_list(
        "email", "deceased_on"
    ).first() or (None, None)
    if email and deceased_on is None:  # never a message to a deceased person's address
        queue_email(email, template, {"user": user, **context}, user.language)
