"""The eObčanka route ("Using an existing authentication method"): the citizen signs in at NIA
and the request is verified at once from NIA's answer.

`begin` sends the citizen's filed request to NIA as a signed AuthnRequest and remembers which
link it is for; `finish` takes NIA's posted answer, claims that request (once: a second post of
the same answer, or of another answer to the same request, finds nothing), checks the answer
(`clients.saml`), refuses an assertion seen before, and asks NIA's identity-provider interface
who the person is (`TR_ZTOTOZNENI`), exactly as for the other routes.

What ties the answer to the link is kept in the database under the request's ID
(`AuthnRequest`), not in the session cookie: NIA's answer arrives as a cross-site POST, which a
`SameSite=Lax` cookie does not follow. Accepted assertions are kept (`UsedAssertion`) until they
could no longer be valid.
"""

import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from twofactor.eligibility import SUBSTANTIAL, key_eligible
from twofactor.models import SecurityKey

from .clients import nia, saml
from .exceptions import AssertionRefused, IllegalTransition, SystemRefused
from .models import (
    AuthnRequest,
    KeyVerification,
    Level,
    Link,
    LinkState,
    Route,
    UsedAssertion,
)
from .services import fail, open_link, verify

logger = logging.getLogger(__name__)

# How long a sign-in at NIA may take: an AuthnRequest older than this is not answered.
PENDING = timedelta(minutes=15)
# An accepted assertion is remembered at least this long (and until its NotOnOrAfter passes,
# with the clock drift python3-saml allows).
USED_ASSERTION_MIN = timedelta(minutes=10)
DOCUMENT = "id_card"  # what proved the identity, for NIA's registration of the authenticators


def begin(user: User) -> str:
    """The address that takes the citizen to NIA for their filed eObčanka request.
    IllegalTransition when the account has no such request waiting."""
    link = open_link(user)
    if link is None or link.state != LinkState.REQUESTED or link.route != Route.EOBCANKA:
        raise IllegalTransition("no eObčanka request is waiting")
    url, request_id = saml.authn_request(link.level)
    now = timezone.now()
    # Housekeeping on the way: what can no longer be answered or replayed.
    AuthnRequest.objects.filter(created_at__lt=now - PENDING).delete()
    UsedAssertion.objects.filter(forget_after__lt=now).delete()
    # Only the latest Verify is answered: clicking it again and again keeps one row a link.
    AuthnRequest.objects.filter(link=link).delete()
    AuthnRequest.objects.create(request_id=request_id, link=link)
    return url


def begin_for_key(user: User, key: SecurityKey, *, level: str | None = None) -> str:
    """The address that takes the citizen to NIA to verify their identity for one more security
    key of their active link ("Get" → Using an existing authentication method → Verify): any
    means NIA offers will do, MojeID with a key registered already among them. IllegalTransition
    when the account has no active link, or the key cannot get access. `level` "high" asks NIA
    for a high sign-in (to raise the key to high), else the link's level is asked."""
    link = Link.objects.filter(user=user, state=LinkState.ACTIVE).first()
    if link is None or key.user_id != user.pk or not key_eligible(key, level or SUBSTANTIAL):
        raise IllegalTransition("no active link, or the key is not eligible")
    url, request_id = saml.authn_request(level or link.level)
    now = timezone.now()
    AuthnRequest.objects.filter(created_at__lt=now - PENDING).delete()
    UsedAssertion.objects.filter(forget_after__lt=now).delete()
    AuthnRequest.objects.filter(link=link, security_key=key).delete()
    AuthnRequest.objects.create(request_id=request_id, link=link, security_key=key)
    return url


def finish(saml_response: str) -> Link | KeyVerification:
    """Verify (or fail) the link whose request NIA answered — or, for a request of "Get", record
    that the person is the link's, for the key (a `KeyVerification`). AssertionRefused for an
    answer that is not accepted (nothing changed); SystemUnavailable etc. when NIA's interface
    cannot be asked who the person is (nothing changed; the citizen starts again with Verify)."""
    request_id = saml.in_response_to(saml_response)
    pending = AuthnRequest.objects.filter(
        request_id=request_id, created_at__gte=timezone.now() - PENDING
    ).first()
    # The claim: the first answer to delete the request wins; a replay finds it gone.
    if pending is None or not AuthnRequest.objects.filter(pk=pending.pk).delete()[0]:
        raise AssertionRefused("unknown_request", request_id)
    assertion = saml.read_response(saml_response, request_id)
    try:
        with transaction.atomic():
            UsedAssertion.objects.create(
                assertion_id=assertion.id[:100], forget_after=_forget_after(assertion)
            )
    except IntegrityError:
        raise AssertionRefused("replayed", assertion.id) from None
    link = Link.objects.get(pk=pending.link_id)
    if not set(assertion.levels) & set(saml.ACCEPTED_LEVELS[link.level]):
        raise AssertionRefused("level", ", ".join(assertion.levels))
    if pending.security_key_id is not None:
        return _verify_for_key(link, pending.security_key_id, assertion)
    evidence = {"assertion": assertion.id}
    try:
        person = nia.match_person(
            assertion.first_names,
            assertion.last_name,
            assertion.birth_date,
            birth_place=assertion.birth_place or None,
        )
    except SystemRefused as refusal:
        if refusal.code != nia.AMBIGUOUS:
            raise
        person = None
    if person is None:
        return fail(link.pk, "not_matched", evidence=evidence)
    return verify(link.pk, person, document=DOCUMENT, evidence=evidence)


def _forget_after(assertion: saml.Assertion) -> datetime:
    at_least = timezone.now() + USED_ASSERTION_MIN
    if assertion.not_on_or_after is None:
        return at_least
    return max(at_least, assertion.not_on_or_after + timedelta(seconds=saml.CLOCK_DRIFT_SECONDS))


def _verify_for_key(link: Link, key_id: int, assertion: saml.Assertion) -> KeyVerification:
    """The person NIA signed in must be the link's (the same BSI for MojeID); then the key may be
    registered, at high only if NIA asserted high (an existing high means, DESIGN §8)."""
    person = nia.match_person(
        assertion.first_names,
        assertion.last_name,
        assertion.birth_date,
        birth_place=assertion.birth_place or None,
    )
    if person is None or person.bsi.lower() != link.bsi.lower():
        raise AssertionRefused("another_person", assertion.id)
    if link.state != LinkState.ACTIVE:
        raise IllegalTransition("the link ended meanwhile")
    return KeyVerification.objects.create(
        link=link,
        security_key_id=key_id,
        level=Level.HIGH if saml.LOA_HIGH in assertion.levels else Level.SUBSTANTIAL,
        assertion_id=assertion.id[:100],
    )
