"""Voting stays exact under real concurrency (PostgreSQL only).

Many threads hit the same rows at the same moment (a ``threading.Barrier`` releases them
together): over HTTP against a live threaded server, and at the service level with one
app context per thread. SQLite serialises all writers with one lock, so there is nothing
to race there; the rest of the voting suite covers SQLite.
"""

import http.client
import json
import random
import threading
from urllib.parse import urlencode

import pytest
from flask import session
from flask_babel import force_locale, gettext
from flask_login import login_user
from flask_wtf.csrf import generate_csrf
from setup_support import run_together, vote_job
from sqlalchemy import func, select
from voting_support import challenge_with_ideas
from werkzeug.serving import make_server

from consult.accounts.models import RoleGrant, User
from consult.challenges.models import Challenge
from consult.clock import now
from consult.errors import UserError
from consult.extensions import db
from consult.ideas.models import Idea
from consult.voting import services
from consult.voting.models import Ballot, Vote

USER_AGENT = "concurrency-test"


@pytest.fixture
def app_config(redis_url):
    # Abuse limits as in production: counted in Redis, shared by all threads.
    return {"REDIS_URL": redis_url}


# SQLite serialises every writer with one lock: races need PostgreSQL.
pytestmark = pytest.mark.postgres_only


# --- world --------------------------------------------------------------------------------


def make_challenge(budget: int, ideas: int) -> tuple[Challenge, list[Idea]]:
    return challenge_with_ideas(ideas, budget=budget)


def make_citizens(n: int) -> list[User]:
    """Verified citizens without a usable password (they get signed session cookies)."""
    users = [
        User(
            email=f"c{i}@example.org",
            pseudonym=f"Citizen {i}",
            pseudonym_key=f"citizen {i}",
            password_hash="!",
            email_verified_at=now(),
            privacy_consent_at=now(),
            role_grants=[RoleGrant(role="citizen")],
        )
        for i in range(n)
    ]
    db.session.add_all(users)
    db.session.commit()
    return users


def signed_session(app, user) -> tuple[str, str]:
    """(Cookie header, CSRF token) of a logged-in session, as the login form would leave."""
    # A fresh app context: Flask-WTF caches the token in ``g``, which would be shared.
    with (
        app.app_context(),
        app.test_request_context(
            "/", environ_base={"REMOTE_ADDR": "127.0.0.1"}, headers={"User-Agent": USER_AGENT}
        ),
    ):
        login_user(user)
        token = generate_csrf()
        data = dict(session)
    value = app.session_interface.get_signing_serializer(app).dumps(data)
    return f"{app.config['SESSION_COOKIE_NAME']}={value}", token


# --- HTTP ---------------------------------------------------------------------------------


class Server:
    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        # Werkzeug listens with a backlog of 128; hundreds of clients connecting in the same
        # millisecond would be reset by the kernel before the server ever saw them.
        self.server.socket.listen(1024)
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def post(self, path: str, form: dict, cookie: str) -> tuple[int, dict]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(
                "POST",
                path,
                body=urlencode(form),
                headers={
                    "Content-Type": "application/x-www-form-urlencoded",
                    "Accept": "application/json",
                    "Cookie": cookie,
                    "User-Agent": USER_AGENT,
                },
            )
            response = conn.getresponse()
            body = response.read()
            try:
                data = json.loads(body)
            except ValueError:
                data = {"html": body.decode("utf-8", "replace")}
            return response.status, data
        finally:
            conn.close()


def rows_for(idea_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Vote).where(Vote.idea_id == idea_id))


def assert_caches_match_rows() -> None:
    db.session.expire_all()
    assert services.check_vote_counts() == []
    assert services.check_ballots() == []
    for idea in db.session.scalars(select(Idea)):
        assert idea.vote_count == rows_for(idea.id), idea.id
    for ballot in db.session.scalars(select(Ballot)):
        assert ballot.used == db.session.scalar(
            select(func.count())
            .select_from(Vote)
            .where(Vote.user_id == ballot.user_id, Vote.challenge_id == ballot.challenge_id)
        )


# --- tests --------------------------------------------------------------------------------


def test_one_citizen_fifty_tabs_never_exceeds_the_budget(app):
    challenge, ideas = make_challenge(budget=3, ideas=50)
    (citizen,) = make_citizens(1)
    cookie, token = signed_session(app, citizen)
    path = f"/challenges/{challenge.id}/vote"
    with Server(app) as server:
        results = run_together(
            [
                (lambda i=i: server.post(path, {"idea": i, "csrf_token": token}, cookie))
                for i in [idea.id for idea in ideas]
            ]
        )
    statuses = sorted(status for status, _data in results)
    assert statuses == [200] * 3 + [409] * 47, statuses
    refused = {data["message"] for status, data in results if status == 409}
    with force_locale("de"):  # the citizen's language
        expected = gettext(
            "You have used all %(budget)d of your votes. Withdraw one to vote for this idea.",
            budget=3,
        )
    assert refused == {expected}, refused
    assert db.session.scalar(select(func.count()).select_from(Vote)) == 3
    ballot = db.session.get(Ballot, {"challenge_id": challenge.id, "user_id": citizen.id})
    assert ballot.used == 3
    assert_caches_match_rows()


