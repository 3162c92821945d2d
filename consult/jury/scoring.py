"""Use cases of scoring: jurors score their assigned ideas and submit; staff watch and remind.

Secrecy is the point of most rules here. Before a juror submits, nothing they can reach
shows another juror's values; staff see who has scored what, but no value until every
seated juror has submitted; the audit log names the idea, never a value or a note.

Every write of a juror locks that juror's ``JurorAssignment`` row first, so a save and a
submit arriving together are serialised: no score can change after ``submitted_at``.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fractions import Fraction

from sqlalchemy import delete, or_, select, update

from .. import jobs
from ..accounts.models import User
from ..audit.services import record_action
from ..challenges.models import Challenge
from ..challenges.timeline import format_when
from ..clock import now
from ..errors import FieldErrors, UserError
from ..extensions import db
from ..i18n import _, force_locale, mail_locale, ngettext
from ..ideas.models import Idea
from ..text import clean_text, has_invisible_characters
from ..urls import external_url
from ..voting.services import counted_votes_for
from .locks import check_not_frozen
from .models import (
    SCORE_MAX,
    SCORE_MIN,
    JurorAssignment,
    JuryCriterion,
    JuryReview,
    JuryScore,
    ShortlistEntry,
)
from .ranking import juror_score

NOTE_MAX = 2000
# A juror reminded within this time is not mailed again: one click too many must not spam.
REMIND_INTERVAL = timedelta(hours=1)

OPEN, SCORED, CONFLICT = "open", "scored", "conflict"


class ScoreErrors(FieldErrors):
    """Refused scores: ``errors`` maps each form field to its message."""


def score_field(criterion_id: int) -> str:
    """The form field of one criterion's score."""
    return f"score-{criterion_id}"


# --- reading ----------------------------------------------------------------------------


def criteria_of(challenge: Challenge) -> list[JuryCriterion]:
    """The challenge's criteria in the order staff set."""
    return list(
        db.session.scalars(
            select(JuryCriterion)
            .where(JuryCriterion.challenge_id == challenge.id)
            .order_by(JuryCriterion.position, JuryCriterion.id)
        )
    )


def seat_of(user, challenge: Challenge) -> JurorAssignment | None:
    return db.session.get(JurorAssignment, {"challenge_id": challenge.id, "user_id": user.id})


def require_seat(user, challenge: Challenge) -> JurorAssignment:
    """The user's seat on this jury; 403 for anyone else (the juror role alone is not enough)."""
    seat = seat_of(user, challenge) if user.has_role("juror") else None
    if seat is None:
        raise UserError(_("You are not on the jury of this challenge."), status=403)
    return seat


def _reviews_query(challenge_id: int, juror_id: int | None = None):
    """Reviews of shortlisted ideas only: an idea taken off the shortlist is no one's work."""
    query = (
        select(JuryReview)
        .join(
            ShortlistEntry,
            (ShortlistEntry.challenge_id == JuryReview.challenge_id)
            & (ShortlistEntry.idea_id == JuryReview.idea_id),
        )
        .where(JuryReview.challenge_id == challenge_id)
    )
    if juror_id is not None:
        query = query.where(JuryReview.juror_id == juror_id)
    return query


def _score_values(review_ids) -> dict[int, dict[int, int]]:
    """review id -> criterion id -> value, in one query."""
    values: dict[int, dict[int, int]] = {}
    if review_ids:
        rows = db.session.execute(
            select(JuryScore.review_id, JuryScore.criterion_id, JuryScore.value).where(
                JuryScore.review_id.in_(list(review_ids))
            )
        )
        for review_id, criterion_id, value in rows:
            values.setdefault(review_id, {})[criterion_id] = value
    return values


def _state(review: JuryReview, values: dict[int, int], criterion_ids: set[int]) -> str:
    if review.conflict:
        return CONFLICT
    # A criterion added after saving leaves the idea open again: every one must be scored.
    if criterion_ids and criterion_ids <= set(values):
        return SCORED
    return OPEN


def jury_deadline(challenge: Challenge) -> datetime:
    """When jurors must have submitted: the schedule has no jury date of its own, and
    the results (``results_at``) can only be published once every juror has submitted."""
    return challenge.results_at


def has_shortlist(challenge: Challenge) -> bool:
    return (
        db.session.scalar(
            select(ShortlistEntry.idea_id)
            .where(ShortlistEntry.challenge_id == challenge.id)
            .limit(1)
        )
        is not None
    )


