"""The eObčanka route ("Using an existing authentication method"): the citizen signs in at NIA
and the request is verified at once from NIA's answer.

`begin` sends the citizen's filed request to NIA as a signed AuthnRequest and remembers which
link it is for; `finish` takes NIA's posted answer, claims that request (once: a second post of
the same answer, or of another answer to the same request, finds nothing), checks the answer
(`clients.saml`), refuses an assertion seen before, and asks NIA's identity-provider interface
who the person is (`TR_ZTOTOZNENI`), exactly as for the other routes.

What ties the answer to the link is kept server-side under the request's ID, not in the session
cookie: NIA's answer arrives as a cross-site POST, which a `SameSite=Lax` cookie does not follow.
"""

import logging
from datetime import UTC, datetime

from django.core.cache import cache

from accounts.models import User

from .clients import nia, saml
from .exceptions import AssertionRefused, IllegalTransition, SystemRefused
from .models import Link, LinkState, Route
from .services import fail, open_link, verify

logger = logging.getLogger(__name__)

PENDING_KEY = "nia_link:authn_request:{}"
# How long a sign-in at NIA may take: the AuthnRequest is forgotten afterwards.
PENDING_SECONDS = 15 * 60
USED_ASSERTION_KEY = "nia_link:assertion:{}"
# An assertion is remembered until it expires (and the clock drift python3-saml allows).
USED_ASSERTION_MIN_SECONDS = 10 * 60
DOCUMENT = "id_card"  # what proved the identity, for NIA's registration of the authenticators


def begin(user: User) -> str:
    """The address that takes the citizen to NIA for their filed eObčanka request.
    IllegalTransition when the account has no such request waiting."""
    link = open_link(user)
    if link is None or link.state != LinkState.REQUESTED or link.route != Route.EOBCANKA:
        raise IllegalTransition("no eObčanka request is waiting")
    url, request_id = saml.authn_request(link.level)
    cache.set(PENDING_KEY.format(request_id), link.pk, PENDING_SECONDS)
    return url


def finish(saml_response: str) -> Link:
    """Verify (or fail) the link whose request NIA answered. AssertionRefused for an answer that
    is not accepted (nothing changed); SystemUnavailable etc. when NIA's interface cannot be
    asked who the person is (nothing changed; the citizen starts again with Verify)."""
    request_id = saml.in_response_to(saml_response)
    link_id = cache.get(PENDING_KEY.format(request_id))
    # The claim: the first post to delete the key wins; a replay finds it gone.
    if link_id is None or not cache.delete(PENDING_KEY.format(request_id)):
        raise AssertionRefused("unknown_request", request_id)
    assertion = saml.read_response(saml_response, request_id)
    if not cache.add(USED_ASSERTION_KEY.format(assertion.id), link_id, _remember_for(assertion)):
        raise AssertionRefused("replayed", assertion.id)
    link = Link.objects.get(pk=link_id)
    if not set(assertion.levels) & set(saml.ACCEPTED_LEVELS[link.level]):
        raise AssertionRefused("level", ", ".join(assertion.levels))
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


def _remember_for(assertion: saml.Assertion) -> int:
    if assertion.not_on_or_after is None:
        return USED_ASSERTION_MIN_SECONDS
    left = (assertion.not_on_or_after - datetime.now(UTC)).total_seconds()
    return max(USED_ASSERTION_MIN_SECONDS, int(left) + saml.CLOCK_DRIFT_SECONDS)
