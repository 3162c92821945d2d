"""When jury data may still change: one place for the rules every jury service checks."""

from sqlalchemy import select

from ..errors import UserError
from ..extensions import db
from ..i18n import _
from .models import JurorAssignment


def check_not_frozen(challenge) -> None:
    """After freezing, scores, votes and settings of the challenge stay as they were."""
    if challenge.is_frozen:
        raise UserError(
            _(
                "The results of this challenge are frozen: scores, votes and settings "
                "can no longer change."
            ),
            status=409,
        )


def any_juror_submitted(challenge) -> bool:
    query = select(JurorAssignment.user_id).where(
        JurorAssignment.challenge_id == challenge.id, JurorAssignment.submitted_at.is_not(None)
    )
    return db.session.scalar(query.limit(1)) is not None


def check_setup_unlocked(challenge) -> None:
    """Criteria, weights and the shortlist are what jurors scored against: fixed once used."""
    check_not_frozen(challenge)
    if any_juror_submitted(challenge):
        raise UserError(
            _(
                "A juror has already submitted scores, so the criteria, weights and "
                "shortlist can no longer change."
            ),
            status=409,
        )
