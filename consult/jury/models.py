"""The jury of a challenge: which accounts score its shortlist."""

from datetime import datetime

from sqlalchemy import ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import now
from ..dbtypes import UTCDateTime
from ..extensions import db


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