def test_two_hundred_citizens_vote_for_one_idea_at_once(app):
    challenge, (idea,) = make_challenge(budget=3, ideas=1)
    citizens = make_citizens(200)
    sessions = [signed_session(app, c) for c in citizens]
    path, idea_id = f"/challenges/{challenge.id}/vote", idea.id
    with Server(app) as server:
        results = run_together(
            [
                (lambda c=c, t=t: server.post(path, {"idea": idea_id, "csrf_token": t}, c))
                for c, t in sessions
            ],
            workers=200,
        )
    statuses = [status for status, _data in results]
    assert statuses == [200] * 200, sorted(set(statuses))
    db.session.expire_all()
    assert rows_for(idea_id) == 200
    assert db.session.get(Idea, idea_id).vote_count == 200
    assert_caches_match_rows()


def test_a_storm_of_votes_and_withdrawals_keeps_every_count_exact(app):
    challenge, ideas = make_challenge(budget=2, ideas=4)
    citizens = make_citizens(40)
    sessions = [signed_session(app, c) for c in citizens]
    rng = random.Random(7)
    idea_ids = [idea.id for idea in ideas]
    plan = []
    for cookie, token in sessions:
        for _ in range(8):
            action = rng.choice(("vote", "vote", "unvote"))
            plan.append(
                (f"/challenges/{challenge.id}/{action}", rng.choice(idea_ids), cookie, token)
            )
    rng.shuffle(plan)
    with Server(app) as server:
        results = run_together(
            [
                (lambda p=p, i=i, c=c, t=t: server.post(p, {"idea": i, "csrf_token": t}, c))
                for p, i, c, t in plan
            ],
            workers=len(plan),
        )
    statuses = [status for status, _data in results]
    assert set(statuses) <= {200, 409}, sorted(set(statuses))
    assert statuses.count(200) > 50  # the storm really changed things
    assert_caches_match_rows()
    assert all(b.used <= 2 for b in db.session.scalars(select(Ballot))), (
        "a ballot exceeded its budget"
    )


def test_service_level_threads_vote_and_withdraw_on_the_same_rows(app):
    """The use cases themselves, each thread in its own app context and session."""
    challenge, ideas = make_challenge(budget=3, ideas=3)
    citizens = make_citizens(30)
    challenge_id, idea_ids = challenge.id, [i.id for i in ideas]
    user_ids = [c.id for c in citizens]
    outcomes = []

    def act(user_id: int, idea_id: int, cast: bool):
        return vote_job(app, outcomes, user_id, challenge_id, idea_id, cast)

    rng = random.Random(11)
    jobs = [
        act(rng.choice(user_ids), rng.choice(idea_ids), rng.random() < 0.65) for _ in range(300)
    ]
    run_together(jobs, workers=len(jobs))
    assert set(outcomes) <= {"ok", 409}, set(outcomes)
    assert len(outcomes) == 300
    assert_caches_match_rows()


def test_two_corrections_at_once_never_take_paper_votes_below_zero(app):
    """Two -5 corrections on a paper total of 5, released together, on several ideas:
    per idea one is entered and one refused, and the total ends at 0."""
    from consult.voting.models import PaperVoteEntry

    challenge, ideas = make_challenge(budget=5, ideas=6)
    staff = User(
        email="staff@example.org",
        pseudonym="Amt",
        pseudonym_key="amt",
        password_hash="!",
        email_verified_at=now(),
        privacy_consent_at=now(),
        role_grants=[RoleGrant(role="staff")],
    )
    db.session.add(staff)
    db.session.add_all(PaperVoteEntry(idea_id=i.id, count=5, event_name="Fest") for i in ideas)
    db.session.commit()
    staff_id, idea_ids = staff.id, [i.id for i in ideas]
    outcomes = []

    def correct(idea_id: int):
        def job():
            with app.app_context():
                try:
                    services.enter_paper_votes(
                        db.session.get(User, staff_id), db.session.get(Idea, idea_id), -5, "Fest"
                    )
                    outcomes.append("ok")
                except UserError as error:
                    outcomes.append(error.field)
                finally:
                    db.session.remove()

        return job

    run_together([correct(i) for i in idea_ids for _twice in range(2)])
    assert sorted(outcomes) == sorted(["ok", "count"] * len(idea_ids))
    db.session.expire_all()
    assert all(services.paper_vote_total(i) == 0 for i in idea_ids)


