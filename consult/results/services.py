"""Use cases of the results announcement: the press office writes it, sets the embargo and
publishes; the public results page; the results mail to citizens who asked for it.

Whether the results are public is never stored as a flag: ``visibility.public_announcement``
reads the clock. Only the mail needs a job (``mail_due_results``), and it marks what it
has mailed with a conditional UPDATE, so that two runs never mail anyone twice.
"""

from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

from sqlalchemy import (
    Integer,
    bindparam,
    delete,
    exists,
    func,
    literal_column,
    or_,
    select,
    union,
    update,
)
from sqlalchemy.exc import IntegrityError

from .. import jobs
from ..answers.services import answer_counts
from ..audit.services import record_action
from ..challenges.models import Challenge
from ..clock import now
from ..districts import District
from ..errors import UserError
from ..extensions import db
from ..figures import hour_bucket, per_berlin_day
from ..i18n import _, _l, force_locale
from ..ideas.models import Comment, Idea
from ..jury.freezing import RankingView, frozen_ranking, get_snapshot
from ..jury.models import ResultSnapshot
from ..permissions import require_participant
from ..projects.models import LabProject
from ..text import checked_text, render_markdown
from ..urls import external_url
from ..voting.models import Vote
from ..voting.services import event_votes_by_idea, paper_votes_by_idea
from .models import Announcement, AnnouncementHighlight, ResultsSubscription

TITLE_MAX, LEAD_MAX, BODY_MAX = 200, 1_000, 20_000
TEXT_FIELDS = ("title_de", "title_en", "lead_de", "lead_en", "body_de", "body_en")
PRESS_ROLES = ("press", "staff")

STATE_LABELS = {
    "none": _l("No announcement yet"),
    "draft": _l("Draft"),
    "scheduled": _l("Scheduled"),
    "public": _l("Public"),
}


# --- checks -------------------------------------------------------------------------------


def _require_press(actor) -> None:
    # The views check the role too; this keeps every other caller (CLI, jobs) honest.
    if not (
        actor is not None
        and actor.is_authenticated
        and any(actor.has_role(role) for role in PRESS_ROLES)
    ):
        raise UserError(_("Only the press office can manage results announcements."), status=403)


def _require_frozen(challenge: Challenge) -> None:
    if not challenge.is_frozen:
        raise UserError(
            _("The results of this challenge are not frozen yet, so they cannot be announced."),
            status=409,
        )


def _check_text(value, name: str, limit: int, line: bool) -> str:
    return checked_text(value, name, limit, line=line)


def _texts(data: dict) -> dict:
    limits = {"title": TITLE_MAX, "lead": LEAD_MAX, "body": BODY_MAX}
    return {
        name: _check_text(data.get(name), name, limits[name[:-3]], line=name.startswith("title"))
        for name in TEXT_FIELDS
    }


def _check_embargo(value, required: bool) -> datetime | None:
    if value is None:
        if required:
            raise UserError(
                _("Please set the embargo: the date and time the results become public."),
                field="embargo_at",
            )
        return None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise UserError(
            _("Please enter a date and time, for example 2026-05-01 18:00."), field="embargo_at"
        )
    if value <= now():
        raise UserError(
            _("The embargo must be in the future: choose the moment the results become public."),
            field="embargo_at",
        )
    return value


def _check_highlights(challenge: Challenge, idea_ids, required: bool) -> list[int]:
    """The chosen winners in the order of the frozen ranking; unknown ids are refused."""
    wanted = []
    for idea_id in idea_ids or []:
        if idea_id not in wanted:
            wanted.append(idea_id)
    ranked = [row.idea_id for row in ranked_rows(challenge)]
    if any(idea_id not in ranked for idea_id in wanted):
        raise UserError(_("Please choose the winners among the ranked ideas."), field="highlights")
    if required and not wanted:
        raise UserError(_("Please choose at least one winner to highlight."), field="highlights")
    return [idea_id for idea_id in ranked if idea_id in wanted]


# --- reading ------------------------------------------------------------------------------


