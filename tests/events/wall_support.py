"""Helpers for the wall's tests (imported by name; pytest does not collect this file).

Events, participants, room ideas and rounds are made directly in the database: the
wall only reads them. ``approve`` stands in for the room-ideas work's approval service
(commit, then announce), so the push path is tested from a real commit.
"""

from datetime import timedelta

from voting.voting_support import make_challenge

from consult.clock import now
from consult.events.live import announce
from consult.events.models import Event, EventParticipant, EventRound, RoundVote
from consult.extensions import db
from consult.ideas.models import Idea

HOUR = timedelta(hours=1)


def make_event(challenge=None, code="ACDEFG", status="open", **settings) -> Event:
    challenge = challenge or make_challenge()
    t = now()
    event = Event(
        challenge_id=challenge.id,
        title_de="Helpathon Nord",
        title_en="Helpathon North",
        place="Rathaus",
        starts_at=t - HOUR,
        ends_at=t + 2 * HOUR,
        join_code=code,
        open_code=code if status == "open" else None,
        status=status,
        **settings,
    )
    db.session.add(event)
    db.session.commit()
    return event


def make_participant(event: Event, name: str = "Anna", left: bool = False) -> EventParticipant:
    participant = EventParticipant(
        event_id=event.id,
        token_hash=None,
        display_name="" if left else name,
        left_at=now() if left else None,
    )
    db.session.add(participant)
    db.session.commit()
    return participant


def room_idea(event: Event, participant=None, title="Mehr Bänke", status="room", **more) -> Idea:
    idea = Idea(
        challenge_id=event.challenge_id,
        event_id=event.id,
        participant_id=participant.id if participant is not None else None,
        title=title,
        body="",
        status=status,
        origin="event",
        moderated_at=now() if status == "room" else None,
        **more,
    )
    db.session.add(idea)
    db.session.commit()
    return idea


def approve(idea: Idea) -> None:
    """What the moderator's approval does, as far as the wall is concerned."""
    idea.status = "room"
    idea.moderated_at = now()
    db.session.commit()
    announce(idea.event_id, "ideas")


def make_round(event: Event, minutes: float = 2, budget: int = 3, number: int = 1, **more):
    t = now()
    event_round = EventRound(
        event_id=event.id,
        number=number,
        budget=budget,
        starts_at=more.pop("starts_at", t),
        ends_at=more.pop("ends_at", t + timedelta(minutes=minutes)),
        **more,
    )
    db.session.add(event_round)
    db.session.commit()
    return event_round


def cast(event_round: EventRound, participant: EventParticipant, idea: Idea) -> None:
    db.session.add(
        RoundVote(round_id=event_round.id, participant_id=participant.id, idea_id=idea.id)
    )
    db.session.commit()


def read_events(lines, count: int, timeout: float):
    """The next ``count`` server-sent events from an iterator of text lines, as
    (name, data) pairs; comments (heartbeats) are returned as ("comment", text)."""
    events, name, data = [], None, []
    for line in lines:
        line = line.rstrip("\r\n")
        if line.startswith(":"):
            events.append(("comment", line[1:].strip()))
        elif line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].strip())
        elif line == "" and (name or data):
            events.append((name or "message", "\n".join(data)))
            name, data = None, []
        if len(events) >= count:
            return events
    return events
