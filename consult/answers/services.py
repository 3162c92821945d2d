"""Official answers to ideas (DESIGN §3): nobody's idea disappears into silence."""

from sqlalchemy import func, select

from ..extensions import db
from ..ideas.models import Idea
from .models import IdeaAnswer


def _unanswered(challenge_id: int):
    return (
        select(Idea)
        .outerjoin(IdeaAnswer, IdeaAnswer.idea_id == Idea.id)
        .where(
            Idea.challenge_id == challenge_id,
            Idea.status == "published",
            IdeaAnswer.idea_id.is_(None),
        )
    )


def unanswered_ideas(challenge_id: int) -> list[Idea]:
    """The published ideas of a challenge without an official answer, oldest first."""
    return list(db.session.scalars(_unanswered(challenge_id).order_by(Idea.published_at, Idea.id)))


def count_unanswered(challenge_id: int) -> int:
    """How many published ideas of a challenge still wait for an official answer."""
    return db.session.scalar(select(func.count()).select_from(_unanswered(challenge_id).subquery()))