def get_announcement(challenge: Challenge) -> Announcement | None:
    """The challenge's announcement in whatever state, or None (press pages only)."""
    return db.session.scalar(select(Announcement).where(Announcement.challenge_id == challenge.id))


def announcement_state(announcement: Announcement | None, at: datetime | None = None) -> str:
    """none, draft, scheduled (published, before the embargo) or public."""
    if announcement is None:
        return "none"
    if announcement.published_at is None:
        return "draft"
    return "public" if announcement.is_public(at) else "scheduled"


@dataclass(frozen=True)
class PressEntry:
    challenge: Challenge
    announcement: Announcement | None
    state: str


def press_overview() -> list[PressEntry]:
    """Every frozen challenge with its announcement and state, most recently frozen first."""
    rows = db.session.execute(
        select(Challenge, Announcement)
        .outerjoin(Announcement, Announcement.challenge_id == Challenge.id)
        .where(Challenge.results_frozen_at.is_not(None))
        .order_by(Challenge.results_frozen_at.desc(), Challenge.id.desc())
    ).all()
    return [PressEntry(c, a, announcement_state(a)) for c, a in rows]


def ranked_rows(challenge: Challenge) -> list:
    """The rows of the frozen ranking (rank order), or [] while the challenge is not frozen."""
    snapshot = get_snapshot(challenge)
    return frozen_ranking(snapshot).rows if snapshot is not None else []


def highlight_ids(announcement: Announcement | None) -> list[int]:
    """The highlighted ideas' ids, in their order."""
    if announcement is None or announcement.id is None:
        return []
    return list(
        db.session.scalars(
            select(AnnouncementHighlight.idea_id)
            .where(AnnouncementHighlight.announcement_id == announcement.id)
            .order_by(AnnouncementHighlight.position)
        )
    )


# --- the press office's use cases ---------------------------------------------------------


def _apply(actor, challenge: Challenge, data: dict, publish: bool) -> Announcement:
    """Check everything first, then write: a refused request leaves nothing behind."""
    _require_press(actor)
    _require_frozen(challenge)
    texts = _texts(data)
    announcement = get_announcement(challenge)
    published = announcement is not None and announcement.published_at is not None
    if publish and published:
        raise UserError(_("This announcement is already published."), status=409)
    if publish:
        for name in ("title_de", "title_en"):
            if not texts[name]:
                raise UserError(_("Please fill in this field."), field=name)
    embargo = data.get("embargo_at")
    if published:
        # The public and the press were told this moment; moving it silently would break
        # the embargo promise. Before it passes, withdrawing allows a new date.
        if embargo is not None and embargo != announcement.embargo_at:
            raise UserError(
                _(
                    "The embargo of a published announcement cannot be changed. "
                    "Withdraw it first (possible until the embargo)."
                ),
                field="embargo_at",
                status=409,
            )
        embargo = announcement.embargo_at
    else:
        embargo = _check_embargo(embargo, required=publish)
    chosen = _check_highlights(challenge, data.get("highlights"), required=publish)

    if announcement is None:
        announcement = Announcement(challenge_id=challenge.id, created_by_id=actor.id)
        db.session.add(announcement)
    for name, value in texts.items():
        setattr(announcement, name, value)
    announcement.body_html_de = render_markdown(texts["body_de"]) if texts["body_de"] else ""
    announcement.body_html_en = render_markdown(texts["body_en"]) if texts["body_en"] else ""
    announcement.embargo_at = embargo
    db.session.flush()
    db.session.execute(
        delete(AnnouncementHighlight).where(
            AnnouncementHighlight.announcement_id == announcement.id
        )
    )
    for position, idea_id in enumerate(chosen):
        db.session.add(
            AnnouncementHighlight(
                announcement_id=announcement.id, idea_id=idea_id, position=position
            )
        )
    if publish:
        announcement.published_at = now()
        announcement.published_by_id = actor.id
        # Drawn ahead of the embargo, so that the charts are there the moment it passes.
        jobs.enqueue(jobs.render_result_charts, challenge.id)
        record_action(
            actor, "announcement.publish", "challenge", challenge.id,
            embargo_at=embargo.isoformat(), highlights=chosen,
        )  # fmt: skip
    else:
        record_action(
            actor, "announcement.save", "challenge", challenge.id,
            published=published, highlights=chosen,
        )  # fmt: skip
    try:
        db.session.commit()
    except IntegrityError as error:
        # Two first saves at once: the unique challenge id lets one win; the other retries.
        db.session.rollback()
        raise UserError(
            _(
                "Someone else saved this announcement at the same moment. Please check it and save again."
            ),
            status=409,
        ) from error
    return announcement


