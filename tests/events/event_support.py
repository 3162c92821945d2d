"""What the live-event tests have in common: a challenge, its event in any state, people in
the room (with or without a phone's token), room ideas, rounds and dots.

Everything is written straight into the database, so a test depends only on the part it
tests. Imported by name (``from events.event_support import ...``), never collected; the
other ``*_support`` modules here keep only what is their own and import the rest from here.
"""

from datetime import timedelta
from itertools import count

from sqlalchemy import func, select
from voting.voting_support import make_challenge as _voting_challenge

from consult.challenges.models import Category, Challenge
from consult.clock import now
from consult.events.models import (
    CODE_ALPHABET,
    CODE_LENGTH,
    Event,
    EventParticipant,
    EventRound,
    RoundBallot,
    RoundVote,
)
from consult.events.participants import cookie_name, cookie_path, hash_token, new_token
from consult.extensions import db
from consult.ideas.models import Idea
from consult.text import render_markdown

_numbers = count(1)


def make_challenge(title: str = "Abstimmung", categories: int = 0, **settings) -> Challenge:
    """A challenge whose online voting runs, titled ``title``, with ``categories`` categories;
    ``settings`` as for tests/voting's ``make_challenge``. (Events ignore the phases.)"""
    challenge = _voting_challenge(**settings)
    challenge.title_de = challenge.title_en = title
    challenge.categories = [
        Category(name_de=f"Kategorie {i}", name_en=f"Category {i}", position=i)
        for i in range(categories)
    ]
    db.session.commit()
    return challenge


def _next_code() -> str:
    """A well-formed code no other event of the test session has: the counter in base 25.

    The codes begin with "AA", which no code a test spells out does.
    """
    n, letters = next(_numbers), []
    for _ in range(CODE_LENGTH):
        n, digit = divmod(n, len(CODE_ALPHABET))
        letters.append(CODE_ALPHABET[digit])
    return "".join(reversed(letters))


def make_event(challenge=None, status: str = "open", code: str | None = None, **values) -> Event:
    """An event of ``challenge`` (a new one when None) that started an hour ago, in
    ``status``, with ``code`` (a fresh one when None); ``values`` go to the model."""
    challenge = challenge or make_challenge()
    code = code or _next_code()
    t = now()
    values = {
        "title_de": "Helpathon Nord",
        "title_en": "Helpathon North",
        "place": "Rathaus",
        "starts_at": t - timedelta(hours=1),
        "ends_at": t + timedelta(hours=2),
        "opened_at": t if status != "draft" else None,
        **values,
    }
    event = Event(
        challenge_id=challenge.id,
        join_code=code,
        open_code=code if status == "open" else None,
        status=status,
        **values,
    )
    db.session.add(event)
    db.session.commit()
    return event


def add_participant(
    event: Event,
    name: str = "Anna",
    *,
    token: str | None = None,
    user=None,
    language: str = "de",
    left: bool = False,
) -> EventParticipant:
    """A person in the room, holding ``token`` (None: no phone's cookie, e.g. a citizen);
    ``left``: one who has left (anonymised, as ``leave`` does)."""
    participant = EventParticipant(
        event_id=event.id,
        display_name="" if left else name,
        token_hash=hash_token(token) if token else None,
        language=language,
        user_id=user.id if user is not None else None,
        left_at=now() if left else None,
    )
    db.session.add(participant)
    db.session.commit()
    return participant


def join(event: Event, name: str = "Anna", **more) -> tuple[EventParticipant, str]:
    """A person in the room with a fresh token, and that token (what the phone's cookie
    holds, see ``with_cookie``); ``more`` as for ``add_participant``."""
    token = new_token()
    return add_participant(event, name, token=token, **more), token


def leave(participant: EventParticipant) -> None:
    """What leaving does to the row: the name and the token are forgotten."""
    participant.left_at = now()
    participant.display_name = ""
    participant.token_hash = None
    db.session.commit()


def with_cookie(client, event: Event, token: str | None):
    """The test client with the event's cookie holding ``token`` (on the event's path, as
    the phone would send it); None leaves the client as it is."""
    if token is not None:
        client.http.set_cookie(cookie_name(event.id), token, path=cookie_path(event.id))
    return client


def post_join(client, event: Event, name: str = "Anna", language: str = "de", privacy="y"):
    """Post the join form of ``event`` as a phone would (no ``privacy``: not ticked)."""
    data = {"display_name": name, "language": language}
    if privacy:
        data["privacy"] = privacy
    return client.post_form(f"/events/{event.id}/join", data)


def participants(event: Event) -> list[EventParticipant]:
    """The event's participants as the database has them now."""
    db.session.expire_all()
    return list(db.session.query(EventParticipant).filter_by(event_id=event.id))


def room_idea(event: Event, participant=None, title="Mehr Bänke", status="room", **more) -> Idea:
    """An idea posted in the room by ``participant`` (None: nobody known), in ``status``
    (default: approved, on the wall); ``more`` go to the model (``merged_into_id``, ...)."""
    t = now()
    values = {
        "body": "Am Markt.",
        "body_html": render_markdown("Am Markt."),
        "submitted_at": t,
        "moderated_at": t if status != "queued" else None,
        **more,
    }
    idea = Idea(
        challenge_id=event.challenge_id,
        event_id=event.id,
        participant_id=participant.id if participant is not None else None,
        author_id=participant.user_id if participant is not None else None,
        title=title,
        origin="event",
        status=status,
        **values,
    )
    db.session.add(idea)
    db.session.commit()
    return idea


def make_room_ideas(event: Event, titles=("Bänke", "Licht", "Wasser"), status="room") -> list:
    """One room idea by nobody known per title."""
    return [room_idea(event, None, title, status) for title in titles]


def published_idea(challenge: Challenge, title: str = "Bäume") -> Idea:
    """An online idea of the challenge, published."""
    idea = Idea(challenge_id=challenge.id, title=title, status="published", published_at=now())
    db.session.add(idea)
    db.session.commit()
    return idea


def make_round(
    event: Event,
    minutes: float = 2,
    budget: int = 3,
    scope: str = "event",
    at=None,
    *,
    closed: bool = False,
    number: int | None = None,
) -> EventRound:
    """A round of ``minutes`` from ``at`` (default now; ``closed``: one that ended long ago),
    numbered after the event's last one unless ``number`` is given."""
    start = at or (now() - timedelta(minutes=90) if closed else now())
    if number is None:
        last = select(func.max(EventRound.number)).where(EventRound.event_id == event.id)
        number = (db.session.scalar(last) or 0) + 1
    event_round = EventRound(
        event_id=event.id,
        number=number,
        scope=scope,
        budget=budget,
        starts_at=start,
        ends_at=start + timedelta(minutes=minutes),
    )
    db.session.add(event_round)
    db.session.commit()
    return event_round


def give_dots(event_round: EventRound, participant: EventParticipant, *ideas: Idea) -> None:
    """``participant``'s dots for ``ideas`` in the round, with the ballot's count kept right
    (as the voting service writes them)."""
    ballot = db.session.get(RoundBallot, (event_round.id, participant.id))
    if ballot is None:
        ballot = RoundBallot(round_id=event_round.id, participant_id=participant.id, used=0)
        db.session.add(ballot)
    for idea in ideas:
        db.session.add(
            RoundVote(round_id=event_round.id, participant_id=participant.id, idea_id=idea.id)
        )
        ballot.used += 1
    db.session.commit()
