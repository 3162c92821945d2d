"""The city's official answer to an idea: a state, a bilingual text and who answered."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..bilingual import Bilingual
from ..clock import now
from ..dbtypes import UTCDateTime
from ..extensions import db

# Every state an idea's answer can show (DESIGN §3).
ANSWER_STATES = (
    "under_review",
    "shortlisted",
    "not_pursued",
    "already_planned",
    "merged",
    "lab_project",
)
# What staff choose themselves. "shortlisted" and "lab_project" follow from the jury and
# the lab, "merged" from a merge: set by those acts, so an answer cannot contradict them.
STAFF_STATES = ("under_review", "not_pursued", "already_planned")


class IdeaAnswer(Bilingual, db.Model):
    __tablename__ = "idea_answers"

    idea_id: Mapped[int] = mapped_column(
        ForeignKey("ideas.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[str] = mapped_column(String(20))
    # Markdown source as staff wrote it, and its sanitised HTML (rendered once, on save).
    text_de: Mapped[str] = mapped_column(Text, default="")
    text_en: Mapped[str] = mapped_column(Text, default="")
    html_de: Mapped[str] = mapped_column(Text, default="")
    html_en: Mapped[str] = mapped_column(Text, default="")
    # The department that answers, e.g. "Tiefbauamt"; a proper noun, one language.
    department: Mapped[str] = mapped_column(String(160), default="")
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)