def shown_votes(challenge: Challenge, idea: Idea) -> int | None:
    """The idea's counted votes as the public page shows them; None while they are hidden."""
    if challenge.counts_hidden():
        return None
    return counted_votes_for(challenge, [idea.id])[idea.id]


@dataclass(frozen=True)
class WorkLine:
    """One challenge on the juror's list: how far along they are."""

    challenge: Challenge
    assigned: int
    done: int  # scored or declared a conflict
    submitted_at: datetime | None
    # False until staff have drawn up the shortlist: "0 of 0 done" would read as broken.
    shortlist_ready: bool = True

    @property
    def deadline(self) -> datetime:
        return jury_deadline(self.challenge)


def list_jury_work(user) -> list[WorkLine]:
    """The challenges the user is seated on, newest first, with their progress."""
    seats = db.session.execute(
        select(JurorAssignment, Challenge)
        .join(Challenge, Challenge.id == JurorAssignment.challenge_id)
        .where(JurorAssignment.user_id == user.id)
        .order_by(Challenge.voting_closes_at.desc(), Challenge.id.desc())
    ).all()
    lines = []
    for seat, challenge in seats:
        reviews = list(db.session.scalars(_reviews_query(challenge.id, user.id)))
        criterion_ids = {c.id for c in criteria_of(challenge)}
        values = _score_values([r.id for r in reviews])
        done = sum(_state(r, values.get(r.id, {}), criterion_ids) != OPEN for r in reviews)
        ready = bool(reviews) or has_shortlist(challenge)
        lines.append(WorkLine(challenge, len(reviews), done, seat.submitted_at, ready))
    return lines


@dataclass(frozen=True)
class ReviewItem:
    idea: Idea
    review: JuryReview
    state: str
    values: dict[int, int]  # this juror's own scores, criterion id -> value


@dataclass(frozen=True)
class Overview:
    challenge: Challenge
    seat: JurorAssignment
    criteria: list[JuryCriterion]
    items: list[ReviewItem]
    shortlist_ready: bool = True

    @property
    def deadline(self) -> datetime:
        return jury_deadline(self.challenge)

    @property
    def submitted(self) -> bool:
        return self.seat.submitted_at is not None

    @property
    def open_items(self) -> list[ReviewItem]:
        return [item for item in self.items if item.state == OPEN]

    @property
    def can_submit(self) -> bool:
        return (
            not self.submitted
            and not self.challenge.is_frozen
            and bool(self.criteria)
            and bool(self.items)
            and not self.open_items
        )


def juror_overview(user, challenge: Challenge) -> Overview:
    """The juror's own work on one challenge; nothing of any other juror."""
    seat = require_seat(user, challenge)
    criteria = criteria_of(challenge)
    rows = db.session.execute(
        _reviews_query(challenge.id, user.id)
        .add_columns(Idea)
        .join(Idea, Idea.id == JuryReview.idea_id)
        .order_by(Idea.title, Idea.id)
    ).all()
    values = _score_values([review.id for review, _idea in rows])
    criterion_ids = {c.id for c in criteria}
    items = [
        ReviewItem(idea, review, _state(review, values.get(review.id, {}), criterion_ids),
                   values.get(review.id, {}))
        for review, idea in rows
    ]  # fmt: skip
    return Overview(challenge, seat, criteria, items, bool(items) or has_shortlist(challenge))


def next_open_idea(user, challenge: Challenge, after_idea_id: int) -> Idea | None:
    """The idea the juror should score next: the first open one after ``after_idea_id`` in
    the overview's order, else the first open one before it; None when none is open."""
    items = juror_overview(user, challenge).items
    ids = [item.idea.id for item in items]
    start = ids.index(after_idea_id) + 1 if after_idea_id in ids else 0
    for item in items[start:] + items[:start]:
        if item.state == OPEN and item.idea.id != after_idea_id:
            return item.idea
    return None


