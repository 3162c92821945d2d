"""Helpers for the tests of taking an event into its challenge (imported by name; pytest
does not collect this file). Everything is made directly with the models."""

from datetime import timedelta

from sqlalchemy import select

from consult.accounts.models import RoleGrant, User
from consult.challenges.models import Challenge
from consult.clock import now
from consult.events.models import Event, EventParticipant, EventRound, RoundBallot, RoundVote
from consult.extensions import db
from consult.ideas.models import Idea
from consult.voting.models import Ballot, Vote

_counter = iter(range(1, 1_000_000))
DAY = timedelta(days=1)


def make_challenge(**settings) -> Challenge:
    """A challenge whose voting runs (as tests/voting/voting_support.make_challenge)."""
    t = now()
    challenge = Challenge(
        title_de="Abstimmung",
        title_en="Vote",
        question_de="Was wünschen Sie sich?",
        question_en="What do you wish for?",
        submission_opens_at=t - 12 * DAY,
        submission_closes_at=t - 3 * DAY,
        voting_opens_at=t - 2 * DAY,
        voting_closes_at=t + 5 * DAY,
        results_at=t + 12 * DAY,
        vote_budget=5,
        **settings,
    )
    db.session.add(challenge)
    db.session.commit()
    return challenge


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


def make_event(challenge, title_de="Helpathon Nord", title_en="Helpathon North", status="closed"):
    t = now()
    n = next(_counter)
    event = Event(
        challenge_id=challenge.id,
        title_de=title_de,
        title_en=title_en,
        starts_at=t - timedelta(hours=3),
        ends_at=t - timedelta(hours=1),
        join_code=f"AC{n:04d}"[-6:],
        status=status,
    )
    db.session.add(event)
    db.session.commit()
    return event


def join(event, name="Anna", user=None) -> EventParticipant:
    n = next(_counter)
    person = EventParticipant(
        event_id=event.id,
        token_hash=f"{n:064d}",
        display_name=name,
        user_id=user.id if user else None,
    )
    db.session.add(person)
    db.session.commit()
    return person


def room_idea(event, participant, title="Trinkbrunnen", status="room", merged_into=None) -> Idea:
    idea = Idea(
        challenge_id=event.challenge_id,
        event_id=event.id,
        participant_id=participant.id,
        author_id=participant.user_id,
        title=title,
        body="Aus dem Raum.",
        body_html="<p>Aus dem Raum.</p>",
        status=status,
        merged_into_id=merged_into.id if merged_into else None,
        created_at=now() - timedelta(hours=2),
    )
    db.session.add(idea)
    db.session.commit()
    return idea


def make_round(event, number=1, closed=True, scope="event", budget=3) -> EventRound:
    t = now()
    rnd = EventRound(
        event_id=event.id,
        number=number,
        scope=scope,
        budget=budget,
        starts_at=t - timedelta(minutes=90),
        ends_at=t - timedelta(minutes=88) if closed else t + timedelta(minutes=2),
    )
    db.session.add(rnd)
    db.session.commit()
    return rnd


def dots(rnd, participant, *ideas) -> None:
    """The participant's dots in the round, with the ballot's counter kept right."""
    for idea in ideas:
        db.session.add(RoundVote(round_id=rnd.id, participant_id=participant.id, idea_id=idea.id))
    db.session.add(RoundBallot(round_id=rnd.id, participant_id=participant.id, used=len(ideas)))
    db.session.commit()


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
    b. Event votes: a = 2 (Cem's counted online), b = 2.
    """
    challenge = make_challenge(count_paper_votes=count_paper_votes)
    online_idea = Idea(
        challenge_id=challenge.id, title="Online-Idee", status="published", published_at=now()
    )
    db.session.add(online_idea)
    db.session.commit()
    event = make_event(challenge)
    cem_user = make_person()
    anna, ben, cem = join(event, "Anna"), join(event, "Ben"), join(event, "Cem", cem_user)
    a = room_idea(event, anna, "Trinkbrunnen am Markt")
    b = room_idea(event, ben, "Schattenplätze")
    c = room_idea(event, cem, "Wasser am Markt", status="merged", merged_into=a)
    d = room_idea(event, ben, "Werbung", status="hidden")
    rnd = make_round(event)
    dots(rnd, anna, a, b)
    dots(rnd, ben, a)
    dots(rnd, cem, a, b)
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
