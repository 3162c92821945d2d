"""The one clock of the application.

Phases, embargoes and link expiry are derived from ``now()``; tests move it with
``travel()`` instead of patching datetime everywhere.
"""

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

_offset = timedelta(0)


def now() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC) + _offset


@contextmanager
def travel(delta: timedelta):
    """Shift the clock by ``delta`` for the duration of the block (tests only)."""
    global _offset
    previous = _offset
    _offset = previous + delta
    try:
        yield
    finally:
        _offset = previous
