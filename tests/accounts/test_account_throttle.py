"""Login throttling per client address, through Redis, and when Redis is down."""

import pytest
from account_helpers import PASSWORD, logged_in, shows
from redis import Redis

WRONG_LOGIN = "The e-mail address or the password is not correct."
TOO_MANY = "Too many failed attempts. Please wait %(minutes)d minutes or reset your password."
WRONG_PASSWORD = "wrong password"


def _attempt(client, email, password=WRONG_PASSWORD, address="203.0.113.7", **headers):
    return client.post_form(
        "/account/login",
        {"email": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
        headers=headers,
    )


@pytest.mark.parametrize("app_config", [{"LOGIN_FAILURES_PER_ADDRESS": 5}])
def test_one_address_guessing_many_accounts_is_throttled(client, make_user, app_config):
    user = make_user(email="anna@example.org")
    for n in range(5):
        assert _attempt(client, f"guess{n}@example.org").status_code == 401
    response = _attempt(client, "anna@example.org", PASSWORD)
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert shows(response, TOO_MANY, minutes=15)
    assert not logged_in(client)
    # A spoofed X-Forwarded-For does not help: no proxy is trusted by default.
    response = _attempt(client, "anna@example.org", PASSWORD, **{"X-Forwarded-For": "198.51.100.1"})
    assert response.status_code == 429
    # Another address (another phone network) is not affected.
    response = _attempt(client, user.email, PASSWORD, address="198.51.100.2")
    assert response.status_code == 302


@pytest.mark.parametrize("app_config", [{"LOGIN_FAILURES_PER_ADDRESS": 5, "PROXY_COUNT": 1}])
def test_behind_a_trusted_proxy_the_forwarded_address_counts(client, app_config):
    for n in range(5):
        response = _attempt(client, f"guess{n}@example.org", **{"X-Forwarded-For": "198.51.100.9"})
        assert response.status_code == 401
    blocked = _attempt(client, "x@example.org", **{"X-Forwarded-For": "198.51.100.9"})
    assert blocked.status_code == 429
    other = _attempt(client, "x@example.org", **{"X-Forwarded-For": "198.51.100.10"})
    assert other.status_code == 401


def test_throttling_through_redis(redis_url, app, client, make_user):
    app.config["REDIS_URL"] = redis_url
    make_user(email="anna@example.org")
    for attempt in range(10):
        response = _attempt(client, "anna@example.org", f"wrong {attempt}")
        assert response.status_code == 401
        assert shows(response, WRONG_LOGIN)
    redis = Redis.from_url(redis_url)
    assert int(redis.get("rl:login:anna@example.org")) == 10
    assert 0 < redis.ttl("rl:login:anna@example.org") <= 15 * 60
    response = _attempt(client, "ANNA@example.org", PASSWORD)
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 15 * 60
    assert not logged_in(client)
    # Nothing was counted in the database: Redis holds the counters.
    from consult.ratelimit import RateLimitCounter

    assert RateLimitCounter.query.count() == 0


def test_a_successful_login_clears_the_redis_counter(redis_url, app, client, make_user):
    app.config["REDIS_URL"] = redis_url
    make_user(email="anna@example.org")
    for _ in range(3):
        _attempt(client, "anna@example.org")
    assert _attempt(client, "anna@example.org", PASSWORD).status_code == 302
    assert Redis.from_url(redis_url).get("rl:login:anna@example.org") is None


def test_throttling_still_works_when_redis_is_down(app, client, make_user):
    # Nothing listens on port 1: every Redis call fails at once and the database takes over.
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    make_user(email="anna@example.org")
    for attempt in range(10):
        assert _attempt(client, "anna@example.org", f"wrong {attempt}").status_code == 401
    response = _attempt(client, "anna@example.org", PASSWORD)
    assert response.status_code == 429
    assert shows(response, TOO_MANY, minutes=15)
