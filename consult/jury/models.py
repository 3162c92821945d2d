"""The jury of a challenge: its criteria, shortlist, jurors, their scores, and the frozen result.

Settings that belong to the challenge as a whole (alpha, centering, shortlist size and the
moment results were frozen) are columns of ``challenges``; see ``Challenge``.
"""

from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..bilingual import Bilingual
from ..clock import now
from ..dbtypes import UTCDateTime
from ..extensions import db

SCORE_MIN, SCORE_MAX = 0, 10
WEIGHT_MIN, WEIGHT_MAX = 1, 100
SHORTLIST_SOURCES = ("votes", "staff")


class JuryCriterion(Bilingual, db.Model):
    """One thing jurors score, e.g. "impact"; its weight is a whole number, 1 to 100.

    Whole-number weights keep the published formula exact and easy to read ("impact
    counts twice as much as cost"); only their ratios matter.
    """

    __tablename__ = "jury_criteria"
    __table_args__ = (
        CheckConstraint(f"weight BETWEEN {WEIGHT_MIN} AND {WEIGHT_MAX}", name="weight_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(
        ForeignKey("challenges.id", ondelete="CASCADE"), index=True
    )
    name_de: Mapped[str] = mapped_column(String(120))
    name_en: Mapped[str] = mapped_column(String(120))
    description_de: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    weight: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, default=0)


class ShortlistEntry(db.Model):
    """An idea on the shortlist: from the top N by votes, or picked by staff with a reason."""

    __tablename__ = "shortlist_entries"

    challenge_id: Mapped[int] = mapped_column(
        ForeignKey("challenges.id", ondelete="CASCADE"), primary_key=True
    )
    idea_id: Mapped[int] = mapped_column(
        ForeignKey("ideas.id", ondelete="CASCADE"), primary_key=True
    )
    source: Mapped[str] = mapped_column(String(8))  # "votes" or "staff"
    reason: Mapped[str] = mapped_column(Text, default="")  # required for staff picks
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class JurorAssignment(db.Model):
    """A juror of a challenge; jurors may not vote in the challenge they judge."""

    __tablename__ = "juror_assignments"

    challenge_id: Mapped[int] = mapped_column(
        ForeignKey("challenges.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    # Set once, when the juror submits all scores; from then on they cannot change.
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the juror was told their ideas are ready to score: claimed by one conditional
    # UPDATE, so that mail goes out once per seat however often the shortlist changes.
    ideas_mailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class JuryReview(db.Model):
    """One juror's work on one shortlisted idea: the idea is assigned to the juror.

    The row exists from assignment on; it holds a declared conflict of interest and the
    juror's private note. The scores themselves are ``JuryScore`` rows.
    """

    __tablename__ = "jury_reviews"
    __table_args__ = (UniqueConstraint("juror_id", "idea_id", name="uq_jury_reviews_juror_idea"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(
        ForeignKey("challenges.id", ondelete="CASCADE"), index=True
    )
    juror_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"), index=True)
    conflict: Mapped[bool] = mapped_column(Boolean, default=False)
    # Private: seen by the juror alone, never by staff, other jurors or the snapshot.
    note: Mapped[str] = mapped_column(Text, default="")
    saved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class JuryScore(db.Model):
    """A whole-number score 0..10 on one criterion; the database refuses anything else."""

    __tablename__ = "jury_scores"
    __table_args__ = (
        CheckConstraint(f"value BETWEEN {SCORE_MIN} AND {SCORE_MAX}", name="value_range"),
    )

    review_id: Mapped[int] = mapped_column(
        ForeignKey("jury_reviews.id", ondelete="CASCADE"), primary_key=True
    )
    criterion_id: Mapped[int] = mapped_column(
        ForeignKey("jury_criteria.id", ondelete="CASCADE"), primary_key=True
    )
    value: Mapped[int] = mapped_column(Integer)


class ResultSnapshot(db.Model):
    """The frozen result of a challenge: the canonical JSON document and its SHA-256.

    Written once, by ``freeze_results``; its existence is what makes a challenge frozen.
    """

    __tablename__ = "result_snapshots"

    challenge_id: Mapped[int] = mapped_column(
        ForeignKey("challenges.id", ondelete="CASCADE"), primary_key=True
    )
    document: Mapped[str] = mapped_column(Text)  # canonical JSON, exactly the hashed bytes
    sha256: Mapped[str] = mapped_column(String(64))
    frozen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    frozen_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
