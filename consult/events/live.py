"""Telling the projector walls and moderators of an event that something changed.

``announce(event_id, topic)`` is called after a commit (an idea approved, a vote, a round
started or stopped). It carries no content, only "topic T of event E changed": a wall
that hears it fetches the event's state (``/events/<id>/wall/state.json``), so a lost or
doubled message costs one fetch, never a wrong wall, and nobody can push content.
Phones are never pushed to (they reload or post).

How a message reaches a wall:

- With Redis (production), ``announce`` PUBLISHes the topic on the event's channel. Each
  process that serves streams runs one relay thread (while it has listeners) that
  PSUBSCRIBEs to all event channels and hands each message to the process's broker. So
  any number of web processes announce and any number of live processes listen, and one
  Redis connection per live process serves all its walls.
- Without Redis (the embedded default: one process, jobs inline), ``announce`` hands the
  topic straight to the broker of its own process.

The broker is a condition variable with a version number per (event, topic); a stream
(``event_stream``) waits on it with a timeout, so it needs no thread besides the one
serving it. A stream sends "changed" on connect, then one per burst of announces (at most
one every ``MIN_GAP`` seconds), a heartbeat comment every ``HEARTBEAT`` seconds, and ends
after ``LIFETIME`` seconds (the browser's EventSource reconnects after ``retry``), so no
projector holds a thread for ever. While the relay has lost Redis, streams fall back to a
"changed" every ``DEAF_POLL`` seconds: the wall then polls through its stream.
"""

import contextlib
import json
import logging
import threading
import time
from collections.abc import Iterator

from flask import Flask, current_app
from redis import Redis

from .. import redis_breaker

log = logging.getLogger(__name__)

TOPICS = ("ideas", "queue", "round", "tally", "event")

# Defaults of the stream's timing; each may be set as LIVE_<NAME> in the configuration.
HEARTBEAT = 15.0  # seconds between comments that keep proxies and the browser from giving up
LIFETIME = 300.0  # seconds a stream lives before the browser reconnects
MIN_GAP = 0.25  # seconds between two "changed" of one stream (a burst of votes is one fetch)
RETRY_MS = 2000  # how long EventSource waits before it reconnects
DEAF_POLL = 2.0  # seconds between "changed" while the relay has no Redis
# The relay pings Redis when it heard nothing for this long, and takes Redis for lost when
# the answer does not come within PONG_WAIT (a frozen Redis never closes the socket).
RELAY_PING_EVERY = 10.0
PONG_WAIT = 5.0
RELAY_RETRY = 1.0  # seconds between attempts to reach Redis again


def channel_prefix(redis: Redis) -> str:
    """The prefix of the events' channels. Publish/subscribe ignores Redis database
    numbers, so two instances sharing one Redis on different databases (a city's staging
    and production) would hear each other's events: the database number is part of the
    name unless it is 0."""
    number = int(redis.connection_pool.connection_kwargs.get("db") or 0)
    return "consult:event:" if number == 0 else f"consult:db{number}:event:"


def channel(redis: Redis, event_id: int) -> str:
    """The one channel ``event_id``'s messages go to."""
    return f"{channel_prefix(redis)}{int(event_id)}"


# --- announcing -----------------------------------------------------------------------------


def announce(event_id: int, topic: str) -> None:
    """Publish that ``topic`` of event ``event_id`` changed. Never raises: a wall that
    misses a message catches up on its next fetch.

    Call it after the commit, so that a wall fetching at once sees the change. With Redis
    it costs one PUBLISH; a Redis that is down or hung costs at most one short timeout
    per process and then nothing for a while (``consult.redis_breaker``).
    """
    try:
        event_id = int(event_id)
        if topic not in TOPICS:
            log.warning("announce: unknown topic %r for event %s", topic, event_id)
            return
        if not current_app.config.get("REDIS_URL"):
            hub(current_app).broker.notify(event_id, topic)
            return
        redis = redis_breaker.usable_redis()
        if redis is not None:
            try:
                redis.publish(channel(redis, event_id), topic)
            except Exception as exc:
                redis_breaker.redis_failed(exc)
            else:
                redis_breaker.redis_worked()
                return
        # Redis failed: at least the walls served by this very process hear it.
        hub(current_app).broker.notify(event_id, topic)
    except Exception:  # announcing is a courtesy; the change itself is committed
        log.exception("announce of %r for event %r failed", topic, event_id)