def juror_review(user, challenge: Challenge, idea_id: int) -> ReviewItem:
    """One assigned idea with the juror's own scores; 404 when it is not theirs to score.

    404, not 403: a juror must not learn which ideas were assigned to others.
    """
    require_seat(user, challenge)
    row = db.session.execute(
        _reviews_query(challenge.id, user.id)
        .add_columns(Idea)
        .join(Idea, Idea.id == JuryReview.idea_id)
        .where(JuryReview.idea_id == idea_id)
    ).first()
    if row is None:
        raise UserError(_("This idea is not assigned to you."), status=404)
    review, idea = row
    values = _score_values([review.id]).get(review.id, {})
    criterion_ids = {c.id for c in criteria_of(challenge)}
    return ReviewItem(idea, review, _state(review, values, criterion_ids), values)


# --- writing ----------------------------------------------------------------------------


def _lock_seat(user, challenge: Challenge) -> JurorAssignment:
    """The juror's seat, locked for this transaction, and still open for changes."""
    if not user.has_role("juror"):
        raise UserError(_("You are not on the jury of this challenge."), status=403)
    seat = db.session.scalar(
        select(JurorAssignment)
        .where(JurorAssignment.challenge_id == challenge.id, JurorAssignment.user_id == user.id)
        .with_for_update()
    )
    if seat is None:
        raise UserError(_("You are not on the jury of this challenge."), status=403)
    return seat


def _check_changeable(seat: JurorAssignment, challenge: Challenge) -> None:
    check_not_frozen(challenge)
    if seat.submitted_at is not None:
        raise UserError(
            _("You have already submitted your scores for this challenge; they can no longer change."),
            status=409,
        )  # fmt: skip


def _locked_review(user, challenge: Challenge, idea_id: int) -> tuple[JurorAssignment, JuryReview]:
    seat = _lock_seat(user, challenge)
    review = db.session.scalar(
        _reviews_query(challenge.id, user.id).where(JuryReview.idea_id == idea_id)
    )
    if review is None:
        db.session.rollback()
        raise UserError(_("This idea is not assigned to you."), status=404)
    try:
        _check_changeable(seat, challenge)
    except UserError:
        db.session.rollback()
        raise
    return seat, review


def _parse_score(raw) -> int | None:
    """A whole number 0..10 written in ASCII digits, or None. int() would take "1_0" or "１"."""
    text = str(raw).strip() if raw is not None else ""
    if not (text.isascii() and text.isdigit()) or len(text) > 2:
        return None
    value = int(text)
    return value if SCORE_MIN <= value <= SCORE_MAX else None


def _clean_scores(criteria: list[JuryCriterion], raw_values: dict, locale: str) -> dict[int, int]:
    """Every criterion exactly once, each a whole number 0..10; all refusals at once."""
    known = {str(c.id): c for c in criteria}
    errors: dict[str, str] = {}
    for key in raw_values:
        if str(key) not in known:
            errors["form"] = _("Please score only the criteria of this challenge.")
    cleaned: dict[int, int] = {}
    raw_by_id = {str(k): v for k, v in raw_values.items()}
    for criterion in criteria:
        name = criterion.text("name", locale)[0]
        raw = raw_by_id.get(str(criterion.id))
        if raw is None or str(raw).strip() == "":
            errors[score_field(criterion.id)] = _(
                "Please give a score for “%(criterion)s”.", criterion=name
            )
            continue
        value = _parse_score(raw)
        if value is None:
            errors[score_field(criterion.id)] = _(
                "Please score “%(criterion)s” with a whole number from %(min)d to %(max)d.",
                criterion=name, min=SCORE_MIN, max=SCORE_MAX,
            )  # fmt: skip
            continue
        cleaned[criterion.id] = value
    if errors:
        raise ScoreErrors(errors)
    return cleaned


def _clean_note(note) -> str:
    text = clean_text(note or "")
    if len(text) > NOTE_MAX:
        raise ScoreErrors({"note": _("Please use at most %(max)d characters.", max=NOTE_MAX)})
    if has_invisible_characters(text):
        raise ScoreErrors({"note": _("Please remove invisible control characters from this text.")})
    return text


