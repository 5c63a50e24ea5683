"""MojeID Klíč, the phone authenticator: pairing, sign-in approvals, PIN lock-out and unblock.

`services` holds the domain operations, `api` the app's JSON endpoints, `views` the browser pages
(settings, the sign-in step) and `flows` what ties a sign-in request to the browser session.
"""
