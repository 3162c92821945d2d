"""A Redis that is down or hung (tests/hung_redis.py) costs a visitor at most one timeout:
the page is rendered, never a 500, and the breaker spares the visitors after."""

import time

import pytest
from cache_support import state
from hung_redis import FrozenRedis, SilentListener
from setup_support import free_port
from voting_support import challenge_with_ideas


@pytest.fixture(params=["down", "silent", "frozen"])
def broken_redis(request, tmp_path):
    if request.param == "down":
        yield f"redis://127.0.0.1:{free_port()}/0", None
        return
    redis = FrozenRedis(tmp_path) if request.param == "frozen" else SilentListener()
    yield redis.url, redis
    redis.end()


@pytest.fixture
def app_config(broken_redis):
    return {"REDIS_URL": broken_redis[0]}


def test_a_redis_down_or_hung_costs_one_timeout_and_the_page_is_rendered(app, client, broken_redis):
    challenge, _ideas = challenge_with_ideas(1)
    redis = broken_redis[1]
    if redis is not None:
        redis.hang()
    for i in range(3):
        started = time.monotonic()
        response = client.get(f"/challenges/{challenge.id}")
        seconds = time.monotonic() - started
        assert response.status_code == 200 and state(response) == "miss"
        # One timeout (1 s) for the first visitor; then the breaker spares the others.
        assert seconds < (2.5 if i == 0 else 0.9), (i, seconds)
    # A search's single cards: rendered, the breaker still open, nothing waits.
    started = time.monotonic()
    response = client.get(f"/challenges/{challenge.id}?q=Idee")
    assert response.status_code == 200 and 'class="idea"' in response.get_data(as_text=True)
    assert time.monotonic() - started < 0.9
