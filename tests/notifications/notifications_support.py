"""Helpers for the notification tests (imported by name; pytest does not collect this file)."""

import re
from datetime import timedelta

from sqlalchemy import func, select
from testdata import html, plain, says, shows  # noqa: F401
from voting.voting_support import DAY, make_challenge, make_idea  # noqa: F401

from consult.extensions import db
from consult.jobs import Outbox
from consult.notifications.models import ChallengeFollower
from consult.notifications.services import unsubscribe_url

HOUR = timedelta(hours=1)


def upcoming_challenge(**settings):
    """A public challenge (submission runs) whose voting opens in a day and runs five."""
    return make_challenge(opens=DAY, closes=6 * DAY, **settings)


def follow(challenge, *people) -> None:
    for person in people:
        db.session.add(ChallengeFollower(challenge_id=challenge.id, user_id=person.id))
    db.session.commit()


def followers(challenge) -> int:
    return db.session.scalar(
        select(func.count()).where(ChallengeFollower.challenge_id == challenge.id)
    )


def mail_jobs(template: str) -> list[str]:
    """The recipients of queued ``send_email`` jobs with ``template`` (the outbox rows)."""
    rows = db.session.scalars(select(Outbox).where(Outbox.job == "send_email").order_by(Outbox.id))
    return [row.args[0] for row in rows if row.args[1] == template]


def link_path(user, kind: str) -> str:
    """The path of ``user``'s unsubscribe link for ``kind`` (as in the mail)."""
    return re.sub(r"^http://localhost", "", unsubscribe_url(user, kind))


def fresh(user):
    """The user as stored now (a request or another thread changed it)."""
    db.session.expire_all()
    return db.session.get(type(user), user.id)
