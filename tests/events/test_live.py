"""The push: announce after a commit, Redis publish/subscribe between processes, the
in-process broker without Redis, and the server-sent event stream in one process.
(Through real gunicorn processes: test_live_server.py.)"""

import json
import threading
import time

import pytest
from events.event_support import add_participant, make_event, room_idea
from fault_support import RedisServer
from hung_redis import SilentListener
from redis import Redis
from setup_support import app_settings
from wall_support import approve

from consult import create_app
from consult.events import live
from consult.events.live import Broker, announce, channel


@pytest.fixture
def bare_app(tmp_path):
    """An app for what needs no database (announcing, the relay): run once, not per backend."""
    app = create_app(app_settings("sqlite://", str(tmp_path / "mail")))
    with app.app_context():
        yield app


@pytest.fixture
def staff(make_user):
    return make_user(roles=("citizen", "staff"))


def open_stream(client, event_id):
    """The stream's chunks as an iterator (the test client does not buffer it)."""
    response = client.get(f"/live/events/{event_id}/stream", buffered=False)
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Accel-Buffering"] == "no"
    assert "Content-Encoding" not in response.headers
    assert "connect-src 'self'" in response.headers["Content-Security-Policy"]
    return response, iter(response.response)


def changed(chunk) -> list[str]:
    text = chunk.decode() if isinstance(chunk, bytes) else chunk
    assert "event: changed\n" in text, text
    return json.loads(text.split("data: ", 1)[1])["topics"]


def test_a_stream_says_changed_on_connect_and_after_each_approval_without_redis(
    app, client, login, staff
):
    """The embedded default: no Redis, the announce reaches the broker of this process."""
    app.config["LIVE_MIN_GAP"] = 0
    event = make_event()
    idea = room_idea(event, add_participant(event), status="queued")
    login(staff)
    response, chunks = open_stream(client, event.id)
    first = next(chunks).decode()
    assert first.startswith("retry: ") and changed(first) == ["all"]
    assert live.hub(app).broker.listeners(event.id) == 1  # the one thread serving it
    approve(idea)
    assert changed(next(chunks)) == ["ideas"]
    response.close()
    assert live.hub(app).broker.listeners() == 0


def test_bursts_are_one_message_heartbeats_keep_it_alive_and_it_ends_by_itself():
    broker = Broker()
    hub = type("Hub", (), {"broker": broker, "relay": None})()
    stream = live._stream(hub, 7, 0.05, 0.6, 0.2, 2.0, 1000)
    assert changed(next(stream)) == ["all"]
    start = time.monotonic()
    for topic in ["tally"] * 50 + ["round"]:
        broker.notify(7, topic)
    broker.notify(8, "ideas")  # another event: not this stream's business
    assert changed(next(stream)) == ["round", "tally"]  # one message for the burst
    assert 0.15 < time.monotonic() - start < 0.5  # held back by the minimum gap
    assert next(stream) == ": heartbeat\n\n"
    rest = list(stream)  # ends at its lifetime; the browser reconnects
    assert set(rest) == {": heartbeat\n\n"}
    assert time.monotonic() - start < 1.5
    assert broker.listeners() == 0


def next_message(listener, timeout: float):
    """The next published message (get_message answers None for a subscription's reply)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = listener.get_message(timeout=max(0.01, deadline - time.monotonic()))
        if message is not None:
            return message
    return None


def test_announce_publishes_on_the_events_own_channel_in_redis(bare_app, redis_url):
    app = bare_app
    app.config["REDIS_URL"] = redis_url
    redis = Redis.from_url(redis_url)
    listener = redis.pubsub(ignore_subscribe_messages=True)
    listener.subscribe(channel(redis, 1), channel(redis, 2))
    assert channel(redis, 1) == "consult:db6:event:1" or not redis_url.endswith("/6")
    start = time.monotonic()
    announce(2, "ideas")
    announce(2, "nonsense")  # not a topic: nothing is sent
    message = next_message(listener, 2)
    assert time.monotonic() - start < 2
    assert message["channel"].decode() == channel(redis, 2) and message["data"] == b"ideas"
    assert next_message(listener, 0.3) is None  # nothing for event 1, no nonsense
    listener.close()


def test_a_stream_hears_an_announce_through_redis(app, client, login, staff, redis_url):
    """The relay thread of this process subscribes in Redis; the announce publishes there."""
    app.config.update(REDIS_URL=redis_url, LIVE_MIN_GAP=0)
    event = make_event()
    other = make_event(event.challenge, code="HJKMNP")
    idea = room_idea(event, None, status="queued")
    login(staff)
    response, chunks = open_stream(client, event.id)
    assert changed(next(chunks)) == ["all"]
    # The relay says "all" once it has subscribed (messages before it may have been lost).
    assert changed(next(chunks)) == ["all"]
    announce(other.id, "tally")  # another event's channel: this stream hears nothing
    start = time.monotonic()
    approve(idea)
    assert changed(next(chunks)) == ["ideas"]
    latency = time.monotonic() - start
    assert latency < 2, latency
    response.close()
    print(f"\nannounce → Redis → relay → stream: {latency * 1000:.1f} ms")


@pytest.mark.parametrize("fault", ["down", "hung"])
def test_announce_never_raises_and_returns_fast_when_redis_fails(bare_app, fault):
    """Down: a redis-server of the test's own, stopped. Hung: a port that never answers.
    The first announce of a request costs at most one timeout, the next ones nothing."""
    app = bare_app
    redis = RedisServer() if fault == "down" else SilentListener()
    try:
        app.config["REDIS_URL"] = redis.url
        if fault == "down":
            with app.test_request_context("/"):
                announce(1, "ideas")  # Redis answers
            redis.stop()
        timings = []
        for _ in range(3):
            with app.test_request_context("/"):  # announces run in the request that commits
                start = time.monotonic()
                announce(1, "ideas")
                timings.append(time.monotonic() - start)
    finally:
        redis.stop() if fault == "down" else redis.end()
    assert timings[0] < 1.5, timings  # at most one timeout
    assert max(timings[1:]) < 0.05, timings  # then the breaker spares the wait


def test_streams_poll_while_the_relay_has_no_redis(bare_app):
    """A Redis that is gone: the walls get a "changed" every few seconds instead."""
    redis = RedisServer()
    redis.stop()
    bare_app.config.update(REDIS_URL=redis.url, LIVE_DEAF_POLL=0.2)
    stream = live.event_stream(3)
    start = time.monotonic()
    topics = [changed(next(stream)) for _ in range(3)]
    assert topics == [["all"]] * 3
    assert time.monotonic() - start < 2.5
    stream.close()


def test_the_relay_stops_with_the_last_stream(bare_app, redis_url):
    app = bare_app
    app.config["REDIS_URL"] = redis_url
    hub = live.hub(app)
    stream = live.event_stream(5)
    next(stream)
    assert hub.relay._thread is not None
    stream.close()
    thread = hub.relay._thread
    if thread is not None:
        thread.join(3)
        assert not thread.is_alive()
    assert threading.active_count() < 50
