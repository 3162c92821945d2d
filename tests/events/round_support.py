"""Helpers of the voting-round tests alone (imported by name; pytest does not collect this
file). Events, people, room ideas and rounds come from ``events.event_support``."""

from sqlalchemy import func, select

from consult.events.models import EventRound, RoundBallot, RoundVote
from consult.extensions import db


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
