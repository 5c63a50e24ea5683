"""What the benchmarks share: Django on the test settings with a database of their own, and
percentiles. Imported first by each `bench/*.py`, which are run as scripts."""

import os
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent


def start_django(database: str) -> None:
    """Set Django up for a benchmark whose scratch database is `database` (created and dropped
    by the benchmark itself, like a test database)."""
    # bench/webauthn.py would shadow the `webauthn` package: take bench/ off the path.
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH]
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mojeid.settings_test")
    os.environ.setdefault("DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{database}")
    os.environ["DEBUG"] = "0"
    import django

    django.setup()


def percentile_ms(samples: list[float], fraction: float, digits: int = 3) -> float:
    """The `fraction` percentile of `samples` (seconds), in milliseconds."""
    ordered = sorted(samples)
    return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000, digits)
