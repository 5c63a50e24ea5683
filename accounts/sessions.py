"""Database sessions that cost one write per sign-in instead of three.

Django's database store writes a new session as soon as the key is cycled at sign-in (after
checking that the random key is unused), and then again when the response is sent. This store
only forgets the old key when it is cycled, so the response's save creates the new row once, and it
skips the check: the insert itself refuses a duplicate key and `create()` then draws another.

"""

from django.contrib.sessions.backends.base import VALID_KEY_CHARS
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.utils.crypto import get_random_string


class SessionStore(DatabaseSessionStore):
    def _get_new_session_key(self) -> str:
        return get_random_string(32, VALID_KEY_CHARS)

    def cycle_key(self) -> None:
        data, old_key = self._session, self.session_key
        self._session_key = None
        self._session_cache = data
        self.modified = True
        if old_key:
            self.delete(old_key)
