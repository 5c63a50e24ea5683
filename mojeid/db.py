"""What the platform knows about its databases beyond Django's ORM."""

from django.db import OperationalError

# A lock that could not be had in time: PostgreSQL's lock_not_available and deadlock_detected.
POSTGRESQL_BUSY_CODES = {"55P03", "40P01"}
# How long a client should wait before trying again a request that met a busy database.
BUSY_RETRY_SECONDS = 2


def database_busy(problem: OperationalError) -> bool:
    """Whether the database refused for a lock it could not get in time (a retry may pass).

    Such a transaction changed nothing: it rolled back whole.
    """
    if getattr(problem.__cause__, "pgcode", None) in POSTGRESQL_BUSY_CODES:
        return True
    return "database is locked" in str(problem)  # SQLite, past its busy timeout
