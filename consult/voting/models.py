"""Votes: the rows are the truth; ballots hold each citizen's budget per challenge."""

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import now
from ..dbtypes import UTCDateTime
from ..extensions import db


class Vote(db.Model):
    """One citizen's vote for one idea. No IP address, no user agent: only who and what.

    The unique constraint, not Python, guarantees one vote per (idea, citizen).
    """

    __tablename__ = "votes"
    __table_args__ = (UniqueConstraint("idea_id", "user_id", name="uq_votes_idea_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(
        ForeignKey("challenges.id", ondelete="CASCADE"), index=True
    )
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"))
    # Kept when the account is deleted (anonymised): the vote stays as an anonymous count.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, index=True)


class Ballot(db.Model):
    """How many votes a citizen has used in a challenge.

    The budget is enforced by one conditional UPDATE on this row, which the database
    serialises per citizen: two phones voting at once can never exceed the budget.
    """

    __tablename__ = "ballots"
    __table_args__ = (CheckConstraint("used >= 0", name="used_not_negative"),)

    challenge_id: Mapped[int] = mapped_column(
        ForeignKey("challenges.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    used: Mapped[int] = mapped_column(Integer, default=0)


class PaperVoteEntry(db.Model):
    """Votes collected on paper at an event, entered by staff for one idea.

    Entries are never edited: a correction is a new entry with a negative count, so the
    record of who entered what and when stays complete.
    """

    __tablename__ = "paper_vote_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"), index=True)
    count: Mapped[int] = mapped_column(Integer)
    event_name: Mapped[str] = mapped_column(String(120))
    # The day of the event in Berlin, as written on the sheet; None for entries made before
    # sheets had a date (and for corrections, which belong to no event day).
    event_date: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
