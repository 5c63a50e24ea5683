"""Domain operations of the NIA link (the state machine in DESIGN.md §4).

For now only the hook that other apps call when an account's link must end: the NIA link issue
fills it with the real transition to `cancelled`. Callers depend on its contract, not its body.
"""

from accounts.models import User


def cancel_link(user: User, *, reason: str, actor: User | None = None) -> bool:
    """Cancel the user's link to NIA, in whatever state it is (requested, verified or active).

    `reason` names why, for the audit record: "two_factor_reset", and later e.g. "user",
    "key_removed", "helpdesk". `actor` is who caused it; None is the system.

    Runs in the caller's transaction, and must be idempotent (no link, or one cancelled
    already: nothing to do). Returns True when a link was cancelled, so that the caller can tell
    the user; raises NiaUnavailable when NIA must be told and cannot be.

    Until the NIA link exists no account has one: it does nothing and returns False.
    """
    return False
