"""Live events: the evening itself, the people in the room, and the voting rounds.

Ideas from the room are ``Idea`` rows of the challenge from the start (with ``event_id``
and ``participant_id`` set), so a round can vote on room ideas and challenge ideas alike
and taking the event into the challenge is a change of status, not a copy. Their states:
``queued`` (waiting for the room's moderator), ``room`` (approved, on the wall, not yet in
the challenge), ``hidden``, ``merged`` (into ``merged_into_id``), and ``published`` once
taken into the challenge.
"""

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..bilingual import Bilingual
from ..challenges.models import Challenge
from ..clock import now
from ..dbtypes import UTCDateTime
from ..extensions import db

EVENT_STATES = ("draft", "open", "closed")
ROUND_SCOPES = ("event", "challenge")
# Six characters from an alphabet without look-alikes (no 0/O, 1/I/L, 2/Z, 5/S, 8/B).
CODE_ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
CODE_LENGTH = 6
DISPLAY_NAME_MAX = 40


class Event(Bilingual, db.Model):
    """One evening (or video call) of a challenge."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    challenge_id: Mapped[int] = mapped_column(
        ForeignKey("challenges.id", ondelete="CASCADE"), index=True
    )
    title_de: Mapped[str] = mapped_column(String(160), default="")
    title_en: Mapped[str] = mapped_column(String(160), default="")
    place: Mapped[str] = mapped_column(String(200), default="")
    video_url: Mapped[str] = mapped_column(String(500), default="")
    # Stored in UTC, entered and shown in Berlin time.
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)

    # The code people type. It stays on a closed event, so that a late phone hears "this
    # event has ended" rather than "wrong code"; ``open_code`` holds it only while the
    # event is open, and its unique index makes two running events' codes differ.
    join_code: Mapped[str] = mapped_column(String(CODE_LENGTH), index=True)
    open_code: Mapped[str | None] = mapped_column(String(CODE_LENGTH), unique=True)
    status: Mapped[str] = mapped_column(String(10), default="draft")
    moderation: Mapped[str] = mapped_column(String(4), default="pre")
    # Whether the wall shows the running tally of a round (staff decide per event).
    wall_shows_tally: Mapped[bool] = mapped_column(Boolean, default=False)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Taking the outcome into the challenge: once, audited; the round whose votes count.
    imported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    imported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    imported_round_id: Mapped[int | None] = mapped_column(
        ForeignKey("event_rounds.id", ondelete="SET NULL", use_alter=True)
    )

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    challenge: Mapped[Challenge] = relationship()

    @property
    def is_open(self) -> bool:
        return self.status == "open"


class EventParticipant(db.Model):
    """A person in the room: a display name and an event-scoped token, nothing else.

    The token lives in a cookie scoped to the event's path; only its SHA-256 is stored.
    Registered citizens who are logged in join as themselves (``user_id``), once per event.
    Leaving anonymises: the name becomes empty and the token is forgotten, the person's
    ideas and votes stay as anonymous contributions.
    """

    __tablename__ = "event_participants"
    __table_args__ = (UniqueConstraint("event_id", "user_id", name="uq_event_participants_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(DISPLAY_NAME_MAX), default="")
    language: Mapped[str] = mapped_column(String(2), default="de")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    left_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    event: Mapped[Event] = relationship()


class EventRound(db.Model):
    """A timed voting round. Open from ``starts_at`` until ``ends_at`` or an early stop,
    derived from the clock: no job closes it."""

    __tablename__ = "event_rounds"
    __table_args__ = (
        UniqueConstraint("event_id", "number", name="uq_event_rounds_number"),
        CheckConstraint("budget >= 1", name="budget_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    scope: Mapped[str] = mapped_column(String(10), default="event")
    budget: Mapped[int] = mapped_column(Integer, default=3)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    event: Mapped[Event] = relationship(foreign_keys=[event_id])

    @property
    def closes_at(self) -> datetime:
        """When voting in this round ends: the clock's end or the early stop."""
        if self.stopped_at is not None and self.stopped_at < self.ends_at:
            return self.stopped_at
        return self.ends_at

    def is_open(self, at: datetime | None = None) -> bool:
        at = at or now()
        return self.starts_at <= at < self.closes_at


class RoundBallot(db.Model):
    """How many dots a participant has used in a round; the budget is enforced by one
    conditional UPDATE on this row, as for the challenge's ballots (DESIGN §4)."""

    __tablename__ = "event_round_ballots"
    __table_args__ = (CheckConstraint("used >= 0", name="used_not_negative"),)

    round_id: Mapped[int] = mapped_column(
        ForeignKey("event_rounds.id", ondelete="CASCADE"), primary_key=True
    )
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("event_participants.id", ondelete="CASCADE"), primary_key=True
    )
    used: Mapped[int] = mapped_column(Integer, default=0)


class RoundVote(db.Model):
    """One dot of one participant for one idea in one round; the rows are the truth."""

    __tablename__ = "event_round_votes"
    __table_args__ = (
        UniqueConstraint("round_id", "participant_id", "idea_id", name="uq_event_round_votes"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(
        ForeignKey("event_rounds.id", ondelete="CASCADE"), index=True
    )
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("event_participants.id", ondelete="CASCADE"), index=True
    )
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