def save_scores(
    juror, challenge: Challenge, idea_id: int, raw_values: dict, note: str = "", locale="de"
) -> JuryReview:
    """Replace the juror's scores (criterion id -> raw form value) and note for one idea.

    All or nothing: one refused value stores nothing. Audited without the values, since
    staff read the audit log and values stay hidden until every juror has submitted.
    """
    _seat, review = _locked_review(juror, challenge, idea_id)
    if review.conflict:
        db.session.rollback()
        raise UserError(
            _("You declared a conflict of interest for this idea, so you cannot score it."),
            status=409,
        )
    criteria = criteria_of(challenge)
    if not criteria:
        db.session.rollback()
        raise UserError(_("This challenge has no jury criteria yet."), status=409)
    try:
        values = _clean_scores(criteria, raw_values, locale)
        cleaned_note = _clean_note(note)
    except UserError:
        db.session.rollback()
        raise
    db.session.execute(delete(JuryScore).where(JuryScore.review_id == review.id))
    db.session.add_all(
        JuryScore(review_id=review.id, criterion_id=criterion_id, value=value)
        for criterion_id, value in values.items()
    )
    review.note = cleaned_note
    review.saved_at = now()
    record_action(juror, "jury.score", "idea", idea_id, challenge=challenge.id)
    db.session.commit()
    return review


def declare_conflict(juror, challenge: Challenge, idea_id: int) -> None:
    """The juror will not score this idea; scores saved for it so far are deleted."""
    _seat, review = _locked_review(juror, challenge, idea_id)
    if review.conflict:
        db.session.rollback()
        return
    db.session.execute(delete(JuryScore).where(JuryScore.review_id == review.id))
    review.conflict = True
    review.saved_at = now()
    record_action(juror, "jury.conflict", "idea", idea_id, challenge=challenge.id, declared=True)
    db.session.commit()


def withdraw_conflict(juror, challenge: Challenge, idea_id: int) -> None:
    """Take a declared conflict back before submitting; the idea is open to score again."""
    _seat, review = _locked_review(juror, challenge, idea_id)
    if not review.conflict:
        db.session.rollback()
        return
    review.conflict = False
    review.saved_at = now()
    record_action(juror, "jury.conflict", "idea", idea_id, challenge=challenge.id, declared=False)
    db.session.commit()


def submit_scores(juror, challenge: Challenge) -> JurorAssignment:
    """Hand in: every assigned idea scored on every criterion or declared a conflict.

    From now on the juror's scores, notes and conflicts are fixed.
    """
    seat = _lock_seat(juror, challenge)
    try:
        _check_changeable(seat, challenge)
        overview = juror_overview(juror, challenge)
        if not overview.criteria:
            raise UserError(_("This challenge has no jury criteria yet."), status=409)
        if not overview.items:
            raise UserError(_("No ideas are assigned to you yet."), status=409)
        missing = overview.open_items
        if missing:
            raise UserError(
                ngettext(
                    "%(num)d idea is still open; please score it or declare a conflict first: "
                    "%(titles)s.",
                    "%(num)d ideas are still open; please score them or declare a conflict first: "
                    "%(titles)s.",
                    len(missing), titles=", ".join(f"“{item.idea.title}”" for item in missing),
                ),
                status=409,
            )  # fmt: skip
    except UserError:
        db.session.rollback()
        raise
    seat.submitted_at = now()
    record_action(
        juror, "jury.submit", "challenge", challenge.id,
        ideas=[item.idea.id for item in overview.items],
    )  # fmt: skip
    db.session.commit()
    return seat


# --- staff: progress and reminders ------------------------------------------------------


@dataclass
class JurorProgress:
    juror: User
    seat: JurorAssignment
    assigned: int = 0
    scored: int = 0
    conflicts: int = 0

    @property
    def open(self) -> int:
        return self.assigned - self.scored - self.conflicts


@dataclass
class IdeaProgress:
    idea: Idea
    assigned: int = 0
    scored: int = 0
    conflicts: int = 0
    # Only filled once every seated juror has submitted.
    juror_values: dict[int, Fraction] = field(default_factory=dict)  # juror id -> J(r,i)
    mean: Fraction | None = None


@dataclass
class Progress:
    challenge: Challenge
    criteria: list[JuryCriterion]
    jurors: list[JurorProgress]
    ideas: list[IdeaProgress]
    # Filled only when every seated juror has submitted: juror id -> idea id -> scores.
    values: dict[int, dict[int, dict[int, int]]]

    @property
    def all_submitted(self) -> bool:
        return bool(self.jurors) and all(j.seat.submitted_at for j in self.jurors)


