"""Fixed-window rate limits shared by all processes: in Redis, or in the database without it.

Used for login throttling, voting and idea abuse limits. When Redis is configured but
down or hung, the database takes over so that requests keep working; after one failure
the request (and for a while the process) no longer waits for Redis at all (see
consult.redis_breaker). Counts made in the database during an outage are not carried over
to Redis afterwards: a limit may let through up to twice its count around an outage.
"""

import hashlib
from datetime import datetime, timedelta

from flask import request
from sqlalchemy import String, case, delete, literal
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.exceptions import TooManyRequests

from .clock import now
from .dbtypes import UTCDateTime
from .extensions import db, sql_dialect
from .redis_breaker import redis_failed, redis_worked, usable_redis

KEY_LENGTH = 200


class RateLimitCounter(db.Model):
    """Fixed-window counters, used when no Redis is configured (or it is down)."""

    __tablename__ = "rate_limit_counters"

    key: Mapped[str] = mapped_column(String(KEY_LENGTH), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    count: Mapped[int] = mapped_column(default=0)


def _db_key(key: str) -> str:
    """The key as stored in the table: long keys are shortened by a digest.

    Keys carry user input (a login key holds an address of up to 254 characters), and a
    value longer than the column is a server error on PostgreSQL.
    """
    if len(key) <= KEY_LENGTH:
        return key
    return key[:100] + "#" + hashlib.sha256(key.encode("utf-8")).hexdigest()


def client_address() -> str:
    """The client's address as seen through the configured proxies (see PROXY_COUNT)."""
    return request.remote_addr or "unknown"


def retry_after(key: str, limit: int, window: int) -> int | None:
    """Seconds until ``key`` may act again, or None when it is under ``limit``."""
    redis = usable_redis()
    if redis is not None:
        try:
            count = int(redis.get(f"rl:{key}") or 0)
            ttl = int(redis.ttl(f"rl:{key}")) if count >= limit else 0
        except Exception as exc:
            redis_failed(exc)
        else:
            redis_worked()
            return None if count < limit else max(1, ttl)
    row = db.session.get(RateLimitCounter, _db_key(key))
    if row is None or row.count < limit:
        return None
    remaining = int((row.window_start + timedelta(seconds=window) - now()).total_seconds())
    return remaining if remaining > 0 else None


def retry_after_any(limits: list[tuple[str, int]], window: int) -> int | None:
    """``retry_after`` of the first (key, limit) pair that is over its limit, or None."""
    for key, limit in limits:
        wait = retry_after(key, limit, window)
        if wait:
            return wait
    return None


def hit(key: str, window: int) -> None:
    """Count one event for ``key`` in the current window (commits on the database path)."""
    redis = usable_redis()
    if redis is not None:
        try:
            pipe = redis.pipeline()
            pipe.incr(f"rl:{key}")
            pipe.expire(f"rl:{key}", window, nx=True)
            pipe.execute()
        except Exception as exc:
            redis_failed(exc)
        else:
            redis_worked()
            return
    # One upsert, so that concurrent first events for a key cannot collide.
    t = now()
    started = literal(t, UTCDateTime)
    expired = RateLimitCounter.window_start <= literal(t - timedelta(seconds=window), UTCDateTime)
    db.session.execute(
        sql_dialect()
        .insert(RateLimitCounter)
        .values(key=_db_key(key), window_start=started, count=1)
        .on_conflict_do_update(
            index_elements=[RateLimitCounter.key],
            set_={
                "count": case((expired, 1), else_=RateLimitCounter.count + 1),
                "window_start": case((expired, started), else_=RateLimitCounter.window_start),
            },
        )
    )
    db.session.commit()


# ``count_and_check`` in Redis: KEYS are the counters, ARGV their limits then their windows.
# Returns the longest wait in seconds (0: under every limit, and each counter has counted
# one event; its window starts with its first event). Run as one script, so that the check
# and the counting are one round trip and nothing else runs between them.
_COUNT_AND_CHECK = """
local n = #KEYS
local wait = 0
for i = 1, n do
  local count = tonumber(redis.call('GET', KEYS[i]) or '0')
  if count >= tonumber(ARGV[i]) then
    local ttl = redis.call('TTL', KEYS[i])
    if ttl < 1 then ttl = 1 end
    if ttl > wait then wait = ttl end
  end
end
if wait == 0 then
  for i = 1, n do
    redis.call('INCR', KEYS[i])
    if redis.call('TTL', KEYS[i]) < 0 then
      redis.call('EXPIRE', KEYS[i], tonumber(ARGV[n + i]))
    end
  end
end
return wait
"""


def count_and_check(limits: list[tuple[str, int, int]]) -> int | None:
    """The longest wait among (key, limit, window), or count one event for each key.

    The same as ``retry_after`` and ``hit`` per key, but with Redis in one round trip for
    all keys (a script, sent as EVALSHA; redis-py falls back to EVAL once when the server
    does not know it yet): this runs on every vote.
    """
    redis = usable_redis()
    if redis is not None:
        try:
            script = redis.register_script(_COUNT_AND_CHECK)  # no round trip: a hash
            wait = int(
                script(
                    keys=[f"rl:{key}" for key, _limit, _window in limits],
                    args=[limit for _k, limit, _w in limits] + [w for _k, _l, w in limits],
                )
            )
        except Exception as exc:
            # From here on (retry_after and hit below) nothing waits for Redis again.
            redis_failed(exc)
        else:
            redis_worked()
            return wait or None
    waits = [w for key, limit, window in limits if (w := retry_after(key, limit, window))]
    if waits:
        return max(waits)
    for key, _limit, window in limits:
        hit(key, window)
    return None


def reset(key: str) -> None:
    """Forget the events of ``key`` (after a successful login)."""
    redis = usable_redis()
    if redis is not None:
        try:
            redis.delete(f"rl:{key}")
        except Exception as exc:
            redis_failed(exc)
        else:
            redis_worked()
    db.session.execute(delete(RateLimitCounter).where(RateLimitCounter.key == _db_key(key)))
    db.session.commit()


def wait_minutes(seconds: int) -> int:
    """A wait in whole minutes for a message ("please wait 3 minutes"), at least one."""
    return max(1, (seconds + 59) // 60)


def too_many(seconds: int, message: str) -> TooManyRequests:
    """A 429 with Retry-After and a message in the user's language."""
    return TooManyRequests(description=message, retry_after=seconds)
