"""Voting rounds stay exact under real concurrency (PostgreSQL only).

Many threads hit the same rows at the same moment (a ``threading.Barrier`` releases them
together): over HTTP against a live threaded server (two phones holding one token), and
at the service level with one app context per thread. SQLite serialises all writers with
one lock, so there is nothing to race there; test_rounds.py covers SQLite.
"""

import http.client
import random
import threading
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from events.event_support import add_participant, join, make_event, make_room_ideas, make_round
from flask import session
from flask_wtf.csrf import generate_csrf
from round_support import assert_ballots_match_rows
from setup_support import run_together
from sqlalchemy import func, select
from werkzeug.serving import make_server

from consult.clock import now
from consult.errors import UserError
from consult.events import participants, rounds
from consult.events.models import Event, EventParticipant, EventRound, RoundBallot, RoundVote
from consult.extensions import db

pytestmark = pytest.mark.postgres_only


@pytest.fixture
def app_config(redis_url):
    # Abuse limits as in production: counted in Redis, shared by all threads.
    return {"REDIS_URL": redis_url}


def anonymous_session(app) -> tuple[str, str]:
    """(Cookie header, CSRF token) of a browser session, as any page would leave it."""
    with app.app_context(), app.test_request_context("/"):
        token = generate_csrf()
        data = dict(session)
    value = app.session_interface.get_signing_serializer(app).dumps(data)
    return f"{app.config['SESSION_COOKIE_NAME']}={value}", token


def post(port: int, path: str, form: dict, cookie: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(
            "POST",
            path,
            body=urlencode(form),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
                "Cookie": cookie,
            },
        )
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def assert_exact(round_id: int, budget: int) -> None:
    db.session.expire_all()
    assert_ballots_match_rows()
    assert all(b.used <= budget for b in db.session.scalars(select(RoundBallot)))
    votes = db.session.execute(
        select(RoundVote.participant_id, RoundVote.idea_id).where(RoundVote.round_id == round_id)
    ).all()
    assert len(votes) == len(set(votes)), "a duplicate vote"
    tally = rounds.round_tally(db.session.get(EventRound, round_id))
    assert sum(n for _idea, n in tally) == len(votes)


def test_two_phones_with_one_token_never_exceed_the_budget(app):
    """30 participants, each on two phones with the same token, tap all 5 ideas on both
    at once (300 requests): everyone ends with exactly 3 dots, none more."""
    event = make_event()
    ideas = [i.id for i in make_room_ideas(event, [f"Idee {n}" for n in range(5)])]
    tokens = [join(event, f"P{n}")[1] for n in range(30)]
    r = make_round(event, budget=3)
    path = f"/events/{event.id}/rounds/{r.id}/votes"
    session_cookie, csrf = anonymous_session(app)
    cookie = {t: f"{session_cookie}; {participants.cookie_name(event.id)}={t}" for t in tokens}
    plan = [(t, i) for t in tokens for _phone in range(2) for i in ideas]
    random.Random(5).shuffle(plan)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    server.socket.listen(1024)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        statuses = run_together(
            [
                (
                    lambda t=t, i=i: post(
                        server.server_port, path, {"idea": i, "csrf_token": csrf}, cookie[t]
                    )
                )
                for t, i in plan
            ]
        )
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    assert set(statuses) <= {200, 409}, sorted(set(statuses))
    db.session.expire_all()
    used = db.session.scalars(select(RoundBallot.used)).all()
    assert used == [3] * 30
    assert db.session.scalar(select(func.count()).select_from(RoundVote)) == 90
    assert_exact(r.id, 3)


