"""Helpers for the voting-round tests (imported by name; pytest does not collect this file).

Events, participants and room ideas are made directly with the models, so these tests
do not depend on the joining and moderation pages.
"""

import re
import secrets
from datetime import timedelta

from flask import Flask
from sqlalchemy import func, select

from consult.challenges.models import Challenge
from consult.clock import now
from consult.events import participants
from consult.events.models import Event, EventParticipant, EventRound, RoundBallot, RoundVote
from consult.extensions import db
from consult.ideas.models import Idea

DAY = timedelta(days=1)
_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def ensure_page_endpoints(app: Flask) -> None:
    """Stand-ins for the staff control page and the phone page when their module has not
    landed yet: the round views redirect to them by endpoint name."""
    for endpoint, rule in (
        ("events.room", "/events/<int:event_id>/"),
        ("events.staff_show", "/staff/events/<int:event_id>"),
    ):
        if endpoint not in app.view_functions:
            app.add_url_rule(rule, endpoint=endpoint, view_func=lambda event_id: "stand-in")


def make_challenge(title: str = "Plätze") -> Challenge:
    """A challenge in its voting phase (its own online voting plays no part here)."""
    t = now()
    challenge = Challenge(
        title_de=title,
        title_en=title,
        question_de="Was wünschen Sie sich?",
        question_en="What do you wish for?",
        submission_opens_at=t - 10 * DAY,
        submission_closes_at=t + 5 * DAY,
        voting_opens_at=t - DAY,
        voting_closes_at=t + 5 * DAY,
        results_at=t + 10 * DAY,
        vote_budget=5,
    )
    db.session.add(challenge)
    db.session.commit()
    return challenge


def make_event(challenge: Challenge | None = None, status: str = "open") -> Event:
    challenge = challenge or make_challenge()
    t = now()
    code = "".join(secrets.choice("ACDEFGHJKMNPQRTUVWXY34679") for _ in range(6))
    event = Event(
        challenge_id=challenge.id,
        title_de="Helpathon",
        title_en="Helpathon",
        place="Rathaus",
        starts_at=t - timedelta(hours=1),
        ends_at=t + timedelta(hours=3),
        join_code=code,
        open_code=code if status == "open" else None,
        status=status,
        opened_at=t if status != "draft" else None,
    )
    db.session.add(event)
    db.session.commit()
    return event


def make_participant(event: Event, name: str = "Ada", language: str = "de"):
    """(participant, token): the token is what the phone's cookie holds."""
    token = participants.new_token()
    person = EventParticipant(
        event_id=event.id,
        token_hash=participants.hash_token(token),
        display_name=name,
        language=language,
    )
    db.session.add(person)
    db.session.commit()
    return person, token


def make_room_ideas(event: Event, titles=("Bänke", "Licht", "Wasser"), status="room"):
    t = now()
    ideas = [
        Idea(
            challenge_id=event.challenge_id,
            event_id=event.id,
            title=title,
            status=status,
            language="de",
            submitted_at=t,
        )
        for title in titles
    ]
    db.session.add_all(ideas)
    db.session.commit()
    return ideas


def make_published_idea(challenge: Challenge, title: str = "Spielplatz") -> Idea:
    idea = Idea(challenge_id=challenge.id, title=title, status="published", published_at=now())
    db.session.add(idea)
    db.session.commit()
    return idea


def make_round(event: Event, minutes: int = 2, budget: int = 3, scope: str = "event", at=None):
    """A round starting at ``at`` (default now) directly in the database."""
    start = at or now()
    number = (
        db.session.scalar(
            select(func.max(EventRound.number)).where(EventRound.event_id == event.id)
        )
        or 0
    ) + 1
    voting_round = EventRound(
        event_id=event.id,
        number=number,
        scope=scope,
        budget=budget,
        starts_at=start,
        ends_at=start + timedelta(minutes=minutes),
    )
    db.session.add(voting_round)
    db.session.commit()
    return voting_round


def phone(client, event: Event, token: str | None):
    """Give the test client the participant cookie of ``event`` (as joining would)."""
    if token is not None:
        client.http.set_cookie(
            participants.cookie_name(event.id), token, path=participants.cookie_path(event.id)
        )
    return client


def state():
    """Everything a vote can change, to compare before and after a refused request."""
    db.session.expire_all()
    return (
        sorted(
            db.session.execute(
                select(RoundVote.round_id, RoundVote.participant_id, RoundVote.idea_id)
            ).all()
        ),
        sorted(
            db.session.execute(
                select(RoundBallot.round_id, RoundBallot.participant_id, RoundBallot.used)
            ).all()
        ),
        sorted(
            db.session.execute(
                select(EventRound.id, EventRound.stopped_at, EventRound.ends_at)
            ).all()
        ),
    )


def assert_ballots_match_rows() -> None:
    """Every ballot's ``used`` equals its participant's vote rows in that round."""
    db.session.expire_all()
    rows = {
        (r, p): n
        for r, p, n in db.session.execute(
            select(RoundVote.round_id, RoundVote.participant_id, func.count()).group_by(
                RoundVote.round_id, RoundVote.participant_id
            )
        )
    }
    ballots = {
        (r, p): used
        for r, p, used in db.session.execute(
            select(RoundBallot.round_id, RoundBallot.participant_id, RoundBallot.used)
        )
    }
    for key, n in rows.items():
        assert ballots.get(key) == n, (key, ballots.get(key), n)
    for key, used in ballots.items():
        assert used == rows.get(key, 0), (key, used, rows.get(key, 0))
