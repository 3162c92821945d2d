"""Helpers of the tests of taking an event into its challenge (imported by name; pytest
does not collect this file): the evening they start from, online votes, accounts.
Events, people, room ideas, rounds and dots come from ``events.event_support``."""

from datetime import timedelta

from events.event_support import (
    add_participant,
    give_dots,
    make_challenge,
    make_event,
    make_round,
    published_idea,
    room_idea,
)
from sqlalchemy import select

from consult.accounts.models import RoleGrant, User
from consult.clock import now
from consult.extensions import db
from consult.ideas.models import Idea
from consult.voting.models import Ballot, Vote

_counter = iter(range(1, 1_000_000))


def make_person(roles=("citizen",)) -> User:
    """An account without a usable password (service tests need no login)."""
    n = next(_counter)
    user = User(
        email=f"room{n}@example.org",
        pseudonym=f"Room {n}",
        pseudonym_key=f"room {n}",
        password_hash="!",
        email_verified_at=now(),
        privacy_consent_at=now(),
        role_grants=[RoleGrant(role=r) for r in roles],
    )
    db.session.add(user)
    db.session.commit()
    return user


def online_vote(user, idea) -> None:
    """An online vote row (the caches move with it, as cast_vote does)."""
    db.session.add(Vote(challenge_id=idea.challenge_id, idea_id=idea.id, user_id=user.id))
    db.session.add(Ballot(challenge_id=idea.challenge_id, user_id=user.id, used=1))
    idea.vote_count += 1
    db.session.commit()


def evening(count_paper_votes=True):
    """A challenge with one online idea and a closed event with its closed round 1:

    room ideas ``a`` and ``b``, ``c`` merged into ``a``, ``d`` hidden; anonymous Anna votes
    a and b, anonymous Ben votes a, citizen Cem (who also voted online for a) votes a and
    b. Event votes: a = 2 (Cem's counted online), b = 2. The room ideas were made two
    hours ago.
    """
    challenge = make_challenge(count_paper_votes=count_paper_votes)
    online_idea = published_idea(challenge, "Online-Idee")
    event = make_event(challenge, status="closed")
    cem_user = make_person()
    anna, ben = add_participant(event, "Anna"), add_participant(event, "Ben")
    cem = add_participant(event, "Cem", user=cem_user)
    made = {"created_at": now() - timedelta(hours=2)}
    a = room_idea(event, anna, "Trinkbrunnen am Markt", **made)
    b = room_idea(event, ben, "Schattenplätze", **made)
    c = room_idea(event, cem, "Wasser am Markt", status="merged", merged_into_id=a.id, **made)
    d = room_idea(event, ben, "Werbung", status="hidden", **made)
    rnd = make_round(event, closed=True)
    give_dots(rnd, anna, a, b)
    give_dots(rnd, ben, a)
    give_dots(rnd, cem, a, b)
    online_vote(cem_user, a)
    return {
        "challenge": challenge,
        "event": event,
        "round": rnd,
        "online": online_idea,
        "a": a,
        "b": b,
        "c": c,
        "d": d,
        "cem": cem_user,
        "staff": make_person(("staff",)),
    }


def status_of(idea_id: int) -> str:
    return db.session.scalar(select(Idea.status).where(Idea.id == idea_id))