def jury_progress(challenge: Challenge) -> Progress:
    """Who has scored what. Score values only once every seated juror has submitted."""
    criteria = criteria_of(challenge)
    criterion_ids = {c.id for c in criteria}
    seats = db.session.execute(
        select(JurorAssignment, User)
        .join(User, User.id == JurorAssignment.user_id)
        .where(JurorAssignment.challenge_id == challenge.id)
        .order_by(User.pseudonym, User.id)
    ).all()
    jurors = {user.id: JurorProgress(user, seat) for seat, user in seats}
    ideas = {
        idea.id: IdeaProgress(idea)
        for idea in db.session.scalars(
            select(Idea)
            .join(ShortlistEntry, ShortlistEntry.idea_id == Idea.id)
            .where(ShortlistEntry.challenge_id == challenge.id)
            .order_by(Idea.title, Idea.id)
        )
    }
    reviews = [r for r in db.session.scalars(_reviews_query(challenge.id)) if r.juror_id in jurors]
    raw = _score_values([r.id for r in reviews])
    for review in reviews:
        state = _state(review, raw.get(review.id, {}), criterion_ids)
        for line in (jurors[review.juror_id], ideas.get(review.idea_id)):
            if line is None:
                continue
            line.assigned += 1
            line.scored += state == SCORED
            line.conflicts += state == CONFLICT
    progress = Progress(challenge, criteria, list(jurors.values()), list(ideas.values()), {})
    if not progress.all_submitted or not criteria:
        return progress
    weights = {str(c.id): Fraction(c.weight) for c in criteria}
    for review in reviews:
        values = raw.get(review.id, {})
        if review.conflict or set(values) != criterion_ids:
            continue
        progress.values.setdefault(review.juror_id, {})[review.idea_id] = values
        line = ideas.get(review.idea_id)
        if line is not None:
            line.juror_values[review.juror_id] = juror_score(
                weights, {str(c): v for c, v in values.items()}
            )
    for line in ideas.values():
        if line.juror_values:
            line.mean = sum(line.juror_values.values()) / len(line.juror_values)
    return progress


@dataclass(frozen=True)
class Reminders:
    reminded: int
    skipped: int  # reminded less than an hour ago
    waiting: int = 0  # no ideas to score yet (no shortlist, or none given): not reminded


def remind_jurors(actor, challenge: Challenge) -> Reminders:
    """Mail every seated juror who has not submitted, unless reminded within the hour.

    Each seat is claimed by one conditional UPDATE, so two staff clicking at once (or a
    double submit) mail a juror once: the second UPDATE waits for the first row lock and
    then finds the seat reminded.
    """
    check_not_frozen(challenge)
    overview = jury_progress(challenge)
    moment = now()
    cutoff = moment - REMIND_INTERVAL
    reminded = skipped = waiting = 0
    for line in overview.jurors:
        juror, seat = line.juror, line.seat
        if seat.submitted_at is not None or not juror.is_active or not juror.email:
            continue
        if not line.assigned:
            # "0 ideas open" would read as "done"; they get a mail when their ideas are ready.
            waiting += 1
            continue
        claimed = db.session.execute(
            update(JurorAssignment)
            .where(
                JurorAssignment.challenge_id == challenge.id,
                JurorAssignment.user_id == juror.id,
                JurorAssignment.submitted_at.is_(None),
                or_(
                    JurorAssignment.last_reminded_at.is_(None),
                    JurorAssignment.last_reminded_at <= cutoff,
                ),
            )
            .values(last_reminded_at=moment)
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed != 1:
            skipped += 1
            continue
        reminded += 1
        # With nothing open, the one thing left is to submit: the mail says so.
        mail_juror(juror, challenge, "jury_reminder", open=line.open)
    if reminded:
        record_action(
            actor, "jury.remind", "challenge", challenge.id, reminded=reminded, skipped=skipped
        )
    db.session.commit()
    return Reminders(reminded, skipped, waiting)


def mail_juror(juror: User, challenge: Challenge, template: str, **context) -> None:
    """Enqueue one mail to a juror in their language, in the caller's transaction (the
    outbox sends it after the commit, once). Names, title and deadline are written in
    the juror's language here, so the job needs nothing but plain values."""
    locale = mail_locale(juror)
    with force_locale(locale):
        deadline = format_when(jury_deadline(challenge))
    jobs.enqueue(
        jobs.send_email, juror.email, template, locale,
        {"name": juror.pseudonym or "", "title": challenge.text("title", locale)[0],
         "deadline": deadline, "url": external_url("jury.overview", challenge_id=challenge.id),
         **context},
    )  # fmt: skip
