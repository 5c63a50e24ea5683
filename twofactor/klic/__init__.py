"""MojeID Klíč, the phone authenticator: pairing, sign-in approvals, PIN lock-out and unblock.

`services` holds the domain operations, `api` the app's JSON endpoints, `views` the browser pages
(settings, the sign-in step) and `flows` the request-bound steps: re-authentication for setting
up, removing and unblocking, and what ties a sign-in request (and the number to match) to the
browser session. Refusals are the typed exceptions of `twofactor.exceptions`.
"""
