"""Helpers for the official answer tests (imported by name; pytest does not collect it)."""

from dataclasses import dataclass

from jury.jury_support import evaluation_challenge, make_idea, says_n, shortlist  # noqa: F401
from sqlalchemy import func, select
from testdata import html, plain, says, shows  # noqa: F401

from consult.answers.models import IdeaAnswer
from consult.audit.models import AuditEntry
from consult.extensions import db
from consult.jobs import Outbox
from consult.notifications.models import NotificationSent


@dataclass
class World:
    challenge: object
    other: object  # a second challenge, for forged ids
    staff: object
    author: object
    ideas: list  # oldest first


def answers_world(make_user) -> World:
    challenge = evaluation_challenge()
    other = evaluation_challenge()
    other.title_de, other.title_en = "Andere Frage", "Another question"
    staff = make_user(roles=("citizen", "staff"), pseudonym="Stadt Team", locale="de")
    author = make_user(pseudonym="Ideengeberin")
    ideas = [
        make_idea(challenge, "Bäume am Markt", author=author, submitted_days_ago=22),
        make_idea(challenge, "Trinkbrunnen", submitted_days_ago=21),
        make_idea(challenge, "Grüne Dächer", submitted_days_ago=20),
    ]
    return World(challenge, other, staff, author, ideas)


def answer_data(**values) -> dict:
    data = {
        "state": "already_planned",
        "text_de": "Das ist **schon geplant**.",
        "text_en": "This is **already planned**.",
        "department": "Grünflächenamt",
    }
    data.update(values)
    return data


def answer_url(challenge, idea) -> str:
    return f"/staff/challenges/{challenge.id}/ideas/{idea.id}/answer"


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def state() -> dict:
    """Rows of everything answering may write: compared before and after a refusal."""
    db.session.expire_all()
    answers = [
        (a.idea_id, a.state, a.text_de, a.text_en, a.department)
        for a in db.session.scalars(select(IdeaAnswer).order_by(IdeaAnswer.idea_id))
    ]
    return {
        "answers": answers,
        **{m.__name__: count(m) for m in (AuditEntry, Outbox, NotificationSent)},
    }


def stored(idea) -> IdeaAnswer | None:
    db.session.expire_all()
    return db.session.get(IdeaAnswer, idea.id)
