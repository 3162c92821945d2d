"""Redis in requests: a hung Redis costs a request at most one timeout, not one per call.

Everything a request asks of Redis (rate limits, handing jobs to RQ) has a fallback (the
database counters, the outbox), so waiting for a Redis that does not answer only makes the
person wait. A Redis that is frozen rather than down accepts connections and never answers:
each call then waits the full socket timeout. So:

- once a Redis call failed in a request, no later call in that request tries again;
- for COOL_OFF seconds after a failure, no request of this process tries either (a circuit
  breaker, shared by the threads of the process); then one request tries again, and its
  success closes the breaker for all.

Outside requests (the worker's relay, commands) nobody waits on the answer, so those
callers use ``get_redis()`` directly, without the breaker.
"""

import logging
import threading
import time

from flask import current_app, g, has_request_context
from redis import Redis

from .extensions import get_redis

log = logging.getLogger(__name__)

# How long a process leaves Redis alone after a failure. Short enough that limits are
# back in Redis soon after an outage; long enough that a hang costs one request in 30 s.
COOL_OFF = 30.0
_FAILED_IN_REQUEST = "consult_redis_failed"


class CircuitBreaker:
    """Closed: callers go ahead. Open: they do not, until ``cool_off`` seconds have passed;
    then the first caller is let through as a probe (the others still are not) and its
    ``succeeded()`` closes the breaker, its ``failed()`` opens it for another period."""

    def __init__(self, cool_off: float = COOL_OFF, clock=time.monotonic):
        self.cool_off = cool_off
        self.clock = clock
        self._lock = threading.Lock()
        self._open_until: float | None = None  # None: closed

    @property
    def is_open(self) -> bool:
        return self._open_until is not None

    def allows(self) -> bool:
        with self._lock:
            if self._open_until is None:
                return True
            now = self.clock()
            if now < self._open_until:
                return False
            # This caller probes; the others wait for its verdict (or the next period).
            self._open_until = now + self.cool_off
            return True

    def failed(self) -> None:
        with self._lock:
            self._open_until = self.clock() + self.cool_off

    def succeeded(self) -> None:
        if self._open_until is not None:
            with self._lock:
                self._open_until = None


def breaker() -> CircuitBreaker:
    """This app's breaker (one app per process in production; tests make several)."""
    found = current_app.extensions.get("consult_redis_breaker")
    if found is None:
        found = current_app.extensions.setdefault("consult_redis_breaker", CircuitBreaker())
    return found


def redis_available() -> bool:
    """Whether this request may ask Redis now (see the module's docstring)."""
    if not has_request_context():
        return True
    return not g.get(_FAILED_IN_REQUEST) and breaker().allows()


def usable_redis() -> Redis | None:
    """The Redis client if one is configured and may be asked now, else None."""
    redis = get_redis()
    if redis is None or not redis_available():
        return None
    return redis


def redis_failed(exc: Exception) -> None:
    """Report a failed Redis call: nobody in this request, or in this process for a
    while, waits for Redis again."""
    log.warning("Redis failed, the fallback is used for %.0f s: %s", COOL_OFF, exc)
    if has_request_context():
        setattr(g, _FAILED_IN_REQUEST, True)
    breaker().failed()


def redis_worked() -> None:
    """Report a successful Redis call (after an outage, it closes the breaker)."""
    breaker().succeeded()
