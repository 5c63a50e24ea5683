"""The two-factor reset, as domain operations: start, then verify and complete in one step.

A user who passed the password step but cannot give the second factor asks for a reset. We send
a code (PIN1) to the confirmed e-mail and another (PIN2) by SMS to the confirmed phone, and show
a control code on the page. Typing back all three with the password removes every second factor
(security keys and MojeID Klíč) and cancels the NIA link.

Only hashes of PIN1 and PIN2 are kept, bound to the reset's control code, so they are worth
nothing for another reset. A reset expires after 30 minutes, is spent by 5 wrong answers, is used
once, and a new one replaces a running one. A wrong answer never says which part was wrong.

Rate limits per account live here, so every caller obeys them; `flows` adds limits per client
address. Each operation runs in a transaction, is audited, and mails through the outbox.
"""

import hmac
import secrets
from datetime import timedelta

from django.contrib.auth import authenticate
from django.db import transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone

from accounts import ratelimit
from accounts.audit import record
from accounts.models import AuditEvent, Profile, User
from accounts.notifications import tell
from accounts.services.security import end_other_sessions, send_password_reset
from mojeid.crypto import digest_matches, keyed_digest
from mojeid.messaging import queue_email, queue_sms

from ..adapter import get_adapter
from ..models import KlicActivation, KlicDevice, KlicLoginRequest, SecurityKey, TwoFactorReset

LIFETIME = timedelta(minutes=30)
MAX_FAILED_ATTEMPTS = 5
# Letters and digits that cannot be mistaken for one another when read off a screen (no 0/O, 1/I).
CONTROL_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CONTROL_LENGTH = 6
EMAIL_CODE_DIGITS = 8  # like PIN1 when confirming an e-mail
PHONE_CODE_DIGITS = 6  # like PIN2
STARTS_PER_ACCOUNT_PER_HOUR = 3
ATTEMPTS_PER_ACCOUNT_PER_HOUR = 10


class ContactsNotConfirmed(Exception):
    """The e-mail or the phone is not confirmed: the codes could reach somebody else."""


class ResetNotRunning(Exception):
    """The reset expired, was spent by wrong answers, used, or replaced by a newer one."""


class ResetRefused(Exception):
    """Some answer was wrong (which one is not said); `void` when that was the last attempt."""

    def __init__(self, *, void: bool):
        self.void = void
        super().__init__("two-factor reset refused" + (", now void" if void else ""))


def contacts_confirmed(user: User) -> bool:
    """Whether both the e-mail and the phone of `user` are confirmed (the codes need both)."""
    return _confirmed(Profile.objects.get(pk=user.pk))


def _confirmed(profile: Profile) -> bool:
    return bool(
        profile.email and profile.email_confirmed and profile.phone and profile.phone_confirmed
    )


def is_running(reset: TwoFactorReset) -> bool:
    """Whether `reset` can still be completed."""
    return (
        reset.completed_at is None
        and reset.expires_at > timezone.now()
        and reset.failed_attempts < MAX_FAILED_ATTEMPTS
    )


def normalize_control_code(value: str) -> str:
    """The control code as stored: case, spaces and dashes do not matter when retyping it."""
    return "".join(value.split()).replace("-", "").upper()


CODE_PURPOSE = "two-factor-reset"


def _same(expected: str, given: str) -> bool:
    # compare_digest refuses non-ASCII str; bytes take anything the user may type.
    return hmac.compare_digest(expected.encode(), given.encode())


def _digits(count: int) -> str:
    return "".join(secrets.choice("0123456789") for _ in range(count))


