"""Helpers for the room-ideas tests (imported by name; pytest does not collect this file).

Events and participants are made directly with the models, as the joining pages would.
"""

import secrets
from datetime import timedelta

from consult.challenges.models import Category, Challenge
from consult.clock import now
from consult.events import participants
from consult.events.models import (
    CODE_ALPHABET,
    Event,
    EventParticipant,
    EventRound,
    RoundBallot,
    RoundVote,
)
from consult.extensions import db
from consult.ideas.models import Idea
from consult.text import render_markdown

DAY = timedelta(days=1)


def make_challenge(title: str = "Mehr Grün", categories: int = 0) -> Challenge:
    t = now()
    challenge = Challenge(
        title_de=title,
        title_en=title,
        question_de="Wie?",
        question_en="How?",
        submission_opens_at=t - DAY,
        submission_closes_at=t + 10 * DAY,
        voting_opens_at=t + 11 * DAY,
        voting_closes_at=t + 20 * DAY,
        results_at=t + 30 * DAY,
    )
    challenge.categories = [
        Category(name_de=f"Kategorie {i}", name_en=f"Category {i}", position=i)
        for i in range(categories)
    ]
    db.session.add(challenge)
    db.session.commit()
    return challenge


def make_event(challenge=None, status="open", moderation="pre") -> Event:
    challenge = challenge or make_challenge()
    t = now()
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(6))
    event = Event(
        challenge_id=challenge.id,
        title_de="Helpathon",
        title_en="Helpathon",
        starts_at=t - timedelta(hours=1),
        ends_at=t + timedelta(hours=2),
        join_code=code,
        open_code=code if status == "open" else None,
        status=status,
        moderation=moderation,
    )
    db.session.add(event)
    db.session.commit()
    return event


def join(event, name="Ada", language="de", user=None) -> tuple[EventParticipant, str]:
    """A participant of ``event`` and their cookie token."""
    token = participants.new_token()
    participant = EventParticipant(
        event_id=event.id,
        token_hash=participants.hash_token(token),
        display_name=name,
        language=language,
        user_id=user.id if user is not None else None,
    )
    db.session.add(participant)
    db.session.commit()
    return participant, token


def leave(participant) -> None:
    participant.left_at = now()
    participant.display_name = ""
    participant.token_hash = None
    db.session.commit()


def with_cookie(client, event, token) -> None:
    """Send the participant's cookie on the event's path, as the phone would."""
    client.http.set_cookie(
        participants.cookie_name(event.id), token, path=participants.cookie_path(event.id)
    )


def room_idea(event, participant, status="queued", title="Mehr Bänke") -> Idea:
    idea = Idea(
        challenge_id=event.challenge_id,
        event_id=event.id,
        participant_id=participant.id if participant is not None else None,
        title=title,
        body="Am Markt.",
        body_html=render_markdown("Am Markt."),
        origin="event",
        status=status,
        submitted_at=now(),
        moderated_at=now() if status != "queued" else None,
    )
    db.session.add(idea)
    db.session.commit()
    return idea


def published_idea(challenge, title="Bäume") -> Idea:
    idea = Idea(challenge_id=challenge.id, title=title, status="published", published_at=now())
    db.session.add(idea)
    db.session.commit()
    return idea


def make_round(event, budget=3, number=1) -> EventRound:
    t = now()
    round_ = EventRound(
        event_id=event.id,
        number=number,
        budget=budget,
        starts_at=t - timedelta(minutes=1),
        ends_at=t + timedelta(minutes=5),
    )
    db.session.add(round_)
    db.session.commit()
    return round_


def vote(round_, participant, *ideas) -> None:
    """Dots of ``participant`` in ``round_``, written as the voting service would."""
    ballot = db.session.get(RoundBallot, (round_.id, participant.id))
    if ballot is None:
        ballot = RoundBallot(round_id=round_.id, participant_id=participant.id, used=0)
        db.session.add(ballot)
    for idea in ideas:
        db.session.add(
            RoundVote(round_id=round_.id, participant_id=participant.id, idea_id=idea.id)
        )
        ballot.used += 1
    db.session.commit()