def test_citizens_voting_while_a_moderator_hides_the_idea_lose_no_vote(app):
    """120 citizens vote for one idea at once while a moderator hides it after the first 20
    votes. Each vote lands before the hide (and is released) or is refused because the idea
    is hidden, never after it; afterwards no vote on the hidden idea remains, every ballot
    and cached count equals its rows, and exactly the citizens whose vote landed are
    mailed. (Checking the status before taking the idea's lock, as before, lets the votes
    queued behind the hide land on the hidden idea.)"""
    from consult.audit.models import AuditEntry
    from consult.jobs import Outbox
    from consult.moderation.services import hide_idea

    challenge, (idea, other) = make_challenge(budget=2, ideas=2)
    citizens = make_citizens(120)
    moderator = User(
        email="moderation@example.org",
        pseudonym="Moderation",
        pseudonym_key="moderation",
        password_hash="!",
        email_verified_at=now(),
        privacy_consent_at=now(),
        role_grants=[RoleGrant(role="moderator")],
    )
    db.session.add(moderator)
    db.session.commit()
    for citizen in citizens[::2]:  # a vote elsewhere, which the hide must leave alone
        services.cast_vote(citizen, challenge, other.id)
    challenge_id, idea_id, moderator_id = challenge.id, idea.id, moderator.id
    enough_votes = threading.Event()
    landed: list[int] = []
    refused: dict[int, str] = {}

    def citizen_job(user_id: int):
        def job():
            with app.app_context():
                try:
                    user = db.session.get(User, user_id)
                    services.cast_vote(user, db.session.get(Challenge, challenge_id), idea_id)
                    landed.append(user_id)
                    if len(landed) >= 20:
                        enough_votes.set()
                except UserError as error:
                    refused[user_id] = f"{error.status} {error.message}"
                finally:
                    db.session.remove()

        return job

    def moderator_job():
        with app.app_context():
            try:
                # Its pooled connection first: 120 voting threads must not starve it.
                db.session.connection()
                enough_votes.wait(timeout=30)
                hide_idea(
                    db.session.get(User, moderator_id), db.session.get(Idea, idea_id), "other"
                )
            finally:
                db.session.remove()

    run_together([citizen_job(c.id) for c in citizens] + [moderator_job], workers=121)

    db.session.expire_all()
    assert db.session.get(Idea, idea_id).status == "hidden"
    assert rows_for(idea_id) == 0 and db.session.get(Idea, idea_id).vote_count == 0
    assert rows_for(other.id) == 60
    assert_caches_match_rows()
    with force_locale("de"):
        hidden = gettext("This idea has been hidden by moderation and cannot receive votes.")
    assert len(landed) + len(refused) == 120
    assert set(refused.values()) == {f"409 {hidden}"}
    assert len(landed) >= 20 and refused, (len(landed), len(refused))  # both sides of the race
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "idea.hide"))
    assert entry.details["votes_released"] == len(landed)
    mailed = sorted(
        row.args[0]
        for row in db.session.scalars(select(Outbox))
        if row.job == "send_email" and row.args[1] == "vote_released"
    )
    assert mailed == sorted(c.email for c in citizens if c.id in set(landed))
    used = {b.user_id: b.used for b in db.session.scalars(select(Ballot))}
    assert all(used.get(c.id, 0) == (1 if n % 2 == 0 else 0) for n, c in enumerate(citizens))


def test_sheets_entered_at_once_are_each_whole(app):
    """Eight workshop sheets over six ideas, released together: every sheet is stored whole
    with its one audit entry, and the totals are the exact sums."""
    from consult.audit.models import AuditEntry

    challenge, ideas = make_challenge(budget=5, ideas=6)
    staff = User(
        email="staff@example.org", pseudonym="Amt", pseudonym_key="amt", password_hash="!",
        email_verified_at=now(), privacy_consent_at=now(), role_grants=[RoleGrant(role="staff")],
    )  # fmt: skip
    db.session.add(staff)
    db.session.commit()
    staff_id, challenge_id, idea_ids = staff.id, challenge.id, [i.id for i in ideas]
    day = services.paper_sheet_today()
    sheets = [{i: str((n + k) % 4) for k, i in enumerate(idea_ids)} for n in range(8)]

    def enter(counts):
        def job():
            with app.app_context():
                try:
                    services.enter_paper_vote_sheet(
                        db.session.get(User, staff_id), db.session.get(Challenge, challenge_id),
                        "Fest", day, counts,
                    )  # fmt: skip
                finally:
                    db.session.remove()

        return job

    run_together([enter(counts) for counts in sheets])
    db.session.expire_all()
    expected = {i: sum(int(s[i]) for s in sheets) for i in idea_ids}
    assert services.paper_vote_totals(db.session.get(Challenge, challenge_id)) == expected
    audits = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "votes.paper_sheet")
    ).all()
    assert len(audits) == len(sheets)
    assert sorted(a.details["total"] for a in audits) == sorted(
        sum(int(v) for v in s.values()) for s in sheets
    )
