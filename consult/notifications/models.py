"""Who follows a challenge, which notification mails went to whom, and the weekly digest."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from ..clock import now
from ..dbtypes import UTCDateTime
from ..extensions import db

# The kinds of notification mail a person can switch off (DESIGN §9), each a column
# ``notify_<kind>`` on users. Comments and projects predate this module.
KINDS = ("voting_opens", "voting_closes", "results", "answers", "comments", "projects")


class ChallengeFollower(db.Model):
    """A citizen who asked to hear about a challenge (voting opens, closes, results)."""

    __tablename__ = "challenge_followers"

    challenge_id: Mapped[int] = mapped_column(
        ForeignKey("challenges.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class NotificationSent(db.Model):
    """One notification of one kind about one thing, given to one person.

    The primary key is the promise "nobody is told twice": the mail is queued in the same
    transaction that inserts this row, and a second worker's insert finds it there.
    """

    __tablename__ = "notifications_sent"

    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    # The challenge or idea the notification is about, by kind.
    subject_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)


class DigestItem(db.Model):
    """A notification held for the weekly digest of a person who chose one."""

    __tablename__ = "digest_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    # The mail template it would have been sent with, and that mail's context.
    template: Mapped[str] = mapped_column(String(40))
    context: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now)
    # Set in the transaction that queues the digest mail containing it.
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