def do_start_reset(user: User, *, request: HttpRequest | None = None) -> TwoFactorReset:
    """Start a reset for `user`: send PIN1 by e-mail and PIN2 by SMS, replacing a running reset.

    Raises ratelimit.RateLimited past STARTS_PER_ACCOUNT_PER_HOUR and ContactsNotConfirmed
    (nothing sent) unless both contacts are confirmed: then only the helpdesk can help.
    """
    # Counted first: each start sends an e-mail and an SMS, so it must not be free to repeat.
    ratelimit.hit(
        "two-factor-reset-start", str(user.pk), limit=STARTS_PER_ACCOUNT_PER_HOUR, per_seconds=3600
    )
    now = timezone.now()
    with transaction.atomic():
        # Serialise concurrent starts of one user, so that only one reset is ever running.
        User.objects.select_for_update().filter(pk=user.pk).first()
        profile = Profile.objects.get(pk=user.pk)
        if not _confirmed(profile):
            raise ContactsNotConfirmed
        TwoFactorReset.objects.filter(
            user=user, completed_at__isnull=True, expires_at__gt=now
        ).update(expires_at=now)
        control_code = "".join(secrets.choice(CONTROL_ALPHABET) for _ in range(CONTROL_LENGTH))
        email_pin, phone_pin = _digits(EMAIL_CODE_DIGITS), _digits(PHONE_CODE_DIGITS)
        reset = TwoFactorReset.objects.create(
            user=user,
            control_code=control_code,
            email_code_hash=keyed_digest(CODE_PURPOSE, user.pk, control_code, "email", email_pin),
            phone_code_hash=keyed_digest(CODE_PURPOSE, user.pk, control_code, "phone", phone_pin),
            created_at=now,
            expires_at=now + LIFETIME,
        )
        context = {"user": user, "expires_at": reset.expires_at}
        queue_email(
            profile.email, "two_factor_reset_code", {**context, "pin": email_pin}, user.language
        )
        queue_sms(
            profile.phone, "two_factor_reset_code", {**context, "pin": phone_pin}, user.language
        )
        record(AuditEvent.Kind.TWO_FACTOR_RESET_STARTED, user=user, request=request)
    return reset


def do_complete_reset(
    reset: TwoFactorReset,
    *,
    control_code: str,
    email_code: str,
    phone_code: str,
    password: str,
    request: HttpRequest | None = None,
) -> None:
    """Check all four answers; if every one is right, remove every second factor of the user.

    Raises ratelimit.RateLimited past ATTEMPTS_PER_ACCOUNT_PER_HOUR, ResetNotRunning when the
    reset cannot be completed any more, and ResetRefused when any answer is wrong (the attempt
    is counted and audited). The password goes through the throttled authentication backend, so
    a throttled account is refused like a wrong password.
    """
    user = reset.user
    ratelimit.hit(
        "two-factor-reset-attempt",
        str(user.pk),
        limit=ATTEMPTS_PER_ACCOUNT_PER_HOUR,
        per_seconds=3600,
    )
    refusal: Exception | None = None
    with transaction.atomic():
        # Locked while checking, so that parallel guesses cannot exceed the attempt limit.
        reset = TwoFactorReset.objects.select_for_update().get(pk=reset.pk)
        if not is_running(reset):
            record(
                AuditEvent.Kind.TWO_FACTOR_RESET_FAILED,
                user=user,
                request=request,
                reason="not_running",
            )
            # Raised after the block: raising inside would roll the audit record back.
            refusal = ResetNotRunning()
        elif wrong := _wrong_answers(
            reset,
            control_code=control_code,
            email_code=email_code,
            phone_code=phone_code,
            password=password,
            request=request,
        ):
            reset.failed_attempts += 1
            reset.save(update_fields=["failed_attempts"])
            # Staff may see which part was wrong (support needs it); the user never does.
            record(
                AuditEvent.Kind.TWO_FACTOR_RESET_FAILED,
                user=user,
                request=request,
                wrong=wrong,
                attempt=reset.failed_attempts,
            )
            refusal = ResetRefused(void=reset.failed_attempts >= MAX_FAILED_ATTEMPTS)
        else:
            _complete(reset, request=request)
    if refusal:
        raise refusal


