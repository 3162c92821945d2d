"""Helpers for the merging tests (imported by name; pytest does not collect this file)."""

from dataclasses import dataclass

from sqlalchemy import func, select
from testdata import html, plain, says, shows  # noqa: F401  (used by the tests)
from voting.voting_support import make_challenge, make_idea

from consult.challenges.models import Challenge
from consult.extensions import db
from consult.ideas.models import Idea
from consult.merging import services
from consult.voting import services as votes
from consult.voting.models import Ballot, Vote

NOTE_DE = "Beide Ideen wollen mehr Bäume am Markt."
NOTE_EN = "Both ideas ask for more trees at the market."


@dataclass
class World:
    challenge: Challenge
    staff: object
    source_author: object
    target_author: object
    source: Idea
    target: Idea
    other: Idea


def merge_world(make_user, budget: int = 3, **settings) -> World:
    """A challenge whose voting runs; the duplicate (source) and the idea that stays
    (target) by two authors, and a third idea; a staff member."""
    challenge = make_challenge(budget=budget, **settings)
    staff = make_user(pseudonym="Stadtverwaltung", roles=("staff",), email="staff@example.org")
    alice = make_user(pseudonym="Alice", email="alice@example.org", locale="de")
    bob = make_user(pseudonym="Bob", email="bob@example.org", locale="en")
    source = make_idea(challenge, alice, title="Mehr Bäume am Markt")
    target = make_idea(challenge, bob, title="Bäume für den Marktplatz")
    other = make_idea(challenge, None, title="Trinkbrunnen")
    return World(challenge, staff, alice, bob, source, target, other)


def merge(world, source=None, target=None, department="Grünflächenamt", note_de=NOTE_DE,
          note_en=NOTE_EN, actor=None):  # fmt: skip
    source = source or world.source
    target_id = (target or world.target).id if not isinstance(target, (int, str)) else target
    return services.merge_idea(
        actor or world.staff, source, target_id, department, note_de, note_en
    )


def vote(user, idea, challenge=None):
    return votes.cast_vote(user, challenge or idea.challenge, idea.id)


def used(challenge, user) -> int:
    return (
        db.session.scalar(
            select(Ballot.used).where(
                Ballot.challenge_id == challenge.id, Ballot.user_id == user.id
            )
        )
        or 0
    )


def vote_rows(idea_id: int) -> list[int]:
    """The user ids of the vote rows of an idea."""
    return sorted(db.session.scalars(select(Vote.user_id).where(Vote.idea_id == idea_id)))


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def assert_consistent() -> None:
    """Every cached count and ballot equals its rows."""
    db.session.expire_all()
    assert votes.check_vote_counts() == []
    assert votes.check_ballots() == []