# --- the broker of one process --------------------------------------------------------------


class Broker:
    """Versions of what changed, per event and topic, for the streams of this process.

    Only events somebody listens to are tracked: a stream that connects later starts with
    a "changed" anyway. One condition variable for all events keeps it simple; waking the
    streams of other events costs them one comparison.
    """

    def __init__(self):
        self._cond = threading.Condition()
        self._clock = 0
        self._versions: dict[int, dict[str, int]] = {}
        self._listeners: dict[int, int] = {}
        self.deaf = False  # the relay has no Redis: streams poll (see the module docstring)

    def subscribe(self, event_id: int) -> int:
        """Count a stream of ``event_id``; returns the version it has seen."""
        with self._cond:
            self._listeners[event_id] = self._listeners.get(event_id, 0) + 1
            self._versions.setdefault(event_id, {})
            return self._clock

    def unsubscribe(self, event_id: int) -> None:
        with self._cond:
            left = self._listeners.get(event_id, 0) - 1
            if left > 0:
                self._listeners[event_id] = left
            else:
                self._listeners.pop(event_id, None)
                self._versions.pop(event_id, None)
            self._cond.notify_all()  # the relay may stop when nobody listens

    def listeners(self, event_id: int | None = None) -> int:
        """How many streams listen (to ``event_id``, or to any event)."""
        with self._cond:
            if event_id is None:
                return sum(self._listeners.values())
            return self._listeners.get(event_id, 0)

    def notify(self, event_id: int, topic: str) -> None:
        with self._cond:
            versions = self._versions.get(event_id)
            if versions is None:
                return  # nobody listens here
            self._clock += 1
            versions[topic] = self._clock
            self._cond.notify_all()

    def notify_everyone(self) -> None:
        """Anything may have changed (the relay reached Redis again after missing messages)."""
        with self._cond:
            self._clock += 1
            for versions in self._versions.values():
                versions["all"] = self._clock
            self._cond.notify_all()

    def changes(self, event_id: int, seen: int) -> tuple[int, list[str]]:
        """The newest version of ``event_id`` and the topics changed after ``seen``."""
        with self._cond:
            return self._changes(event_id, seen)

    def _changes(self, event_id: int, seen: int) -> tuple[int, list[str]]:
        versions = self._versions.get(event_id, {})
        topics = sorted(t for t, v in versions.items() if v > seen)
        return max([seen, *versions.values()]), topics

    def wait(self, event_id: int, seen: int, timeout: float) -> tuple[int, list[str]]:
        """Wait up to ``timeout`` seconds for a change after ``seen``; as ``changes``."""
        with self._cond:
            self._cond.wait_for(lambda: self._changes(event_id, seen)[1], max(timeout, 0))
            return self._changes(event_id, seen)


# --- the relay: Redis to this process's broker ----------------------------------------------