def _wrong_answers(
    reset: TwoFactorReset,
    *,
    control_code: str,
    email_code: str,
    phone_code: str,
    password: str,
    request: HttpRequest | None,
) -> list[str]:
    """Which answers are wrong. Every one is checked, so the time taken reveals nothing."""
    user = reset.user
    wrong = []
    if not _same(reset.control_code, normalize_control_code(control_code)):
        wrong.append("control_code")
    for channel, stored, given, name in (
        ("email", reset.email_code_hash, email_code, "email_code"),
        ("phone", reset.phone_code_hash, phone_code, "phone_code"),
    ):
        pin = "".join(given.split())
        if not digest_matches(stored, CODE_PURPOSE, user.pk, reset.control_code, channel, pin):
            wrong.append(name)
    authenticated = authenticate(request, username=user.get_username(), password=password)
    if authenticated is None or authenticated.pk != user.pk:
        wrong.append("password")
    return wrong


def _remove_every_factor(user: User) -> tuple[list[str], int]:
    """Delete the user's keys and Klíč (and a pairing not yet confirmed): (key names, Klíč
    count), for the audit row."""
    now = timezone.now()
    keys = list(SecurityKey.objects.filter(user=user).values_list("name", flat=True))
    devices = KlicDevice.objects.filter(user=user)
    klic_count = devices.count()
    KlicLoginRequest.objects.filter(device__in=devices).delete()
    devices.delete()
    SecurityKey.objects.filter(user=user).delete()
    # An activation code not yet used would pair a Klíč that nobody confirmed after the reset.
    KlicActivation.objects.filter(user=user, used_at__isnull=True, expires_at__gt=now).update(
        expires_at=now
    )
    return keys, klic_count


def reset_login(user: User, *, actor: User, request: HttpRequest) -> bool:
    """The helpdesk processed an officially verified paper form: every second factor removed,
    the NIA link ended at once (someone may be misusing the account: NIA is told by the task,
    however long it is down), every session ended, and a password-reset link sent to the
    confirmed e-mail. `actor` is the staff member, in the audit. True if a NIA link ended."""
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).exists()
        keys, klic_count = _remove_every_factor(user)
        nia_link_cancelled = get_adapter().factors_reset(user, actor=actor, reason="login_reset")
        end_other_sessions(user)
        record(
            AuditEvent.Kind.TWO_FACTOR_RESET,
            user=user,
            actor=actor,
            request=request,
            keys=keys,
            klic_devices=klic_count,
            nia_link_cancelled=nia_link_cancelled,
            via="verified_form",
        )
        tell(user, "two_factor_reset_done", nia_link_cancelled=nia_link_cancelled)
    send_password_reset(
        user.username,
        request=request,
        actor=actor,
        reset_path=lambda uid, token: reverse(
            "accounts:password_reset", kwargs={"uid": uid, "token": token}
        ),
    )
    return nia_link_cancelled


def _complete(reset: TwoFactorReset, *, request: HttpRequest | None) -> None:
    """Remove every second factor, cancel the NIA link, mark the reset used, tell the user."""
    user = reset.user
    now = timezone.now()
    keys, klic_count = _remove_every_factor(user)
    # The flow asked NIA first (outside this transaction): the link ends here, NIA is told after
    # commit and by the reconciling task until it confirms.
    nia_link_cancelled = get_adapter().factors_reset(user, actor=None)
    reset.completed_at = now
    reset.save(update_fields=["completed_at"])
    # A session signed in elsewhere (perhaps by whoever has the lost key) ends too; the browser
    # that completed the reset is signed in afresh by the view.
    end_other_sessions(user)
    record(
        AuditEvent.Kind.TWO_FACTOR_RESET,
        user=user,
        request=request,
        keys=keys,
        klic_devices=klic_count,
        nia_link_cancelled=nia_link_cancelled,
    )
    tell(user, "two_factor_reset_done", nia_link_cancelled=nia_link_cancelled)
