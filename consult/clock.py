"""The one clock of the application.

Phases, embargoes and link expiry are derived from ``now()``; tests move it with
``travel()`` instead of patching datetime everywhere.
"""

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

_offset = timedelta(0)
_frozen: datetime | None = None


def now() -> datetime:
    """The current time, timezone-aware in UTC."""
    if _frozen is not None:
        return _frozen
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


@contextmanager
def frozen(at: datetime):
    """Stop the clock at ``at`` for the duration of the block (tests only): a test of the
    second before a boundary stays exact however slowly a busy machine serves its pages."""
    global _frozen
    previous = _frozen
    _frozen = at
    try:
        yield
    finally:
        _frozen = previous