class Relay:
    """One thread per process that hears every event channel in Redis while streams listen.

    It is started by the first stream and ends by itself within a second of the last
    stream ending (so tests and idle processes keep no thread). It reconnects after a
    failure and then wakes every stream, since messages may have been lost meanwhile.
    """

    def __init__(self, url: str, broker: Broker):
        self.url = url
        self.broker = broker
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def ensure_running(self) -> None:
        """Start the thread unless it runs (call it after ``Broker.subscribe``)."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="consult-live-relay", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while True:
            # Decided under the lock: a stream that subscribed just now either keeps this
            # thread going or finds it gone and starts a new one.
            with self._lock:
                if not self.broker.listeners():
                    self._thread = None
                    return
            try:
                self._listen()
            except Exception as exc:
                if not self.broker.deaf:
                    log.warning("live relay lost Redis, walls poll meanwhile: %s", exc)
                    self.broker.deaf = True
                    self.broker.notify_everyone()  # the streams switch to polling now
                time.sleep(RELAY_RETRY)

    def _listen(self) -> None:
        redis = Redis.from_url(self.url, socket_connect_timeout=1, socket_timeout=PONG_WAIT)
        pubsub = redis.pubsub()
        try:
            prefix = channel_prefix(redis)
            pubsub.psubscribe(prefix + "*")
            if self.broker.deaf:
                log.warning("live relay reached Redis again")
            self.broker.deaf = False
            self.broker.notify_everyone()
            heard = time.monotonic()
            pinged = None
            while self.broker.listeners():
                message = pubsub.get_message(timeout=1.0)
                clock = time.monotonic()
                if message is not None:
                    heard, pinged = clock, None
                    if message["type"] == "pmessage":
                        self._deliver(prefix, message)
                elif pinged is not None and clock - pinged > PONG_WAIT:
                    raise TimeoutError("Redis did not answer the relay's ping")
                elif pinged is None and clock - heard > RELAY_PING_EVERY:
                    pubsub.ping()
                    pinged = clock
        finally:
            # Closing a broken connection may fail too; there is nothing left to do then.
            with contextlib.suppress(Exception):
                pubsub.close()
                redis.close()

    def _deliver(self, prefix: str, message: dict) -> None:
        name = message["channel"].decode("utf-8", "replace")
        topic = message["data"].decode("utf-8", "replace")
        event_id = name[len(prefix) :]
        if name.startswith(prefix) and event_id.isdigit() and topic in TOPICS:
            self.broker.notify(int(event_id), topic)


class Hub:
    """The broker and (with Redis) the relay of one app in this process."""

    def __init__(self, redis_url: str | None):
        self.broker = Broker()
        self.relay = Relay(redis_url, self.broker) if redis_url else None


def hub(app: Flask) -> Hub:
    """This app's hub (one app per process in production; tests make several)."""
    found = app.extensions.get("consult_live")
    if found is None:
        found = app.extensions.setdefault("consult_live", Hub(app.config.get("REDIS_URL")))
    return found


# --- the stream -----------------------------------------------------------------------------


def _setting(app: Flask, name: str, default: float) -> float:
    return float(app.config.get(f"LIVE_{name}", default))


def event_stream(event_id: int) -> Iterator[str]:
    """The server-sent events for the walls and moderators of ``event_id``.

    Built inside the request (it reads the app's settings and hub), iterated after it:
    the generator touches neither the database nor the request, so the database
    connection goes back to the pool before the first byte is sent.
    """
    app = current_app._get_current_object()
    the_hub = hub(app)
    heartbeat = _setting(app, "HEARTBEAT", HEARTBEAT)
    lifetime = _setting(app, "LIFETIME", LIFETIME)
    min_gap = _setting(app, "MIN_GAP", MIN_GAP)
    deaf_poll = _setting(app, "DEAF_POLL", DEAF_POLL)
    retry_ms = int(app.config.get("LIVE_RETRY_MS", RETRY_MS))
    return _stream(the_hub, event_id, heartbeat, lifetime, min_gap, deaf_poll, retry_ms)


def _changed(topics: list[str]) -> str:
    return "event: changed\ndata: " + json.dumps({"topics": topics}) + "\n\n"


def _stream(the_hub, event_id, heartbeat, lifetime, min_gap, deaf_poll, retry_ms):
    broker = the_hub.broker
    seen = broker.subscribe(event_id)
    try:
        if the_hub.relay is not None:
            the_hub.relay.ensure_running()
        yield f"retry: {retry_ms}\n" + _changed(["all"])
        started = last_sent = last_beat = time.monotonic()
        ends = started + lifetime
        while True:
            clock = time.monotonic()
            if clock >= ends:
                return
            due = min(last_beat + heartbeat, ends)
            if broker.deaf:
                due = min(due, last_sent + deaf_poll)
            version, topics = broker.wait(event_id, seen, due - clock)
            if topics:
                # Let a burst (many votes in one second) settle into one message.
                pause = last_sent + min_gap - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
                    version, topics = broker.changes(event_id, seen)
                seen = version
                yield _changed(topics)
                last_sent = last_beat = time.monotonic()
            elif broker.deaf and time.monotonic() >= last_sent + deaf_poll:
                yield _changed(["all"])
                last_sent = last_beat = time.monotonic()
            elif time.monotonic() >= last_beat + heartbeat:
                yield ": heartbeat\n\n"
                last_beat = time.monotonic()
    finally:
        broker.unsubscribe(event_id)
