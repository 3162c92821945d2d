"""Lab projects: winning ideas the city's social innovation lab carries on (DESIGN §6)."""

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..bilingual import Bilingual
from ..clock import now
from ..dbtypes import UTCDateTime
from ..extensions import db

PROJECT_STATES = ("incubating", "piloting", "implemented", "paused", "discontinued")
PARTNER_SECTORS = ("civil_society", "administration", "business", "politics", "science")
COCREATOR_STATES = ("invited", "accepted", "declined")


class LabProject(Bilingual, db.Model):
    """One promoted idea; an idea becomes at most one project (the unique idea_id)."""

    __tablename__ = "lab_projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(
        ForeignKey("challenges.id", ondelete="CASCADE"), index=True
    )
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"), unique=True)
    title_de: Mapped[str] = mapped_column(String(160), default="")
    title_en: Mapped[str] = mapped_column(String(160), default="")
    summary_de: Mapped[str] = mapped_column(Text, default="")
    summary_en: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="incubating")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class CoCreator(db.Model):
    """An idea author invited to a project; the name is public only once accepted."""

    __tablename__ = "lab_cocreators"

    project_id: Mapped[int] = mapped_column(
        ForeignKey("lab_projects.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[str] = mapped_column(String(10), default="invited")
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Partner(db.Model):
    __tablename__ = "lab_partners"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("lab_projects.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(160))
    sector: Mapped[str] = mapped_column(String(16))
    position: Mapped[int] = mapped_column(Integer, default=0)


class Milestone(db.Model):
    __tablename__ = "lab_milestones"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("lab_projects.id", ondelete="CASCADE"), index=True
    )
    title_de: Mapped[str] = mapped_column(String(200), default="")
    title_en: Mapped[str] = mapped_column(String(200), default="")
    due_on: Mapped[date] = mapped_column(Date)
    reached_on: Mapped[date | None] = mapped_column(Date)


class ProjectUpdate(db.Model):
    """A public progress report; publishing one mails the idea's voters and followers."""

    __tablename__ = "lab_updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(
        ForeignKey("lab_projects.id", ondelete="CASCADE"), index=True
    )
    body_de: Mapped[str] = mapped_column(Text, default="")
    body_en: Mapped[str] = mapped_column(Text, default="")
    body_html_de: Mapped[str] = mapped_column(Text, default="")
    body_html_en: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, index=True)
    # Set by the job that fans the mail out, so running it twice mails nobody twice.
    mailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
