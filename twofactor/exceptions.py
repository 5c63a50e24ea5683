"""Domain exceptions of the second factors. No HTTP here: views and the app API map them.

Each MojeID Klíč refusal carries a stable `code`: for the app's calls it is the error code the
README documents for the app API, which `twofactor.klic.api` maps to an HTTP status in one table;
the browser pages pick their message by the exception's class.
"""


class TwoFactorError(Exception):
    """Base of the refusals of this app."""


class TooManyKeys(TwoFactorError):
    """The account holds the most security keys it may (`services.MAX_KEYS`)."""


# --- MojeID Klíč ----------------------------------------------------------------------------------


class KlicError(TwoFactorError):
    """A refusal of a MojeID Klíč operation.

    `code` names the refusal for good (the app API sends it as "error"); `detail` is a developer's
    description, never shown to a user as is; `extra` holds what the app may show beside the
    message (e.g. `pin_attempts_left`).
    """

    code = "klic_error"

    def __init__(self, detail: str = "", **extra: object):
        super().__init__(detail or self.code)
        self.detail = detail or self.code
        self.extra = extra


class MalformedCall(KlicError):
    """The app sent a call that cannot be read: not JSON, a field missing or of the wrong kind."""

    code = "bad_request"


class BadSignature(KlicError):
    """The call is not signed by the key of the app it names."""

    code = "bad_signature"


class ReplayedCall(KlicError):
    """The call's nonce was seen before, or its timestamp is too far from the portal's clock."""

    code = "replayed"


class UnknownDevice(KlicError):
    """No such app is paired with an active account (or it was removed)."""

    code = "unknown_device"


class InvalidActivationCode(KlicError):
    """The activation code is unknown, expired or used."""

    code = "invalid_code"


class KlicNotConfirmed(KlicError):
    """The app is paired, but the user has not confirmed the pairing yet."""

    code = "not_active"


class KlicBlocked(KlicError):
    """The app is blocked after five wrong PINs in a row."""

    code = "blocked"


class UnknownLoginRequest(KlicError):
    """No such sign-in request for this app."""

    code = "unknown_request"


class WrongChallenge(KlicError):
    """The decision names a challenge that is not the request's."""

    code = "wrong_challenge"


class LoginRequestExpired(KlicError):
    """The sign-in request expired before it was decided."""

    code = "expired"


class LoginRequestDecided(KlicError):
    """The sign-in request was approved or denied already."""

    code = "not_pending"


class WrongPin(KlicError):
    """The PIN proof does not match; `extra["pin_attempts_left"]` says how many tries remain."""

    code = "wrong_pin"


class WrongNumber(KlicError):
    """The user picked a number the browser does not show: the request is denied for good."""

    code = "wrong_number"


class KlicNotUsable(KlicError):
    """The user has no confirmed MojeID Klíč that can be asked now (none, or it is blocked)."""

    code = "not_usable"


class UnblockRefused(KlicError):
    """The user may not unblock their MojeID Klíč themselves now."""

    code = "unblock_refused"


class NoOtherFactor(UnblockRefused):
    """The user has no other second factor to prove: only the helpdesk can unblock the app."""

    code = "no_other_factor"


class UnblockedRecently(UnblockRefused):
    """The user unblocked the app themselves less than 24 hours ago."""

    code = "unblocked_recently"


class LinkedServiceUnavailable(TwoFactorError):
    """A service above that had to hear of a change (NIA) could not be reached; nothing changed.

    `message` is for the user (the service's own words).
    """

    def __init__(self, message):
        self.message = message
        super().__init__(str(message))
