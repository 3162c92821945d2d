"""Rate limits live in Redis when it is configured (shared by all processes), in the
database otherwise, and fall back to the database when Redis is down."""

from datetime import timedelta

import pytest
from redis import Redis

from consult import ratelimit
from consult.clock import travel


@pytest.fixture
def app_config(request):
    if "redis_url" in request.fixturenames:
        return {"REDIS_URL": request.getfixturevalue("redis_url")}
    return {}


def exercise(limit=3, window=60):
    for _ in range(limit):
        assert ratelimit.retry_after("k", limit, window) is None
        ratelimit.hit("k", window)
    wait = ratelimit.retry_after("k", limit, window)
    assert wait is not None and 0 < wait <= window
    return wait


def test_database_counter_blocks_then_forgets(app):
    exercise()
    with travel(timedelta(seconds=61)):
        assert ratelimit.retry_after("k", 3, 60) is None
    ratelimit.reset("k")
    assert ratelimit.retry_after("k", 3, 60) is None


def test_redis_counter_is_shared_and_expires(app, redis_url):
    exercise()
    redis = Redis.from_url(redis_url)
    assert int(redis.get("rl:k")) == 3 and 0 < redis.ttl("rl:k") <= 60
    ratelimit.reset("k")
    assert redis.get("rl:k") is None


def test_redis_down_falls_back_to_the_database(app):
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    exercise()


def test_concurrent_first_events_on_the_database_are_all_counted(app):
    """Many requests creating the same counter at once: one upsert each, no IntegrityError."""
    import threading

    from consult.extensions import db
    from consult.ratelimit import RateLimitCounter, _db_key

    threads, errors, barrier = [], [], threading.Barrier(20)

    def hit_once():
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                ratelimit.hit("race", 60)
            except Exception as exc:  # pragma: no cover - the failure being tested for
                errors.append(exc)
            finally:
                db.session.remove()

    for _ in range(20):
        threads.append(threading.Thread(target=hit_once))
        threads[-1].start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    db.session.expire_all()
    assert db.session.get(RateLimitCounter, _db_key("race")).count == 20
