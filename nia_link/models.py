"""The NIA link's records (DESIGN §4): the link of an account with its state, the authenticators
registered with NIA under it, the cursors of the feeds the tasks read, and what the feeds brought
that matched no request (kept for the helpdesk)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Route(models.TextChoices):
    CZECH_POINT = "czech_point", _("Czech POINT office")
    DATA_BOX = "data_box", _("Data box")
    EOBCANKA = "eobcanka", _("Existing authentication method")


class Level(models.TextChoices):
    SUBSTANTIAL = "substantial", _("substantial")
    HIGH = "high", _("high")


class LinkState(models.TextChoices):
    REQUESTED = "requested", _("Request filed")
    VERIFIED = "verified", _("Verified")
    ACTIVATING = "activating", _("Being completed")  # NIA is being told; a task reconciles
    ACTIVE = "active", _("Active")
    ENDING = "ending", _("Ending at NIA")  # ended here; a task tells NIA until it confirms
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


#: One of these per account at most: the link being built, in force, or being told to NIA.
OPEN_STATES = (
    LinkState.REQUESTED,
    LinkState.VERIFIED,
    LinkState.ACTIVATING,
    LinkState.ACTIVE,
    LinkState.ENDING,
)


class Link(models.Model):
    """An account's link to NIA, from the request to its end; ended ones stay as history."""

    # Never filtered, searched or sorted in an admin (adminguard): a code ties a person to a
    # request, as on the desk's paper.
    SECRET_FIELDS = ("request_code",)

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="nia_links"
    )
    state = models.CharField(_("state"), max_length=16, choices=LinkState.choices)
    level = models.CharField(_("level of assurance"), max_length=16, choices=Level.choices)
    route = models.CharField(_("verification"), max_length=16, choices=Route.choices)
    # What the citizen brings to the office or writes into the message; none for eObčanka.
    request_code = models.CharField(_("request code"), max_length=14, blank=True)
    created_at = models.DateTimeField(_("requested"), auto_now_add=True)
    verified_at = models.DateTimeField(_("verified"), null=True, blank=True)
    # When the citizen was reminded of a Czech POINT request still waiting (once).
    reminded_at = models.DateTimeField(_("reminded"), null=True, blank=True)
    activated_at = models.DateTimeField(_("active since"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    # Why a link failed or ended: a code the pages and the helpdesk explain.
    end_reason = models.CharField(_("reason"), max_length=40, blank=True)
    # The person's pseudonym for MojeID at NIA (BSI) and the register's data NIA gave with it.
    bsi = models.CharField(_("BSI"), max_length=64, blank=True)
    register_data = models.JSONField(_("register data"), null=True, blank=True)
    # Which document proved the identity (the Czech POINT clerk's, the eObčanka), for NIA.
    identity_document = models.CharField(_("identity document"), max_length=24, blank=True)

    class Meta:
        verbose_name = _("NIA link")
        verbose_name_plural = _("NIA links")
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(state__in=OPEN_STATES), name="one_open_nia_link"
            ),
            models.UniqueConstraint(
                fields=["request_code"],
                condition=~Q(request_code=""),
                name="nia_link_request_code_unique",
            ),
        ]
        indexes = [models.Index(fields=["state", "created_at"])]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_state_display()}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class RegistrationState(models.TextChoices):
    ACTIVE = "active", _("Active")
    INACTIVE = "inactive", _("Suspended at NIA")  # NIA suspended it on its side (EVPROST)
    ENDED = "ended", _("Ended")


class Registration(models.Model):
    """An authenticator (a security key or MojeID Klíč) registered with NIA under a link.

    `wanted` is what the portal wants NIA to hold; `at_nia` what NIA confirmed last. They differ
    only while a call is outstanding or failed half-way: the reconciling task repeats the call
    (NIA's writes are idempotent) until they agree.
    """

    link = models.ForeignKey(Link, on_delete=models.CASCADE, related_name="registrations")
    # NIA's `IdentifikaceProstredku`: stable for the authenticator, never reused.
    identifier = models.CharField(_("identifier at NIA"), max_length=64, unique=True)
    security_key = models.ForeignKey(
        "twofactor.SecurityKey",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="nia_registrations",
    )
    klic_device = models.ForeignKey(
        "twofactor.KlicDevice",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="nia_registrations",
    )
    level = models.CharField(_("level of assurance"), max_length=16, choices=Level.choices)
    wanted = models.CharField(_("wanted at NIA"), max_length=8, choices=RegistrationState.choices)
    at_nia = models.CharField(
        _("confirmed by NIA"), max_length=8, choices=RegistrationState.choices, blank=True
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("changed"), auto_now=True)

    class Meta:
        verbose_name = _("NIA registration")
        verbose_name_plural = _("NIA registrations")
        constraints = [
            models.CheckConstraint(
                condition=Q(security_key__isnull=True) | Q(klic_device__isnull=True),
                name="nia_registration_one_authenticator",
            )
        ]

    def __str__(self) -> str:
        return self.identifier

    @property
    def agreed(self) -> bool:
        return self.wanted == self.at_nia