def save_announcement(actor, challenge: Challenge, data: dict) -> Announcement:
    """Save the texts, highlights and (until published) the embargo; audited.

    ``data``: the six texts, ``highlights`` (idea ids) and ``embargo_at`` (aware UTC or
    None). A draft may be incomplete; a published announcement keeps its embargo, but its
    texts can still be corrected (each save is in the audit log).
    """
    return _apply(actor, challenge, data, publish=False)


def publish_announcement(actor, challenge: Challenge, data: dict) -> Announcement:
    """Save and publish: from ``embargo_at`` on the results are public, with no job to run.

    Needs a frozen challenge (409), both titles, at least one highlighted winner and an
    embargo in the future (400, tied to the field).
    """
    return _apply(actor, challenge, data, publish=True)


def withdraw_announcement(actor, challenge: Challenge) -> Announcement:
    """Take a published announcement back to draft, only before its embargo.

    The conditional UPDATE compares with the embargo in the database, so a withdrawal
    that arrives after the embargo changes nothing: once public, results stay public.
    """
    _require_press(actor)
    announcement = get_announcement(challenge)
    if announcement is None or announcement.published_at is None:
        raise UserError(_("This announcement is not published."), status=409)
    moment = now()
    withdrawn = db.session.execute(
        update(Announcement)
        .where(
            Announcement.id == announcement.id,
            Announcement.published_at.is_not(None),
            Announcement.embargo_at > moment,
        )
        .values(published_at=None, published_by_id=None, updated_at=moment)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not withdrawn:
        db.session.rollback()
        raise UserError(
            _(
                "The embargo has passed: the results are public and cannot be withdrawn. "
                "You can still correct the texts."
            ),
            status=409,
        )
    record_action(actor, "announcement.withdraw", "challenge", challenge.id)
    db.session.commit()
    db.session.refresh(announcement)
    return announcement


# --- the public results page --------------------------------------------------------------


@dataclass(frozen=True)
class Highlight:
    rank: int
    idea_id: int
    title: str
    score: str
    project: LabProject | None


@dataclass
class ResultsPage:
    """Everything the results page shows (public page and press preview alike)."""

    challenge: Challenge
    announcement: Announcement
    snapshot: ResultSnapshot
    view: RankingView
    highlights: list[Highlight]
    projects: list[LabProject]
    figures: "ParticipationFigures"
    # (ideas with an official answer, published ideas): see consult.answers.
    answers: tuple[int, int] = (0, 0)


def results_page(challenge: Challenge, announcement: Announcement, locale: str) -> ResultsPage:
    """The frozen ranking, highlights, lab projects and figures of a frozen challenge."""
    snapshot = get_snapshot(challenge)
    view = frozen_ranking(snapshot)
    projects = list(
        db.session.scalars(
            select(LabProject)
            .where(LabProject.challenge_id == challenge.id)
            .order_by(LabProject.created_at, LabProject.id)
        )
    )
    by_idea = {p.idea_id: p for p in projects}
    rows = {row.idea_id: row for row in view.rows}
    highlights = [
        Highlight(rows[i].rank, i, rows[i].title, rows[i].score, by_idea.get(i))
        for i in highlight_ids(announcement)
        if i in rows
    ]
    return ResultsPage(
        challenge, announcement, snapshot, view, highlights, projects,
        participation_figures(challenge, locale), answer_counts(challenge.id),
    )  # fmt: skip


# --- participation figures ----------------------------------------------------------------


@dataclass(frozen=True)
class FigureRow:
    name: str
    lang: str | None
    ideas: int
    votes: int


@dataclass
class ParticipationFigures:
    """Counts for the results page; every list is ready to show as a table."""

    citizens: int
    ideas: int
    votes: int
    online_votes: int
    paper_votes: int
    comments: int
    by_district: list[FigureRow] = field(default_factory=list)
    by_category: list[FigureRow] = field(default_factory=list)
    by_day: list[tuple] = field(default_factory=list)  # (Berlin date, online votes)
    event_votes: int = 0  # counted votes from live events (in ``votes``, not in paper_votes)


def participation_figures(challenge: Challenge, locale: str = "de") -> ParticipationFigures:
    """Who took part and how, aggregated in SQL (a handful of queries, whatever the size).

    Ideas and votes count published ideas; votes are online votes plus paper and event
    votes when the challenge counts them. Citizens are distinct accounts that submitted an idea,
    voted or commented. Votes over time are online votes per Berlin day (paper votes
    carry no date of their own).
    """
    published = select(Idea.id).where(Idea.challenge_id == challenge.id, Idea.status == "published")
    ideas_by = db.session.execute(
        select(Idea.category_id, Idea.district_id, func.count())
        .where(Idea.challenge_id == challenge.id, Idea.status == "published")
        .group_by(Idea.category_id, Idea.district_id)
    ).all()
    online_by = db.session.execute(
        select(Idea.category_id, Idea.district_id, func.count(Vote.id))
        .join(Idea, Idea.id == Vote.idea_id)
        .where(Vote.challenge_id == challenge.id, Idea.status == "published")
        .group_by(Idea.category_id, Idea.district_id)
    ).all()
    paper_by = []
    if challenge.count_paper_votes:
        # Paper and event votes in one query: the challenge counts offline votes or neither.
        # Both subqueries have one row per idea, so the joins never multiply.
        paper = paper_votes_by_idea(challenge.id)
        event = event_votes_by_idea(challenge.id)
        paper_by = db.session.execute(
            select(
                Idea.category_id,
                Idea.district_id,
                func.sum(func.coalesce(paper.c.n, 0) + func.coalesce(event.c.n, 0)),
                func.sum(func.coalesce(event.c.n, 0)),
            )
            .outerjoin(paper, paper.c.idea_id == Idea.id)
            .outerjoin(event, event.c.idea_id == Idea.id)
            .where(
                Idea.challenge_id == challenge.id,
                Idea.status == "published",
                or_(paper.c.n.is_not(None), event.c.n.is_not(None)),
            )
            .group_by(Idea.category_id, Idea.district_id)
        ).all()
    comments = db.session.scalar(
        select(func.count(Comment.id)).where(
            Comment.idea_id.in_(published), Comment.status == "published"
        )
    )
    people = union(
        select(Idea.author_id.label("uid")).where(
            Idea.challenge_id == challenge.id,
            Idea.submitted_at.is_not(None),
            Idea.author_id.is_not(None),
        ),
        select(Vote.user_id).where(Vote.challenge_id == challenge.id),
        select(Comment.author_id)
        .join(Idea, Idea.id == Comment.idea_id)
        .where(Idea.challenge_id == challenge.id, Comment.author_id.is_not(None)),
    ).subquery()
    citizens = db.session.scalar(select(func.count()).select_from(people))
    bucket = hour_bucket(Vote.created_at).label("bucket")
    hourly = db.session.execute(
        select(bucket, func.count())
        .join(Idea, Idea.id == Vote.idea_id)
        .where(Vote.challenge_id == challenge.id, Idea.status == "published")
        .group_by(literal_column("bucket"))
    ).all()

    def totals(rows, index: int) -> dict:
        result: dict = {}
        for row in rows:
            result[row[index]] = result.get(row[index], 0) + int(row[2] or 0)
        return result

    ideas_cat, ideas_dis = totals(ideas_by, 0), totals(ideas_by, 1)
    online_cat, online_dis = totals(online_by, 0), totals(online_by, 1)
    paper_cat, paper_dis = totals(paper_by, 0), totals(paper_by, 1)  # paper plus event votes
    event_votes = sum(int(row[3] or 0) for row in paper_by)

    def votes(key, online: dict, paper: dict) -> int:
        return online.get(key, 0) + paper.get(key, 0)

    by_category = []
    for category in challenge.categories:
        name, lang = category.name(locale)
        by_category.append(
            FigureRow(
                name, lang, ideas_cat.get(category.id, 0),
                votes(category.id, online_cat, paper_cat),
            )
        )  # fmt: skip
    district_ids = [key for key in set(ideas_dis) | set(online_dis) | set(paper_dis) if key]
    by_district = []
    if district_ids:
        for district in db.session.scalars(
            select(District)
            .where(District.id.in_(district_ids))
            .order_by(District.position, District.name)
        ):
            by_district.append(
                FigureRow(
                    district.name, None, ideas_dis.get(district.id, 0),
                    votes(district.id, online_dis, paper_dis),
                )
            )  # fmt: skip
    unplaced = ideas_dis.get(None, 0), votes(None, online_dis, paper_dis)
    uncategorised = ideas_cat.get(None, 0), votes(None, online_cat, paper_cat)
    # In the figures' language, which a chart job chooses, not the request's.
    with force_locale(locale):
        if any(unplaced):
            by_district.append(FigureRow(_("No district given"), None, *unplaced))
        if any(uncategorised):
            by_category.append(FigureRow(_("No category"), None, *uncategorised))

    return ParticipationFigures(
        citizens=int(citizens or 0),
        ideas=sum(ideas_cat.values()),
        votes=sum(online_cat.values()) + sum(paper_cat.values()),
        online_votes=sum(online_cat.values()),
        paper_votes=sum(paper_cat.values()) - event_votes,
        event_votes=event_votes,
        comments=int(comments or 0),
        by_district=by_district,
        by_category=by_category,
        by_day=per_berlin_day(hourly),
    )


# --- asking for the results by mail -------------------------------------------------------


def results_mail_state(user, challenge: Challenge, known: tuple | None = None) -> tuple[bool, bool]:
    """(can ask for the results mail, has asked) for ``user``, in one query.

    Asking makes sense while the challenge is shown and the mail has not gone out yet.
    ``known``: the values of ``mail_state_columns`` when the page fetched them already.
    """
    if not (challenge.is_public() and user and user.is_authenticated):
        return False, False
    if known is None:
        known = db.session.execute(
            _mail_state(), {"v_challenge_id": challenge.id, "v_user_id": user.id}
        ).one()
    mailed, asked = known
    return mailed is None, bool(asked)


def mail_state_columns(challenge_id, user_id) -> list:
    """When the results were mailed (None: not yet) and whether the user asked for them:
    two columns of a query about ``challenge_id`` and ``user_id`` (bound parameters)."""
    return [
        select(Announcement.results_mailed_at)
        .where(Announcement.challenge_id == challenge_id)
        .scalar_subquery(),
        exists().where(
            ResultsSubscription.challenge_id == challenge_id,
            ResultsSubscription.user_id == user_id,
        ),
    ]


@cache
def _mail_state():
    """Built once, bound per request."""
    return select(
        *mail_state_columns(
            bindparam("v_challenge_id", type_=Integer), bindparam("v_user_id", type_=Integer)
        )
    )


def subscribe_to_results(user, challenge: Challenge) -> None:
    """Ask for one mail when the results are public (idempotent; verified citizens only)."""
    require_participant(user)
    possible, _asked = results_mail_state(user, challenge)
    if not possible:
        raise UserError(_("The results of this challenge have already been mailed."), status=409)
    db.session.add(ResultsSubscription(challenge_id=challenge.id, user_id=user.id))
    try:
        db.session.commit()
    except IntegrityError:
        # Asked before (another tab): the wish stands, nothing to add.
        db.session.rollback()


def unsubscribe_from_results(user, challenge: Challenge) -> None:
    """No results mail for this challenge after all (idempotent)."""
    db.session.execute(
        delete(ResultsSubscription).where(
            ResultsSubscription.challenge_id == challenge.id,
            ResultsSubscription.user_id == user.id,
        )
    )
    db.session.commit()


def mail_due_results() -> int:
    """Mail the results of every announcement that is public now and not mailed yet.

    Run by the worker's periodic loop and ``flask results mail-due``; returns how many mails
    were queued. Each announcement is claimed by a conditional UPDATE of
    ``results_mailed_at``, in the same transaction that records one mail job per
    subscriber: two runs at once never both mail, and a crash before the commit leaves it
    for the next run. Before the embargo it mails nobody. The subscriptions go afterwards:
    they were only kept for this mail.
    """
    moment = now()
    due = list(
        db.session.execute(
            select(Announcement.id, Announcement.challenge_id)
            .join(Challenge, Challenge.id == Announcement.challenge_id)
            .where(
                Announcement.published_at.is_not(None),
                Announcement.embargo_at <= moment,
                Announcement.results_mailed_at.is_(None),
                Challenge.results_frozen_at.is_not(None),
            )
            .order_by(Announcement.embargo_at, Announcement.id)
        ).all()
    )
    db.session.rollback()
    queued = 0
    for announcement_id, challenge_id in due:
        claimed = db.session.execute(
            update(Announcement)
            .where(
                Announcement.id == announcement_id,
                Announcement.results_mailed_at.is_(None),
                Announcement.published_at.is_not(None),
                Announcement.embargo_at <= moment,
            )
            .values(results_mailed_at=moment)
            .execution_options(synchronize_session=False)
        ).rowcount
        if not claimed:
            db.session.rollback()
            continue
        queued += _queue_results_mails(announcement_id, challenge_id)
        db.session.commit()
    return queued


def _queue_results_mails(announcement_id: int, challenge_id: int) -> int:
    """Record one mail per subscriber (in the caller's transaction) and drop the requests.

    Through ``notify_people``: a person who switched results mails off gets none, one who
    chose the weekly digest finds it there, and each mail has its unsubscribe link.
    """
    from ..notifications.services import notify_people

    announcement = db.session.get(Announcement, announcement_id)
    challenge = db.session.get(Challenge, challenge_id)
    subscribers = db.session.scalars(
        select(ResultsSubscription.user_id).where(ResultsSubscription.challenge_id == challenge_id)
    ).all()
    url = external_url("results.show", challenge_id=challenge_id)

    def context(user, locale: str) -> dict:
        title, _lang = announcement.text("title", locale)
        lead, _lang = announcement.text("lead", locale)
        challenge_title, _lang = challenge.text("title", locale)
        return {"title": title, "lead": lead, "challenge_title": challenge_title, "url": url}

    told = notify_people("results", challenge_id, subscribers, "results_published", context)
    db.session.execute(
        delete(ResultsSubscription).where(ResultsSubscription.challenge_id == challenge_id)
    )
    return told


# --- a person's own data (GDPR export and deletion) ---------------------------------------


def export_own_subscriptions(user) -> dict:
    """The challenges whose results the person asked to be mailed."""
    rows = db.session.scalars(
        select(ResultsSubscription)
        .where(ResultsSubscription.user_id == user.id)
        .order_by(ResultsSubscription.created_at)
    )
    return {
        "results_mail_requests": [
            {"challenge_id": s.challenge_id, "requested_at": s.created_at.isoformat()} for s in rows
        ]
    }


def forget_subscriptions(user) -> None:
    """A deleted account gets no mail: its requests go with it."""
    db.session.execute(delete(ResultsSubscription).where(ResultsSubscription.user_id == user.id))


def _register_account_hooks() -> None:
    from ..accounts import services as accounts

    if export_own_subscriptions not in accounts.DATA_EXPORTERS:
        accounts.DATA_EXPORTERS.append(export_own_subscriptions)
        accounts.DELETION_HOOKS.append(forget_subscriptions)


_register_account_hooks()
