"""Challenges: the city's question, its schedule and its rules, and their categories."""

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..bilingual import Bilingual
from ..clock import now
from ..dbtypes import UTCDateTime
from ..extensions import db

PHASES = ("draft", "submission", "voting", "evaluation", "results", "archived")
MODERATION_MODES = ("pre", "post")


class Challenge(Bilingual, db.Model):
    __tablename__ = "challenges"

    id: Mapped[int] = mapped_column(primary_key=True)
    title_de: Mapped[str] = mapped_column(String(160), default="")
    title_en: Mapped[str] = mapped_column(String(160), default="")
    question_de: Mapped[str] = mapped_column(String(300), default="")
    question_en: Mapped[str] = mapped_column(String(300), default="")
    description_de: Mapped[str] = mapped_column(Text, default="")
    description_en: Mapped[str] = mapped_column(Text, default="")
    # Leichte Sprache (German) / plain English summary; optional.
    plain_de: Mapped[str] = mapped_column(Text, default="")
    plain_en: Mapped[str] = mapped_column(Text, default="")
    cover_image_id: Mapped[int | None] = mapped_column(ForeignKey("images.id", ondelete="SET NULL"))
    cover_alt_de: Mapped[str] = mapped_column(String(300), default="")
    cover_alt_en: Mapped[str] = mapped_column(String(300), default="")

    # The schedule, in UTC. The phase is derived from it and the clock, never stored.
    submission_opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submission_closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    voting_opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    voting_closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    results_at: Mapped[datetime] = mapped_column(UTCDateTime)
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Votes per citizen; 0 means one vote per idea and no limit on the number of ideas.
    vote_budget: Mapped[int] = mapped_column(Integer, default=5)
    hide_counts_while_voting: Mapped[bool] = mapped_column(Boolean, default=False)
    moderation: Mapped[str] = mapped_column(String(4), default="pre")
    count_paper_votes: Mapped[bool] = mapped_column(Boolean, default=True)

    # The jury (DESIGN §5). alpha is stored in percent so the formula stays exact.
    jury_alpha_percent: Mapped[int] = mapped_column(Integer, default=50, server_default="50")
    jury_centering: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    shortlist_size: Mapped[int] = mapped_column(Integer, default=10, server_default="10")
    # Set in the same transaction that writes the result snapshot; nothing changes after.
    results_frozen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Claimed by the worker's due task that mails "voting is open" / "closes in 24 hours"
    # (a conditional UPDATE, so two workers never both mail; see consult.notifications).
    voting_opens_mailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voting_closes_mailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    categories: Mapped[list["Category"]] = relationship(
        back_populates="challenge",
        order_by="Category.position, Category.id",
        cascade="all, delete-orphan",
    )

    # --- phase, derived from the schedule and the clock --------------------------------

    def phase(self, at: datetime | None = None) -> str:
        """The latest phase that has begun; submission and voting may overlap."""
        at = at or now()
        if at < self.submission_opens_at:
            return "draft"
        if self.archived_at is not None and at >= self.archived_at:
            return "archived"
        if at >= self.results_at:
            return "results"
        if at >= self.voting_closes_at:
            return "evaluation"
        if self.voting_opens_at <= at:
            return "voting"
        return "submission"

    def submission_open(self, at: datetime | None = None) -> bool:
        at = at or now()
        return self.submission_opens_at <= at < self.submission_closes_at

    def voting_open(self, at: datetime | None = None) -> bool:
        at = at or now()
        return self.voting_opens_at <= at < self.voting_closes_at

    def voting_started(self, at: datetime | None = None) -> bool:
        return (at or now()) >= self.voting_opens_at

    def counts_hidden(self, at: datetime | None = None) -> bool:
        """Whether vote counts are kept from the public now (the challenge's setting)."""
        return bool(self.hide_counts_while_voting) and self.voting_open(at)

    @property
    def is_frozen(self) -> bool:
        return self.results_frozen_at is not None

    def is_public(self, at: datetime | None = None) -> bool:
        return self.phase(at) != "draft"

    def next_deadline(self, at: datetime | None = None) -> tuple[str, datetime] | None:
        """The next date that changes what people can do, for "voting ends in 3 days"."""
        at = at or now()
        events = [
            ("submission_opens", self.submission_opens_at),
            ("submission_closes", self.submission_closes_at),
            ("voting_opens", self.voting_opens_at),
            ("voting_closes", self.voting_closes_at),
            ("results", self.results_at),
        ]
        upcoming = [(name, when) for name, when in events if when > at]
        return min(upcoming, key=lambda item: item[1]) if upcoming else None

    # --- bilingual fields ---------------------------------------------------------------

    def missing_translations(self) -> list[str]:
        """Fields filled in one language but not the other (shown to staff at a glance)."""
        missing = []
        for field in ("title", "question", "description", "plain", "cover_alt"):
            de, en = getattr(self, f"{field}_de"), getattr(self, f"{field}_en")
            if bool(de) != bool(en):
                missing.append(f"{field}_{'en' if de else 'de'}")
        return missing


class Category(db.Model):
    __tablename__ = "categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(
        ForeignKey("challenges.id", ondelete="CASCADE"), index=True
    )
    name_de: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(default=0)

    challenge: Mapped[Challenge] = relationship(back_populates="categories")

    def name(self, locale: str) -> tuple[str, str]:
        if locale == "en" and self.name_en:
            return self.name_en, "en"
        if self.name_de:
            return self.name_de, "de"
        return self.name_en, "en"
