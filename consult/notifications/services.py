"""Notification mails that are not transactional: who gets them, in which language, once.

Every such mail goes through ``notify_people`` (DESIGN §9): it honours the person's
settings and weekly digest, records each notification in ``notifications_sent`` so that
nobody is told twice (the primary key decides, not a check in Python), and adds the
unsubscribe link for its kind.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import Integer, bindparam, delete, exists, func, or_, select, union, update

from .. import jobs
from ..accounts.models import User
from ..accounts.tokens import TokenError, make_token, read_token
from ..challenges.models import Challenge
from ..clock import now
from ..errors import UserError
from ..extensions import db, sql_dialect
from ..i18n import _, _l, force_locale, mail_locale
from ..permissions import require_participant
from ..urls import external_url
from .models import KINDS, ChallengeFollower, DigestItem, NotificationSent

# What each kind is, for the settings page and the unsubscribe page.
KIND_LABELS = {
    "voting_opens": _l("Voting opens in a challenge I follow or sent an idea to"),
    "voting_closes": _l(
        "Voting closes in 24 hours in a challenge I follow, while I have votes left"
    ),
    "results": _l("The results of a challenge I follow or asked for are published"),
    "answers": _l("The city answers an idea I wrote, follow or voted for"),
    "comments": _l("Someone comments on one of my ideas"),
    "projects": _l("News from a lab project grown from an idea I voted for or follow"),
}
# The weekly digest's link switches off every kind at once: it carries all of them.
ALL_KINDS = "all"
UNSUBSCRIBE_PURPOSE = "notify-unsubscribe"
DIGEST_EVERY = timedelta(days=7)
CLOSES_SOON = timedelta(hours=24)


def wants(user: User, kind: str) -> bool:
    """Whether ``user`` still wants mails of ``kind`` (settings page, unsubscribe links)."""
    return kind in KINDS and bool(getattr(user, f"notify_{kind}"))


def unsubscribe_url(user: User, kind: str) -> str:
    """A link that switches mails of ``kind`` off for ``user`` without logging in."""
    return external_url(
        "notifications.unsubscribe", token=make_token(UNSUBSCRIBE_PURPOSE, user.id, k=kind)
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
        locale = mail_locale(user)
        values = dict(context(user, locale), name=user.pseudonym)
        if user.digest_weekly:
            db.session.add(
                DigestItem(user_id=user.id, kind=kind, template=template, context=values)
            )
        else:
            values["unsubscribe_url"] = unsubscribe_url(user, kind)
            # The route takes RFC 8058's one-click POST: consult.mail announces it.
            values["unsubscribe_one_click"] = True
            jobs.enqueue(jobs.send_email, user.email, template, locale, values)
        told += 1
    return told


# --- following a challenge ----------------------------------------------------------------


def is_following(user, challenge: Challenge, known: tuple | None = None) -> bool:
    """Whether ``user`` follows ``challenge`` (to offer Follow or Unfollow); ``known``: the
    value of ``following_column`` when the page fetched it already."""
    if not (user and user.is_authenticated):
        return False
    if known is None:
        values = {"v_challenge_id": challenge.id, "v_user_id": user.id}
        known = (db.session.scalar(_following(), values),)
    return bool(known[0])


def following_column(challenge_id, user_id) -> list:
    """Whether ``user_id`` follows ``challenge_id``: a column of a query about both."""
    return [
        exists().where(
            ChallengeFollower.challenge_id == challenge_id, ChallengeFollower.user_id == user_id
        )
    ]


@cache
def _following():
    """Built once, bound per request."""
    return select(
        *following_column(
            bindparam("v_challenge_id", type_=Integer), bindparam("v_user_id", type_=Integer)
        )
    )


def follow_challenge(user, challenge: Challenge) -> None:
    """Follow a public challenge: mails when voting opens, a day before it closes, and
    the results (the results mail request is made too, while it can still be made).

    Idempotent: the primary keys, not a check in Python, keep each wish to one row.
    Verified citizens only (403); a challenge not yet public is a 404.
    """
    from ..results.models import ResultsSubscription
    from ..results.services import results_mail_state

    require_participant(user)
    if not challenge.is_public():
        raise UserError(_("This challenge does not exist."), status=404)
    insert = sql_dialect().insert
    db.session.execute(
        insert(ChallengeFollower)
        .values(challenge_id=challenge.id, user_id=user.id, created_at=now())
        .on_conflict_do_nothing()
    )
    possible, _asked = results_mail_state(user, challenge)
    if possible:
        db.session.execute(
            insert(ResultsSubscription)
            .values(challenge_id=challenge.id, user_id=user.id, created_at=now())
            .on_conflict_do_nothing()
        )
    db.session.commit()


def unfollow_challenge(user, challenge: Challenge) -> None:
    """Stop following: no more mails about this challenge, the results mail included.

    Idempotent; no error when the person did not follow it.
    """
    from ..results.models import ResultsSubscription

    for model in (ChallengeFollower, ResultsSubscription):
        db.session.execute(
            delete(model).where(model.challenge_id == challenge.id, model.user_id == user.id)
        )
    db.session.commit()


def followed_challenges(user) -> list[Challenge]:
    """The challenges ``user`` follows, most recently followed first."""
    return list(
        db.session.scalars(
            select(Challenge)
            .join(ChallengeFollower, ChallengeFollower.challenge_id == Challenge.id)
            .where(ChallengeFollower.user_id == user.id)
            .order_by(ChallengeFollower.created_at.desc(), Challenge.id.desc())
        )
    )


# --- settings and unsubscribe links -------------------------------------------------------


def save_settings(user: User, wanted: dict[str, bool], digest: bool) -> None:
    """Switch each kind of notification mail on or off, and the weekly digest.

    ``wanted`` maps kinds to on/off; kinds it leaves out stay as they are. Choosing the
    digest starts its week now (the first digest comes after seven days, not at once);
    leaving it sends what it held with the next due run.
    """
    for kind, on in wanted.items():
        if kind not in KINDS:
            raise UserError(_("Unknown kind of mail."), status=400)
        setattr(user, f"notify_{kind}", bool(on))
    if digest and not user.digest_weekly:
        user.digest_sent_at = now()
    user.digest_weekly = bool(digest)
    db.session.commit()


@dataclass(frozen=True)
class UnsubscribeLink:
    user: User
    kind: str  # one of KINDS, or ALL_KINDS

    @property
    def kinds(self) -> tuple[str, ...]:
        return KINDS if self.kind == ALL_KINDS else (self.kind,)

    @property
    def already_off(self) -> bool:
        return not any(wants(self.user, kind) for kind in self.kinds)


def read_unsubscribe_link(token: str) -> UnsubscribeLink:
    """The person and kind an unsubscribe link was made for; UserError (400) if forged.

    The signature is the whole authentication: the link never acts on whoever happens to
    be logged in, only on the person it was made for.
    """
    invalid = _("This link is not valid. Please copy it completely from the e-mail.")
    try:
        payload = read_token(UNSUBSCRIBE_PURPOSE, token, max_age=None)
    except TokenError as error:
        raise UserError(error.message, status=400) from None
    kind = payload.get("k")
    if not isinstance(kind, str) or kind not in (*KINDS, ALL_KINDS):
        raise UserError(invalid, status=400)
    user = db.session.get(User, payload["u"])
    if user is None or not user.is_active:
        raise UserError(invalid, status=400)
    return UnsubscribeLink(user, kind)


def unsubscribe(token: str) -> UnsubscribeLink:
    """Use an unsubscribe link: mails of its kind are off for its person.

    Lasting and idempotent, like the older links of comments and projects: mail programs
    send RFC 8058 one-click requests more than once, and a second use changes nothing.
    """
    link = read_unsubscribe_link(token)
    for kind in link.kinds:
        setattr(link.user, f"notify_{kind}", False)
    db.session.commit()
    return link


# --- mails that fall due with the clock (the worker's due tasks) --------------------------


def _challenge_context(challenge_id: int):
    def context(user: User, locale: str) -> dict:
        from ..challenges.timeline import format_when

        challenge = db.session.get(Challenge, challenge_id)
        title, _lang = challenge.text("title", locale)
        with force_locale(locale):
            closes_at = format_when(challenge.voting_closes_at)
        return {
            "challenge_title": title,
            "closes_at": closes_at,
            "url": external_url("challenges.show", challenge_id=challenge_id),
        }

    return context


def _in_time(mailed_column, moment: datetime, *conditions) -> tuple:
    """Not mailed yet, and voting of a public challenge runs at ``moment``."""
    return (
        mailed_column.is_(None),
        Challenge.submission_opens_at <= moment,
        Challenge.voting_opens_at <= moment,
        Challenge.voting_closes_at > moment,
        or_(Challenge.archived_at.is_(None), Challenge.archived_at > moment),
        *conditions,
    )


def _claimed_challenges(mailed_column, moment: datetime, *conditions):
    """Yield each due challenge's id after claiming it in the current transaction.

    The claim is a conditional UPDATE of ``mailed_column`` that repeats the checks: of two
    runs at once, one updates the row and the other finds it mailed (and skips it). The
    caller commits the claim together with the mails it queues.
    """
    due = list(
        db.session.scalars(
            select(Challenge.id)
            .where(*_in_time(mailed_column, moment, *conditions))
            .order_by(Challenge.voting_opens_at, Challenge.id)
        )
    )
    db.session.rollback()
    for challenge_id in due:
        claimed = db.session.execute(
            update(Challenge)
            .where(Challenge.id == challenge_id, *_in_time(mailed_column, moment, *conditions))
            .values({mailed_column.key: moment})
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed:
            yield challenge_id
        else:
            db.session.rollback()


def mail_voting_opens() -> int:
    """Tell followers and authors of published ideas that voting has opened.

    Once per challenge, while voting is open (never late, after it closed): the challenge
    is claimed by a conditional UPDATE of ``voting_opens_mailed_at`` in the transaction
    that queues the mails, so two workers never both mail. Returns how many people were
    told (mail or digest item).
    """
    from ..ideas.models import Idea

    told = 0
    for challenge_id in _claimed_challenges(Challenge.voting_opens_mailed_at, now()):
        people = db.session.scalars(
            union(
                select(ChallengeFollower.user_id).where(
                    ChallengeFollower.challenge_id == challenge_id
                ),
                select(Idea.author_id).where(
                    Idea.challenge_id == challenge_id,
                    Idea.status == "published",
                    Idea.author_id.is_not(None),
                ),
            )
        ).all()
        told += notify_people(
            "voting_opens", challenge_id, people, "voting_opens",
            _challenge_context(challenge_id),
        )  # fmt: skip
        db.session.commit()
    return told


def _followers_with_votes_left(challenge_id: int) -> list[int]:
    """Followers who can still vote: under the budget, or (budget 0: one vote per idea)
    with a published idea they have not voted for yet."""
    from ..ideas.models import Idea
    from ..voting.models import Ballot, Vote

    challenge = db.session.get(Challenge, challenge_id)
    follower = ChallengeFollower.user_id
    if challenge.vote_budget > 0:
        used = (
            select(Ballot.used)
            .where(Ballot.challenge_id == challenge_id, Ballot.user_id == follower)
            .scalar_subquery()
        )
        has_left = func.coalesce(used, 0) < challenge.vote_budget
    else:
        has_left = exists().where(
            Idea.challenge_id == challenge_id,
            Idea.status == "published",
            # Two levels down: auto-correlation would miss the followers table.
            ~exists()
            .where(Vote.idea_id == Idea.id, Vote.user_id == follower)
            .correlate(Idea, ChallengeFollower),
        )
    return list(
        db.session.scalars(
            select(follower).where(ChallengeFollower.challenge_id == challenge_id, has_left)
        )
    )


def mail_voting_closes_soon() -> int:
    """Remind followers with votes left that voting closes within 24 hours.

    Once per challenge, from 24 hours before the close until the close (never after):
    claimed like ``mail_voting_opens`` with ``voting_closes_mailed_at``.
    """
    moment = now()
    told = 0
    for challenge_id in _claimed_challenges(
        Challenge.voting_closes_mailed_at,
        moment,
        Challenge.voting_closes_at <= moment + CLOSES_SOON,
    ):
        told += notify_people(
            "voting_closes", challenge_id, _followers_with_votes_left(challenge_id),
            "voting_closes_soon", _challenge_context(challenge_id),
        )  # fmt: skip
        db.session.commit()
    return told


def _digest_entry(item: DigestItem, locale: str) -> dict:
    """One line of the digest: what happened (the single mail's subject) and the link."""
    from ..mail import SUBJECTS

    context = item.context or {}
    with force_locale(locale):
        heading = str(SUBJECTS[item.template]) if item.template in SUBJECTS else ""
        heading = heading or str(KIND_LABELS.get(item.kind, ""))
    about = next(
        (context[key] for key in ("challenge_title", "idea_title", "title") if context.get(key)),
        "",
    )
    return {"heading": heading, "about": str(about), "url": str(context.get("url") or "")}


def send_weekly_digests() -> int:
    """Send each person's held notifications as one mail, at most once in seven days.

    Due for people with the digest whose last one is seven days old, and at once for
    people who left the digest with items still held. A person is claimed by a
    conditional UPDATE of ``digest_sent_at``, and the items by ``UPDATE … WHERE sent_at
    IS NULL RETURNING``, in the transaction that queues the mail: two workers never send
    the same item twice. Returns how many digests were queued.
    """
    moment = now()
    week_ago = moment - DIGEST_EVERY
    due_user = or_(
        User.digest_weekly.is_(False),
        User.digest_sent_at.is_(None),
        User.digest_sent_at <= week_ago,
    )
    candidates = list(
        db.session.scalars(
            select(User.id)
            .where(
                exists().where(DigestItem.user_id == User.id, DigestItem.sent_at.is_(None)),
                User.deleted_at.is_(None),
                User.email.is_not(None),
                due_user,
            )
            .order_by(User.id)
        )
    )
    db.session.rollback()
    sent = 0
    for user_id in candidates:
        claimed = db.session.execute(
            update(User)
            .where(User.id == user_id, due_user)
            .values(digest_sent_at=moment)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not claimed:
            db.session.rollback()
            continue
        item_ids = list(
            db.session.scalars(
                update(DigestItem)
                .where(DigestItem.user_id == user_id, DigestItem.sent_at.is_(None))
                .values(sent_at=moment)
                .returning(DigestItem.id)
                .execution_options(synchronize_session=False)
            )
        )
        if not item_ids:
            db.session.rollback()
            continue
        user = db.session.get(User, user_id)
        items = db.session.scalars(
            select(DigestItem).where(DigestItem.id.in_(item_ids)).order_by(DigestItem.id)
        )
        locale = mail_locale(user)
        jobs.enqueue(
            jobs.send_email, user.email, "weekly_digest", locale,
            {"name": user.pseudonym,
             "items": [_digest_entry(item, locale) for item in items],
             "settings_url": external_url("notifications.settings"),
             "unsubscribe_url": unsubscribe_url(user, ALL_KINDS),
             "unsubscribe_one_click": True},
        )  # fmt: skip
        db.session.commit()
        sent += 1
    return sent


def send_due_notifications() -> dict[str, int]:
    """The worker's due task: voting opens, voting closes soon, then the weekly digests.

    Each part claims its rows first, so it is safe to run twice and on several workers.
    """
    return {
        "voting_opens": mail_voting_opens(),
        "voting_closes": mail_voting_closes_soon(),
        "digests": send_weekly_digests(),
    }


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