class FeedCursor(models.Model):
    """Where a task stopped reading a feed: saved only after the page before it was processed."""

    feed = models.CharField(_("feed"), max_length=32, unique=True)
    position = models.BigIntegerField(_("position"), default=0)
    updated_at = models.DateTimeField(_("changed"), auto_now=True)

    class Meta:
        verbose_name = _("feed cursor")
        verbose_name_plural = _("feed cursors")

    def __str__(self) -> str:
        return f"{self.feed} @ {self.position}"


class UnmatchedSource(models.TextChoices):
    PROVISION = "provision", _("Czech POINT data provision")
    MESSAGE = "message", _("Data-box message")


class Unmatched(models.Model):
    """A provision or a data-box message that matched no open request, kept for the helpdesk."""

    # Shown to the helpdesk as typed, never searched, filtered or sorted on (adminguard): a code
    # is what ties a person to a request.
    SECRET_FIELDS = ("request_code",)

    source = models.CharField(_("source"), max_length=16, choices=UnmatchedSource.choices)
    external_id = models.BigIntegerField(_("id in its system"))
    request_code = models.CharField(_("request code"), max_length=14, blank=True)
    reason = models.CharField(_("reason"), max_length=40)
    received_at = models.DateTimeField(_("received"), auto_now_add=True)
    summary = models.JSONField(_("summary"), default=dict)

    class Meta:
        verbose_name = _("unmatched provision or message")
        verbose_name_plural = _("unmatched provisions and messages")
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="unmatched_once")
        ]

    def __str__(self) -> str:
        return f"{self.get_source_display()} {self.external_id}"


class AuthnRequest(models.Model):
    """An AuthnRequest the eObčanka route sent to NIA, until NIA's answer claims it (once).

    Kept in the database rather than the cache: a claim must be atomic across every web worker
    and must not be forgotten by a cache's eviction."""

    request_id = models.CharField(max_length=100, unique=True)
    link = models.ForeignKey(Link, on_delete=models.CASCADE, related_name="+")
    # Set when the request verifies the identity for one more key of an active link ("Get").
    security_key = models.ForeignKey(
        "twofactor.SecurityKey", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.request_id


class KeyVerification(models.Model):
    """NIA confirmed, for a later security key of an active link ("Get" → Verify), that the person
    signing in is the link's person: the key may be registered with NIA by Complete, once, soon.
    `level` is the highest level the key may get from that proof."""

    link = models.ForeignKey(Link, on_delete=models.CASCADE, related_name="+")
    security_key = models.ForeignKey(
        "twofactor.SecurityKey", on_delete=models.CASCADE, related_name="+"
    )
    level = models.CharField(_("level of assurance"), max_length=16, choices=Level.choices)
    assertion_id = models.CharField(max_length=100)
    verified_at = models.DateTimeField(_("verified"), auto_now_add=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    class Meta:
        verbose_name = _("verification for a security key")
        verbose_name_plural = _("verifications for security keys")

    def __str__(self) -> str:
        return f"{self.security_key_id} @ {self.verified_at:%Y-%m-%d %H:%M}"


class UsedAssertion(models.Model):
    """An assertion of NIA the portal accepted: never accepted again while it could be valid."""

    assertion_id = models.CharField(max_length=100, unique=True)
    forget_after = models.DateTimeField()

    def __str__(self) -> str:
        return self.assertion_id


class SignInRequest(models.Model):
    """An AuthnRequest of NIA that the portal's identity provider accepted, until it is answered
    (once): a citizen signing in to a public administration service with MojeID.

    Kept in the database: NIA posts the request from its own site (no session cookie comes with
    it); the citizen's browser then opens the sign-in page named by `token`. NIA's request ID is
    unique, so a replayed request finds it taken."""

    SECRET_FIELDS = ("token",)

    token = models.CharField(max_length=64, unique=True)
    request_id = models.CharField(_("NIA's request ID"), max_length=100, unique=True)
    service_name = models.CharField(_("service"), max_length=100, blank=True)
    level = models.CharField(_("level of assurance"), max_length=16, choices=Level.choices)
    # The accepted AuthnRequest (`internal.saml_idp.AuthnRequest`) to answer it from.
    request = models.JSONField()
    created_at = models.DateTimeField(_("received"), auto_now_add=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=24, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("sign-in through NIA")
        verbose_name_plural = _("sign-ins through NIA")
        indexes = [models.Index(fields=["created_at"])]

    def __str__(self) -> str:
        return f"{self.service_name or 'NIA'} {self.created_at:%Y-%m-%d %H:%M}"
