"""Ideas, their comments, and reports of abuse."""

from datetime import datetime

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    case,
    func,
    literal_column,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..challenges.models import Category, Challenge
from ..clock import now
from ..dbtypes import UTCDateTime
from ..districts import District
from ..extensions import db

# queued, room and merged are ideas from a live event's room (see consult.events.models).
IDEA_STATES = ("draft", "submitted", "published", "hidden", "withdrawn", "queued", "room", "merged")
ORIGINS = ("online", "workshop", "event")
TITLE_MAX, BODY_MAX, COMMENT_MAX = 140, 5000, 2000


class Idea(db.Model):
    __tablename__ = "ideas"
    __table_args__ = (
        Index("ix_ideas_challenge_status_published", "challenge_id", "status", "published_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(ForeignKey("challenges.id", ondelete="CASCADE"))
    # NULL for ideas collected on paper at a workshop (no account).
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    category_id: Mapped[int | None] = mapped_column(
        ForeignKey("categories.id", ondelete="SET NULL")
    )
    district_id: Mapped[int | None] = mapped_column(ForeignKey("districts.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    # Markdown source as written, and its sanitised HTML (rendered once, on save).
    body: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    # The language the idea is written in, for the lang attribute and search.
    language: Mapped[str] = mapped_column(String(2), default="de")
    image_id: Mapped[int | None] = mapped_column(ForeignKey("images.id", ondelete="SET NULL"))
    image_alt: Mapped[str] = mapped_column(String(300), default="")
    origin: Mapped[str] = mapped_column(String(10), default="online")
    workshop_name: Mapped[str] = mapped_column(String(120), default="")
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Ideas from a live event's room: the event and the participant who posted it.
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", ondelete="SET NULL"), index=True
    )
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("event_participants.id", ondelete="SET NULL")
    )
    # A duplicate merged into another idea (status "merged"); the target credits both authors.
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("ideas.id", ondelete="SET NULL"), index=True
    )

    status: Mapped[str] = mapped_column(String(10), default="draft")
    moderation_reason: Mapped[str] = mapped_column(String(30), default="")
    moderation_note: Mapped[str] = mapped_column(Text, default="")
    moderated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    moderated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now, onupdate=now)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Caches for fast lists; the rows are the truth and the caches are checked against them.
    vote_count: Mapped[int] = mapped_column(Integer, default=0)
    comment_count: Mapped[int] = mapped_column(Integer, default=0)

    challenge: Mapped[Challenge] = relationship()
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    category: Mapped[Category | None] = relationship()
    district: Mapped[District | None] = relationship()

    @property
    def is_public(self) -> bool:
        return self.status == "published"


# The full-text document of an idea, searched by consult.ideas.services on PostgreSQL.
# Literals instead of bound parameters keep the expression identical to the indexed one,
# so PostgreSQL can use the index.
_SEARCH_CONFIG = case(
    (Idea.language == literal_column("'en'"), literal_column("'english'::regconfig")),
    else_=literal_column("'german'::regconfig"),
)
SEARCH_DOCUMENT = func.to_tsvector(
    _SEARCH_CONFIG, Idea.title.concat(literal_column("' '")).concat(Idea.body)
)
# Its GIN index (created by migration 0002), declared here so that autogenerate knows it
# and never proposes to drop it. PostgreSQL only: SQLite searches with LIKE. See
# consult.extensions.schema_comparison_filter for how `flask db check` treats it.
# (Attached explicitly: the literals in the expression keep SQLAlchemy from finding its table.)
Idea.__table__.append_constraint(
    Index(
        "ix_ideas_search",
        SEARCH_DOCUMENT,
        postgresql_using="gin",
        info={"expression_compared_in_tests": True},
    ).ddl_if(dialect="postgresql")
)


class Comment(db.Model):
    __tablename__ = "comments"

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(2), default="de")
    status: Mapped[str] = mapped_column(String(10), default="published")
    moderation_reason: Mapped[str] = mapped_column(String(30), default="")
    moderation_note: Mapped[str] = mapped_column(Text, default="")
    moderated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    moderated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)

    idea: Mapped[Idea] = relationship()
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])


class Report(db.Model):
    """A citizen's report of an idea or a comment; one per reporter and target."""

    __tablename__ = "reports"
    # One report per reporter and target. NULLs are distinct in a unique constraint, so
    # reports of the idea itself (comment_id NULL) need their own partial unique index.
    __table_args__ = (
        UniqueConstraint("reporter_id", "idea_id", "comment_id", name="uq_reports_reporter_target"),
        Index(
            "uq_reports_reporter_idea",
            "reporter_id",
            "idea_id",
            unique=True,
            sqlite_where=text("comment_id IS NULL"),
            postgresql_where=text("comment_id IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"), index=True)
    # Set when the report is about a comment on the idea.
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(String(30))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    outcome: Mapped[str] = mapped_column(String(20), default="")

    idea: Mapped[Idea] = relationship()
    comment: Mapped[Comment | None] = relationship()


class IdeaFollower(db.Model):
    """A citizen who asked to hear about an idea: its project updates are mailed to them."""

    __tablename__ = "idea_followers"

    idea_id: Mapped[int] = mapped_column(
        ForeignKey("ideas.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
