"""Database sessions that cost one statement per sign-in instead of five.

Django's database store writes a new session as soon as the key is cycled at sign-in (after
checking that the random key is unused), and then again when the response is sent, each write in
a transaction of its own (BEGIN, the statement, COMMIT). This store only forgets the old key when
it is cycled, so the response's save creates the new row once; it skips the check, since the
insert itself refuses a duplicate key and `create()` then draws another; and outside a transaction
it writes without one, since a single statement in autocommit is atomic by itself.
"""

from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError, UpdateError
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import DatabaseError, IntegrityError, router, transaction
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

    def save(self, must_create: bool = False) -> None:
        using = router.db_for_write(self.model)
        if self.session_key is None or transaction.get_connection(using).in_atomic_block:
            # Inside a transaction a failed insert must not break it: Django's way (a savepoint).
            return super().save(must_create=must_create)
        session = self.create_model_instance(self._get_session(no_load=must_create))
        try:
            session.save(force_insert=must_create, force_update=not must_create, using=using)
        except IntegrityError as error:
            if must_create:
                raise CreateError from error
            raise
        except DatabaseError as error:
            if not must_create:
                # The row is gone (signed out meanwhile): Django's own answer to that.
                raise UpdateError from error
            raise
