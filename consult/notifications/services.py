"""Notification mails that are not transactional: who gets them, in which language, once.

Every such mail goes through ``notify_people`` (DESIGN §9): it honours the person's
settings and weekly digest, records each notification in ``notifications_sent`` so that
nobody is told twice (the primary key decides, not a check in Python), and adds the
unsubscribe link for its kind.
"""

from collections.abc import Callable, Iterable

from sqlalchemy import select

from .. import jobs
from ..accounts.models import User
from ..accounts.tokens import make_token
from ..extensions import db, sql_dialect
from ..urls import external_url
from .models import KINDS, DigestItem, NotificationSent


def wants(user: User, kind: str) -> bool:
    """Whether ``user`` still wants mails of ``kind`` (settings page, unsubscribe links)."""
    return kind in KINDS and bool(getattr(user, f"notify_{kind}"))


def unsubscribe_url(user: User, kind: str) -> str:
    """A link that switches mails of ``kind`` off for ``user`` without logging in."""
    return external_url(
        "notifications.unsubscribe", token=make_token("notify-unsubscribe", user.id, k=kind)
    )


def _claim(kind: str, subject_id: int, user_ids: list[int]) -> list[int]:
    """Record (kind, subject, person) for each person; returns those not recorded before.

    In the caller's transaction: if it rolls back, nobody counts as told.
    """
    if not user_ids:
        return []
    statement = (
        sql_dialect()
        .insert(NotificationSent)
        .values([{"kind": kind, "subject_id": subject_id, "user_id": uid} for uid in user_ids])
        .on_conflict_do_nothing()
        .returning(NotificationSent.user_id)
    )
    return sorted(db.session.scalars(statement))


def notify_people(
    kind: str,
    subject_id: int,
    user_ids: Iterable[int],
    template: str,
    context: Callable[[User, str], dict],
    ledger_kind: str | None = None,
) -> int:
    """Queue one mail of ``kind`` (one of ``KINDS``) about ``subject_id`` per person.

    In the caller's transaction, which must commit for the mails to go out. Skips deleted
    and unverified accounts, people who switched ``kind`` off and anyone already told
    about (``ledger_kind`` or ``kind``, ``subject_id``). ``context(user, locale)`` gives
    the mail's context in the person's language; the unsubscribe link is added here.
    People who chose the weekly digest get a digest item instead of a mail. Returns how
    many people were notified (mail or digest item).
    """
    ids = sorted(set(user_ids))
    if not ids:
        return 0
    people = [
        user
        for user in db.session.scalars(
            select(User)
            .where(
                User.id.in_(ids),
                User.deleted_at.is_(None),
                User.email_verified_at.is_not(None),
                User.email.is_not(None),
            )
            .order_by(User.id)
        )
        if wants(user, kind)
    ]
    claimed = set(_claim(ledger_kind or kind, subject_id, [user.id for user in people]))
    told = 0
    for user in people:
        if user.id not in claimed:
            continue
        locale = user.locale if user.locale in ("de", "en") else "de"
        values = dict(context(user, locale), name=user.pseudonym)
        if user.digest_weekly:
            db.session.add(
                DigestItem(user_id=user.id, kind=kind, template=template, context=values)
            )
        else:
            values["unsubscribe_url"] = unsubscribe_url(user, kind)
            jobs.enqueue(jobs.send_email, user.email, template, locale, values)
        told += 1
    return told


# --- a person's own data (GDPR export and deletion) ---------------------------------------


def export_own_notifications(user) -> dict:
    """The challenges the person follows, the notifications given and the digest held."""
    from .models import ChallengeFollower

    follows = db.session.scalars(
        select(ChallengeFollower)
        .where(ChallengeFollower.user_id == user.id)
        .order_by(ChallengeFollower.created_at, ChallengeFollower.challenge_id)
    )
    sent = db.session.scalars(
        select(NotificationSent)
        .where(NotificationSent.user_id == user.id)
        .order_by(NotificationSent.created_at, NotificationSent.kind)
    )
    items = db.session.scalars(
        select(DigestItem).where(DigestItem.user_id == user.id).order_by(DigestItem.id)
    )
    return {
        "followed_challenges": [
            {"challenge_id": f.challenge_id, "followed_at": f.created_at.isoformat()}
            for f in follows
        ],
        "notifications_sent": [
            {"kind": n.kind, "about_id": n.subject_id, "at": n.created_at.isoformat()}
            for n in sent
        ],
        "digest_items": [
            {"kind": i.kind, "created_at": i.created_at.isoformat(),
             "sent_at": i.sent_at.isoformat() if i.sent_at else None}
            for i in items
        ],
    }  # fmt: skip


def forget_notifications(user) -> None:
    """A deleted account follows nothing and gets no digest."""
    from sqlalchemy import delete

    from .models import ChallengeFollower

    for model in (ChallengeFollower, DigestItem):
        db.session.execute(delete(model).where(model.user_id == user.id))


def _register_account_hooks() -> None:
    from ..accounts import services as accounts

    if export_own_notifications not in accounts.DATA_EXPORTERS:
        accounts.DATA_EXPORTERS.append(export_own_notifications)
        accounts.DELETION_HOOKS.append(forget_notifications)


_register_account_hooks()
