"""The NIA link's domain exceptions: what went wrong, for services, flows and tasks to act on.

No HTTP here: a view turns them into a page or a status code, a task into its report.
"""

from django.utils.translation import gettext_lazy as _


class NiaLinkError(Exception):
    """Base of the NIA link's exceptions."""


class SystemUnavailable(NiaLinkError):
    """An outside system (`system`: "nia", "rob" or "isds") could not be reached or did not answer
    in time, or answered that it is down (5xx). Nothing may be assumed about a call that changes
    records: it may or may not have happened, and a task must find out."""

    def __init__(self, system: str, detail: str):
        self.system, self.detail = system, detail
        super().__init__(f"{system} unavailable: {detail}")


class SystemRefused(NiaLinkError):
    """An outside system refused the call (4xx, or NIA's `Status: Error`): `code` is its reason
    (e.g. "not_found", "NENALEZEN"). The call did not happen."""

    def __init__(self, system: str, code: str, detail: str = ""):
        self.system, self.code, self.detail = system, code, detail
        super().__init__(f"{system} refused: {code} {detail}".strip())


class SystemAnswerInvalid(NiaLinkError):
    """An outside system answered something that is not what its interface promises (not JSON,
    too large, a field missing or of the wrong type). Treated like unavailability by callers that
    change records: the call's outcome is unknown."""

    def __init__(self, system: str, detail: str):
        self.system, self.detail = system, detail
        super().__init__(f"{system} answered invalid data: {detail}")


class NiaUnavailable(NiaLinkError):
    """NIA had to be told and could not be reached; the caller must change nothing.

    `message` is for the user. Raised inside the caller's transaction, it rolls the whole
    operation back, so e.g. a two-factor reset stays unfinished and can be tried again.
    """

    def __init__(self, message=None):
        self.message = message or _(
            "The national identity hub (NIA) cannot be reached now. Nothing was changed; "
            "try again later."
        )
        super().__init__(str(self.message))


class IllegalTransition(NiaLinkError):
    """The link is not in a state this operation starts from (a second click, a stale page, a
    task repeating itself): nothing was changed."""


class VerificationRefused(NiaLinkError):
    """The account or the person may not (yet) be linked: `problems` are the codes of
    `nia_link.internal.eligibility.MESSAGES`. Nothing was changed."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(", ".join(problems))


class AssertionRefused(NiaLinkError):
    """NIA's answer to the eObčanka route was not accepted (`reason`: "invalid" — not a valid,
    signed answer to a request of ours, for us, now; "declined" — NIA answered that the citizen
    was not signed in; "unknown_request" — no request of ours waits for it, or it was used;
    "replayed" — this assertion was used already; "level" — below the level asked for).
    Nothing was changed."""

    def __init__(self, reason: str, detail: str = ""):
        self.reason, self.detail = reason, detail
        super().__init__(f"{reason}: {detail}" if detail else reason)
