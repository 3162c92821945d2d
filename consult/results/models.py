"""The press office's announcement of a challenge's results, and who asked to be told.

Whether results are public is derived from the clock (``embargo_at``), like phases: no job
has to run at the embargo time for the page to appear.
"""

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..bilingual import Bilingual
from ..clock import now
from ..dbtypes import UTCDateTime
from ..extensions import db


class Announcement(Bilingual, db.Model):
    """One per challenge: title, lead and body in both languages, and the embargo.

    A draft until the press officer publishes it; published, it is scheduled for
    ``embargo_at`` and public from that instant on.
    """

    __tablename__ = "announcements"

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(
        ForeignKey("challenges.id", ondelete="CASCADE"), unique=True
    )
    title_de: Mapped[str] = mapped_column(String(200), default="")
    title_en: Mapped[str] = mapped_column(String(200), default="")
    lead_de: Mapped[str] = mapped_column(Text, default="")
    lead_en: Mapped[str] = mapped_column(Text, default="")
    # Markdown as written and its sanitised HTML (rendered once, on save).
    body_de: Mapped[str] = mapped_column(Text, default="")
    body_en: Mapped[str] = mapped_column(Text, default="")
    body_html_de: Mapped[str] = mapped_column(Text, default="")
    body_html_en: Mapped[str] = mapped_column(Text, default="")
    embargo_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Set by the job that mails the results, so that running it twice mails nobody twice.
    results_mailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    def is_public(self, at: datetime | None = None) -> bool:
        """Published and past its embargo: the one test every public page makes."""
        return (
            self.published_at is not None
            and self.embargo_at is not None
            and (at or now()) >= self.embargo_at
        )


class AnnouncementHighlight(db.Model):
    """A winner the announcement puts first, in the press officer's order."""

    __tablename__ = "announcement_highlights"

    announcement_id: Mapped[int] = mapped_column(
        ForeignKey("announcements.id", ondelete="CASCADE"), primary_key=True
    )
    idea_id: Mapped[int] = mapped_column(
        ForeignKey("ideas.id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)


class ResultsSubscription(db.Model):
    """A citizen who asked to be mailed the results of a challenge."""

    __tablename__ = "results_subscriptions"

    challenge_id: Mapped[int] = mapped_column(
        ForeignKey("challenges.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class ResultChart(db.Model):
    """A rendered chart of a challenge's results (SVG for the page, PNG for the press kit).

    Made by a job and kept in the database, so every web process serves the same bytes
    without rendering; ``source_hash`` says which figures it was drawn from.
    """

    __tablename__ = "result_charts"

    challenge_id: Mapped[int] = mapped_column(
        ForeignKey("challenges.id", ondelete="CASCADE"), primary_key=True
    )
    name: Mapped[str] = mapped_column(String(40), primary_key=True)  # e.g. "votes-by-day"
    locale: Mapped[str] = mapped_column(String(5), primary_key=True)
    format: Mapped[str] = mapped_column(String(4), primary_key=True)  # "svg" or "png"
    content: Mapped[bytes] = mapped_column(LargeBinary)
    source_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