def test_a_storm_of_dots_and_withdrawals_keeps_every_ballot_exact(app):
    """40 participants × 6 threads each cast and withdraw on the same 4 ideas at once."""
    event = make_event()
    event_id = event.id
    idea_ids = [i.id for i in make_room_ideas(event, ["A", "B", "C", "D"])]
    people = [add_participant(event, f"P{n}").id for n in range(40)]
    round_id = make_round(event, budget=3).id
    outcomes = []

    def act(person_id: int, idea_id: int, cast: bool):
        def job():
            with app.app_context():
                person = db.session.get(EventParticipant, person_id)
                ev = db.session.get(Event, event_id)
                voting_round = db.session.get(EventRound, round_id)
                try:
                    if cast:
                        rounds.cast_round_vote(person, ev, voting_round, idea_id)
                    else:
                        rounds.withdraw_round_vote(person, ev, voting_round, idea_id)
                    outcomes.append("ok")
                except UserError as error:
                    outcomes.append(error.status)
                finally:
                    db.session.remove()

        return job

    rng = random.Random(11)
    jobs = [
        act(p, rng.choice(idea_ids), rng.random() < 0.75) for p in people for _thread in range(6)
    ]
    run_together(jobs)
    assert set(outcomes) <= {"ok", 409}, set(outcomes)
    assert outcomes.count("ok") > 100  # the storm really changed things
    assert_exact(round_id, 3)


def test_votes_racing_the_end_of_the_round(app):
    """20 threads keep giving and taking back dots while the round's last 300 ms run out:
    every dot counted arrived before the end, every request started after it is refused."""
    event = make_event()
    event_id = event.id
    idea_ids = [i.id for i in make_room_ideas(event, ["A", "B"])]
    people = [add_participant(event, f"P{n}").id for n in range(20)]
    voting_round = make_round(event, budget=1)
    round_id = voting_round.id
    # Ends 300 ms from now: the threads are voting as the clock passes the end.
    voting_round.ends_at = now() + timedelta(milliseconds=300)
    db.session.commit()
    ends_at = voting_round.ends_at
    late_accepted = []

    def keep_voting(person_id: int, idea_id: int):
        def job():
            cast = True
            with app.app_context():
                try:
                    for _attempt in range(10_000):
                        person = db.session.get(EventParticipant, person_id)
                        ev = db.session.get(Event, event_id)
                        vr = db.session.get(EventRound, round_id)
                        started = now()
                        try:
                            if cast:
                                rounds.cast_round_vote(person, ev, vr, idea_id)
                            else:
                                rounds.withdraw_round_vote(person, ev, vr, idea_id)
                        except UserError as error:
                            assert error.status == 409
                            if started >= ends_at:
                                return
                            continue
                        if started >= ends_at:
                            late_accepted.append((person_id, started))
                        cast = not cast
                finally:
                    db.session.remove()

        return job

    run_together([keep_voting(p, idea_ids[n % 2]) for n, p in enumerate(people)])
    assert late_accepted == []
    db.session.expire_all()
    created = db.session.scalars(select(RoundVote.created_at)).all()
    assert all(t < ends_at for t in created)
    assert_exact(round_id, 1)


def test_votes_racing_a_stop(app):
    """60 participants vote at the moment staff stop the round: every dot counted arrived
    before the stop's moment, the others are refused, and nothing is half done."""
    event = make_event()
    event_id = event.id
    (idea,) = make_room_ideas(event, ["A"])
    people = [add_participant(event, f"P{n}").id for n in range(60)]
    round_id = make_round(event, budget=1).id
    outcomes = []

    def vote(person_id: int):
        def job():
            with app.app_context():
                try:
                    rounds.cast_round_vote(
                        db.session.get(EventParticipant, person_id),
                        db.session.get(Event, event_id),
                        db.session.get(EventRound, round_id),
                        idea.id,
                    )
                    outcomes.append("ok")
                except UserError as error:
                    outcomes.append(error.status)
                finally:
                    db.session.remove()

        return job

    def stop():
        with app.app_context():
            try:
                ev = db.session.get(Event, event_id)
                rounds.stop_round(None, ev, db.session.get(EventRound, round_id))
            finally:
                db.session.remove()

    jobs = [vote(p) for p in people]
    jobs.insert(20, stop)
    run_together(jobs)
    assert set(outcomes) <= {"ok", 409}, set(outcomes)
    db.session.expire_all()
    stopped_at = db.session.get(EventRound, round_id).stopped_at
    created = db.session.scalars(select(RoundVote.created_at)).all()
    assert len(created) == outcomes.count("ok")
    assert all(t < stopped_at for t in created)
    assert_exact(round_id, 1)
