"""The push through real processes, as in production: a gunicorn "web" process and a
gunicorn "live" process (the Procfile's two process types), a real Redis between them,
and walls reading the stream over plain HTTP. An approval committed in a third process
(this test) and a POST on the web process each reach both walls within 2 s; each wall
holds one thread of the live process (4 walls take all 4) and none of the web process,
which answers as fast as ever."""

import json
import time
from http.client import HTTPConnection
from urllib.parse import urlencode

import pytest
from events.event_support import make_event, room_idea
from live_server import Browser, gunicorn
from testdata import PASSWORD
from wall_support import approve

from consult.events.live import MIN_GAP

# Each measured delay must stay below this (issue 11: "within 2 s").
DEADLINE = 2.0


class Wall:
    """A projector's EventSource, done by hand: one HTTP connection, read line by line."""

    def __init__(self, port: int, event_id: int, cookies: dict):
        self.connection = HTTPConnection("127.0.0.1", port, timeout=10)
        self.connection.request(
            "GET",
            f"/live/events/{event_id}/stream",
            headers={
                "Accept": "text/event-stream",
                "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
            },
        )
        self.response = self.connection.getresponse()
        assert self.response.status == 200, self.response.read()[:500]
        assert self.response.getheader("Content-Type").startswith("text/event-stream")
        assert self.response.getheader("Content-Encoding") is None

    def next_change(self, timeout: float) -> list[str]:
        """The topics of the next "changed" (heartbeats skipped); fails after ``timeout``."""
        deadline = time.monotonic() + timeout
        name = None
        while True:
            left = deadline - time.monotonic()
            assert left > 0, "no change arrived in time"
            self.connection.sock.settimeout(left)
            line = self.response.readline().decode().rstrip("\r\n")
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:") and name == "changed":
                return json.loads(line[5:])["topics"]

    def close(self) -> None:
        self.connection.close()


def web_answers(browser, times: int = 5) -> list[float]:
    """How long ``/healthz`` takes on the web process, ``times`` times."""
    timings = []
    for _ in range(times):
        start = time.monotonic()
        assert browser.request("GET", "/healthz")[0] == 200
        timings.append(time.monotonic() - start)
    return timings


def live_answers(port: int, timeout: float = 1.0) -> float:
    """How long ``/healthz`` takes on the live process; TimeoutError when no thread is free."""
    connection = HTTPConnection("127.0.0.1", port, timeout=timeout)
    start = time.monotonic()
    try:
        connection.request("GET", "/healthz")
        assert connection.getresponse().status == 200
    finally:
        connection.close()
    return time.monotonic() - start


@pytest.mark.postgres_only  # the production setup: processes share PostgreSQL and Redis
def test_walls_on_the_live_process_hear_changes_from_other_processes_within_2_s(
    app, make_user, redis_url, record_property
):
    app.config["REDIS_URL"] = redis_url  # this process announces through Redis too
    staff = make_user(roles=("citizen", "staff"))
    event = make_event()
    ideas = [room_idea(event, None, f"Idee {n}", status="queued") for n in range(3)]
    # Short heartbeats: a wall that went away frees its thread within a second.
    live_settings = {"REDIS_URL": redis_url, "LIVE_HEARTBEAT": 0.5}
    with gunicorn(app, REDIS_URL=redis_url) as web, gunicorn(app, **live_settings) as live:
        browser = Browser(web, language="en")
        browser.log_in(staff.email, PASSWORD, staff.totp_secret)
        walls = [Wall(live, event.id, browser.cookies)]
        assert walls[0].next_change(DEADLINE) == ["all"]  # on connect
        assert walls[0].next_change(DEADLINE) == ["all"]  # the relay subscribed in Redis
        walls.append(Wall(live, event.id, browser.cookies))
        assert walls[1].next_change(DEADLINE) == ["all"]

        # A change on its own (the stream's last message is longer ago than the gap that
        # spaces a stream's messages), then changes back to back.
        time.sleep(MIN_GAP)
        delays = []
        for idea in ideas:  # approvals committed by another process
            start = time.monotonic()
            approve(idea)
            for wall in walls:
                assert wall.next_change(DEADLINE) == ["ideas"]
                delays.append(time.monotonic() - start)
        single = delays[:2]
        # A staff action on the web process.
        start = time.monotonic()
        status, _headers, _text = browser.request(
            "POST",
            f"/staff/events/{event.id}/tally",
            body=urlencode({"csrf_token": browser.token, "show": "1"}),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert status == 302
        for wall in walls:
            assert wall.next_change(DEADLINE) == ["event"]
            delays.append(time.monotonic() - start)

        # The walls fetch from the web process and see exactly their event's ideas.
        status, _headers, text = browser.request("GET", f"/events/{event.id}/wall/state.json")
        assert status == 200
        assert [i["title"] for i in json.loads(text)["ideas"]] == ["Idee 2", "Idee 1", "Idee 0"]

        # While both walls hold their streams, the web process holds none of them.
        healthz = web_answers(browser)
        assert live_answers(live) < 1.0  # 2 of its 4 threads are free

        # Each wall holds one thread of the live process: with 4 walls (its 4 threads)
        # it has none left, while the web process answers as fast as before.
        for _ in range(2):
            walls.append(Wall(live, event.id, browser.cookies))
            assert walls[-1].next_change(DEADLINE) == ["all"]
        with pytest.raises(TimeoutError):
            live_answers(live)
        healthz += web_answers(browser)
        # A wall that goes away gives its thread back at its stream's next heartbeat.
        walls.pop().close()
        assert live_answers(live, timeout=5) < 5
        for wall in walls:
            wall.close()

    assert max(delays) < DEADLINE, delays
    assert max(healthz) < 1.0, healthz
    record_property("wall_delays_ms", [round(d * 1000, 1) for d in delays])
    print(
        f"\nchange → wall over Redis and the live process: alone {max(single) * 1000:.1f} ms, "
        f"back to back max {max(delays) * 1000:.1f} ms; "
        f"/healthz on the web process with 2 and 4 walls open: max {max(healthz) * 1000:.1f} ms"
    )
