"""The one rule for what the public may see of results: published and past the embargo.

Every public page, export, feed, sitemap entry and mail about results asks here, so that
nothing of an announcement escapes before its time. The rule reads the clock; no job flips it.
"""

from collections.abc import Iterable
from datetime import datetime

from flask import abort
from sqlalchemy import select

from ..challenges.models import Challenge
from ..extensions import db
from .models import Announcement


def public_announcement(challenge: Challenge, at: datetime | None = None) -> Announcement | None:
    """The challenge's announcement if the public may see it now, else None."""
    return public_announcements([challenge], at).get(challenge.id)


def public_announcements(
    challenges: Iterable[Challenge], at: datetime | None = None
) -> dict[int, Announcement]:
    """The public announcements of several challenges by challenge id, in one query (lists)."""
    # Only frozen challenges can have results: no query for a page of open challenges.
    frozen = [challenge.id for challenge in challenges if challenge.is_frozen]
    if not frozen:
        return {}
    rows = db.session.scalars(select(Announcement).where(Announcement.challenge_id.in_(frozen)))
    return {row.challenge_id: row for row in rows if row.is_public(at)}


def require_public_results(challenge_id: int) -> tuple[Challenge, Announcement]:
    """For public views: the challenge and its public announcement, or 404.

    404, not 403: before the embargo a guessed URL must not even confirm that results exist.
    """
    challenge = db.session.get(Challenge, challenge_id)
    announcement = public_announcement(challenge) if challenge is not None else None
    if announcement is None:
        abort(404)
    return challenge, announcement
