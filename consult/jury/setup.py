"""Use cases of setting a jury up: settings, criteria, the shortlist and the jurors.

Staff do all of this; every change is audited. What jurors score against (criteria,
weights, alpha, the shortlist, the jury itself) is locked once a juror has submitted
(``locks.check_setup_unlocked``) and everything is locked once the results are frozen.
Values arrive as typed in a form (strings) or as numbers; the services parse and check
them, so a refusal always names its field in the user's language, and the database
CHECKs are only the last line of defence.
"""

import re
import unicodedata
from dataclasses import dataclass
from fractions import Fraction
from functools import wraps

from sqlalchemy import and_, delete, exists, func, select, update
from sqlalchemy.exc import IntegrityError

from ..accounts.models import RoleGrant, User
from ..audit.services import record_action
from ..challenges.models import Challenge
from ..clock import now
from ..errors import UserError
from ..extensions import db
from ..i18n import _
from ..ideas.models import Idea
from ..ideas.services import get_challenge_idea
from ..text import checked_text
from ..voting.models import Vote
from ..voting.services import counted_votes, counted_votes_for
from .locks import any_juror_submitted, check_not_frozen, check_setup_unlocked
from .models import (
    WEIGHT_MAX,
    WEIGHT_MIN,
    JurorAssignment,
    JuryCriterion,
    JuryReview,
    JuryScore,
    ShortlistEntry,
)
from .scoring import mail_juror

NAME_MAX = 120
DESCRIPTION_MAX = 2000
REASON_MAX = 1000
SHORTLIST_MIN, SHORTLIST_MAX = 1, 200
ALPHA_MIN, ALPHA_MAX = 0, 100
POSITION_MIN, POSITION_MAX = 0, 999
# Phases in which the votes are final, so "top N by votes" means something.
SHORTLIST_PHASES = ("evaluation", "results", "archived")

_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]{1,9}")


# --- locking and refusing ---------------------------------------------------------------


def _use_case(service):
    """A refusal changes nothing: roll back, which also releases the rows it locked."""

    @wraps(service)
    def wrapped(*args, **kwargs):
        try:
            return service(*args, **kwargs)
        except UserError:
            db.session.rollback()
            raise

    return wrapped


def _hold(challenge: Challenge) -> None:
    """Lock the challenge row and its jurors' seats until commit, and read them afresh.

    Freezing updates the challenge row and a juror's submission locks their seat first,
    so a setup change and a freeze or a submission take turns: a change is either made
    before them or refused after them, never half-seen.
    """
    db.session.refresh(challenge, with_for_update=True)
    db.session.execute(
        select(JurorAssignment.user_id)
        .where(JurorAssignment.challenge_id == challenge.id)
        .with_for_update()
    ).all()


def _open_setup(challenge: Challenge) -> None:
    _hold(challenge)
    check_setup_unlocked(challenge)


# --- checking input ---------------------------------------------------------------------


def _whole_number(value, low: int, high: int, field: str) -> int:
    """A whole number in [low, high], from an int or the text a form sent."""
    number = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _WHOLE_NUMBER.fullmatch(value.strip()):
        # Only ASCII digits: int() would also take "١٢" or "1_000".
        number = int(value.strip())
    if number is None or not low <= number <= high:
        raise UserError(
            _("Please enter a whole number from %(min)d to %(max)d.", min=low, max=high),
            field=field,
        )
    return number


def _line(value, limit: int, field: str) -> str:
    return checked_text(value, field, limit, line=True)


def _paragraphs(value, limit: int, field: str) -> str:
    return checked_text(value, field, limit)


def _criterion_values(data: dict) -> dict:
    values = {
        "name_de": _line(data.get("name_de"), NAME_MAX, "name_de"),
        "name_en": _line(data.get("name_en"), NAME_MAX, "name_en"),
        "description_de": _paragraphs(
            data.get("description_de"), DESCRIPTION_MAX, "description_de"
        ),
        "description_en": _paragraphs(
            data.get("description_en"), DESCRIPTION_MAX, "description_en"
        ),
    }
    for field in ("name_de", "name_en"):
        # Jurors and the published formula show the name in either language.
        if not values[field]:
            raise UserError(_("Please name the criterion in German and in English."), field=field)
    values["weight"] = _whole_number(data.get("weight"), WEIGHT_MIN, WEIGHT_MAX, "weight")
    return values


# --- settings ---------------------------------------------------------------------------


@_use_case
def set_jury_settings(
    actor, challenge: Challenge, alpha_percent, centering, shortlist_size
) -> list[str]:
    """Set alpha (in percent), juror centering and the shortlist size; audited.

    Locked like the criteria: changing alpha once scores are in would let staff steer
    the outcome. Returns the names of the changed settings.
    """
    _open_setup(challenge)
    values = {
        "jury_alpha_percent": _whole_number(alpha_percent, ALPHA_MIN, ALPHA_MAX, "alpha_percent"),
        "shortlist_size": _whole_number(
            shortlist_size, SHORTLIST_MIN, SHORTLIST_MAX, "shortlist_size"
        ),
    }
    if not isinstance(centering, bool):
        raise UserError(_("Please choose yes or no."), field="centering")
    values["jury_centering"] = centering
    changed = sorted(f for f, v in values.items() if getattr(challenge, f) != v)
    if not changed:
        return []
    record_action(
        actor, "jury.settings", "challenge", challenge.id,
        **{f: [getattr(challenge, f), values[f]] for f in changed},
    )  # fmt: skip
    for field in changed:
        setattr(challenge, field, values[field])
    db.session.commit()
    return changed


# --- criteria ---------------------------------------------------------------------------


def list_criteria(challenge: Challenge) -> list[JuryCriterion]:
    """The criteria of a challenge in their order."""
    return list(
        db.session.scalars(
            select(JuryCriterion)
            .where(JuryCriterion.challenge_id == challenge.id)
            .order_by(JuryCriterion.position, JuryCriterion.id)
        )
    )


@_use_case
def add_criterion(actor, challenge: Challenge, data: dict) -> JuryCriterion:
    """Add a criterion with bilingual name and description and a weight 1..100; audited."""
    _open_setup(challenge)
    values = _criterion_values(data)
    last = db.session.scalar(
        select(func.max(JuryCriterion.position)).where(JuryCriterion.challenge_id == challenge.id)
    )
    criterion = JuryCriterion(challenge_id=challenge.id, position=(last or 0) + 1, **values)
    db.session.add(criterion)
    db.session.flush()
    record_action(
        actor, "jury.criterion_create", "challenge", challenge.id,
        criterion=criterion.id, name=criterion.name_de, weight=criterion.weight,
    )  # fmt: skip
    db.session.commit()
    return criterion


@_use_case
def update_criterion(actor, criterion: JuryCriterion, data: dict) -> list[str]:
    """Change a criterion's texts, weight or position; audited. Returns the changed fields."""
    _open_setup(db.session.get(Challenge, criterion.challenge_id))
    values = _criterion_values(data)
    if data.get("position") not in (None, ""):
        values["position"] = _whole_number(
            data.get("position"), POSITION_MIN, POSITION_MAX, "position"
        )
    changed = sorted(f for f, v in values.items() if getattr(criterion, f) != v)
    if not changed:
        return []
    details = {"criterion": criterion.id, "fields": changed}
    if "weight" in changed:
        details["weight"] = [criterion.weight, values["weight"]]
    record_action(actor, "jury.criterion_update", "challenge", criterion.challenge_id, **details)
    for field in changed:
        setattr(criterion, field, values[field])
    db.session.commit()
    return changed


@_use_case
def remove_criterion(actor, criterion: JuryCriterion) -> None:
    """Remove a criterion (and scores saved on it, none of them submitted); audited."""
    _open_setup(db.session.get(Challenge, criterion.challenge_id))
    record_action(
        actor, "jury.criterion_delete", "challenge", criterion.challenge_id,
        criterion=criterion.id, name=criterion.name_de, weight=criterion.weight,
    )  # fmt: skip
    # Explicit, because SQLite does not enforce the ON DELETE CASCADE of jury_scores.
    db.session.execute(delete(JuryScore).where(JuryScore.criterion_id == criterion.id))
    db.session.delete(criterion)
    db.session.commit()


# --- the shortlist ----------------------------------------------------------------------


def shortlisted_ideas(challenge: Challenge) -> list[Idea]:
    """The ideas on the shortlist, most counted votes first, then by id."""
    ideas = list(
        db.session.scalars(
            select(Idea).join(
                ShortlistEntry,
                and_(
                    ShortlistEntry.idea_id == Idea.id, ShortlistEntry.challenge_id == challenge.id
                ),
            )
        )
    )
    votes = counted_votes_for(challenge, [idea.id for idea in ideas])
    return sorted(ideas, key=lambda idea: (-votes[idea.id], idea.id))


def _check_shortlist_open(challenge: Challenge) -> None:
    _open_setup(challenge)
    if challenge.phase() not in SHORTLIST_PHASES:
        raise UserError(
            _(
                "The shortlist can only be drawn up once voting has closed, when the "
                "votes are final."
            ),
            status=409,
        )


def _shortlisted_ids(challenge: Challenge) -> set[int]:
    return set(
        db.session.scalars(
            select(ShortlistEntry.idea_id).where(ShortlistEntry.challenge_id == challenge.id)
        )
    )


def _seated_ids(challenge: Challenge) -> list[int]:
    return list(
        db.session.scalars(
            select(JurorAssignment.user_id).where(JurorAssignment.challenge_id == challenge.id)
        )
    )


def _add_entries(actor, challenge: Challenge, idea_ids: list[int], source: str, reason: str):
    """Shortlist ideas and give each to every juror already seated."""
    jurors = _seated_ids(challenge)
    for idea_id in idea_ids:
        db.session.add(
            ShortlistEntry(
                challenge_id=challenge.id,
                idea_id=idea_id,
                source=source,
                reason=reason,
                added_by_id=actor.id,
            )
        )
        for juror_id in jurors:
            db.session.add(
                JuryReview(challenge_id=challenge.id, juror_id=juror_id, idea_id=idea_id)
            )


def _mail_ideas_ready(challenge: Challenge) -> None:
    """Tell every seated juror who now has ideas, once per seat, that they can start.

    Each seat is claimed by one conditional UPDATE of ``ideas_mailed_at`` in the caller's
    transaction, with the mail's outbox row: the mail goes out after the commit, and a
    second shortlist change (or a retried request) finds the seat claimed.
    """
    db.session.flush()
    has_ideas = exists().where(
        JuryReview.challenge_id == JurorAssignment.challenge_id,
        JuryReview.juror_id == JurorAssignment.user_id,
    )
    waiting = list(
        db.session.scalars(
            select(JurorAssignment.user_id).where(
                JurorAssignment.challenge_id == challenge.id,
                JurorAssignment.ideas_mailed_at.is_(None),
                JurorAssignment.submitted_at.is_(None),
                has_ideas,
            )
        )
    )
    moment = now()
    for user_id in waiting:
        claimed = db.session.execute(
            update(JurorAssignment)
            .where(
                JurorAssignment.challenge_id == challenge.id,
                JurorAssignment.user_id == user_id,
                JurorAssignment.ideas_mailed_at.is_(None),
            )
            .values(ideas_mailed_at=moment)
            .execution_options(synchronize_session=False)
        ).rowcount
        user = db.session.get(User, user_id)
        if claimed == 1 and user.is_active and user.email:
            count = db.session.scalar(
                select(func.count()).where(
                    JuryReview.challenge_id == challenge.id, JuryReview.juror_id == user_id
                )
            )
            mail_juror(user, challenge, "jury_ideas_ready", ideas=count)


def _commit_or_conflict(message: str) -> None:
    """Commit; a unique key hit by a concurrent request becomes a 409, not a 500."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise UserError(message, status=409) from None


@dataclass(frozen=True)
class TopIdeas:
    """What "shortlist the top N" did."""

    added: list[int]  # idea ids newly on the shortlist
    chosen: int  # ideas in the top N (with ties), already shortlisted or not
    tied_extra: int  # how many more than N, because they tie with the N-th
    cut_votes: int | None  # the votes of the N-th idea


@_use_case
def shortlist_top_ideas(actor, challenge: Challenge) -> TopIdeas:
    """Shortlist the N published ideas with the most counted votes; audited.

    Ideas tied with the N-th are all taken, since nothing fair decides between them.
    Ideas without a vote are left out (else a tie at zero would take them all); staff
    can still pick them. Ideas already on the shortlist stay as they are.
    """
    _check_shortlist_open(challenge)
    votes = {i: v for i, v in counted_votes(challenge).items() if v > 0}
    ranked = sorted(votes, key=lambda i: (-votes[i], i))
    size = challenge.shortlist_size
    if len(ranked) > size:
        cut = votes[ranked[size - 1]]
        chosen = [i for i in ranked if votes[i] >= cut]
    else:
        chosen = ranked
        cut = votes[ranked[-1]] if ranked else None
    present = _shortlisted_ids(challenge)
    added = [i for i in chosen if i not in present]
    result = TopIdeas(added, len(chosen), max(len(chosen) - size, 0), cut)
    if not added:
        return result
    _add_entries(actor, challenge, added, "votes", "")
    _mail_ideas_ready(challenge)
    record_action(
        actor, "jury.shortlist_add", "challenge", challenge.id,
        source="votes", ideas=added, size=size, tied_extra=result.tied_extra,
    )  # fmt: skip
    _commit_or_conflict(_("Someone else changed the shortlist at the same time. Please try again."))
    return result


def _idea_of(challenge: Challenge, idea_id) -> Idea:
    idea = get_challenge_idea(challenge, idea_id)
    if idea is None:
        raise UserError(_("This idea does not exist in this challenge."), field="idea", status=404)
    return idea


@_use_case
def pick_for_shortlist(actor, challenge: Challenge, idea_id: int, reason: str) -> ShortlistEntry:
    """Put a published idea of the challenge on the shortlist, with a reason; audited."""
    _check_shortlist_open(challenge)
    idea = _idea_of(challenge, idea_id)
    text = _paragraphs(reason, REASON_MAX, "reason")
    if not text:
        raise UserError(_("Please say why this idea belongs on the shortlist."), field="reason")
    if idea.status != "published":
        raise UserError(
            _("Only published ideas can be on the shortlist."), field="idea", status=409
        )
    if idea.id in _shortlisted_ids(challenge):
        raise UserError(_("This idea is already on the shortlist."), field="idea", status=409)
    _add_entries(actor, challenge, [idea.id], "staff", text)
    _mail_ideas_ready(challenge)
    record_action(
        actor, "jury.shortlist_add", "challenge", challenge.id,
        source="staff", ideas=[idea.id], reason=text,
    )  # fmt: skip
    _commit_or_conflict(_("This idea is already on the shortlist."))
    return db.session.get(ShortlistEntry, (challenge.id, idea.id))


def _delete_reviews(challenge: Challenge, **where) -> None:
    """Delete jury reviews (and their saved scores) matching ``where``, in this challenge."""
    query = select(JuryReview.id).where(JuryReview.challenge_id == challenge.id)
    for column, value in where.items():
        column = getattr(JuryReview, column)
        query = query.where(column.in_(value) if isinstance(value, list | set) else column == value)
    ids = list(db.session.scalars(query))
    if ids:
        db.session.execute(delete(JuryScore).where(JuryScore.review_id.in_(ids)))
        db.session.execute(delete(JuryReview).where(JuryReview.id.in_(ids)))


def _scored_by_submitted(challenge: Challenge):
    """A query of the ideas a juror who has submitted gave scores: those count, so stay."""
    return (
        select(JuryReview.idea_id)
        .join(JuryScore, JuryScore.review_id == JuryReview.id)
        .join(
            JurorAssignment,
            and_(
                JurorAssignment.challenge_id == JuryReview.challenge_id,
                JurorAssignment.user_id == JuryReview.juror_id,
            ),
        )
        .where(
            JuryReview.challenge_id == challenge.id,
            JuryReview.conflict.is_(False),
            JurorAssignment.submitted_at.is_not(None),
        )
        .distinct()
    )


def _jurors_with_scores(challenge: Challenge, idea_id: int) -> list[int]:
    """Jurors with saved scores on an idea: what taking it off the shortlist deletes."""
    return list(
        db.session.scalars(
            select(JuryReview.juror_id)
            .join(JuryScore, JuryScore.review_id == JuryReview.id)
            .where(JuryReview.challenge_id == challenge.id, JuryReview.idea_id == idea_id)
            .distinct()
            .order_by(JuryReview.juror_id)
        )
    )


@dataclass(frozen=True)
class RemovalImpact:
    """What taking an idea off the shortlist would do, for staff to confirm first."""

    idea: Idea
    entry: ShortlistEntry
    scored_by: list[int]  # jurors whose saved scores on it would be deleted
    late: bool  # a juror has submitted: the jury's work is partly final

    @property
    def needs_confirmation(self) -> bool:
        return bool(self.scored_by) or self.late


class RemovalNeedsConfirmation(UserError):
    """Removing would delete jurors' work (or comes after a submission): ask staff first."""

    def __init__(self, impact: RemovalImpact):
        super().__init__(_("Please confirm that the idea is taken off the shortlist."), status=409)
        self.impact = impact


def shortlist_removal_impact(challenge: Challenge, idea_id: int) -> RemovalImpact:
    """What removing would delete; refused as removing itself would be (404, 409)."""
    check_not_frozen(challenge)
    entry = db.session.get(ShortlistEntry, (challenge.id, idea_id))
    if entry is None:
        raise UserError(_("This idea is not on the shortlist."), status=404)
    late = any_juror_submitted(challenge)
    scored = _scored_by_submitted(challenge).where(JuryReview.idea_id == idea_id)
    if late and db.session.scalar(scored.limit(1)) is not None:
        raise UserError(
            _("A juror has already submitted scores for this idea, so it stays on the shortlist."),
            status=409,
        )
    return RemovalImpact(
        db.session.get(Idea, idea_id), entry, _jurors_with_scores(challenge, idea_id), late
    )


@_use_case
def remove_from_shortlist(
    actor, challenge: Challenge, idea_id: int, confirmed: int | None = None
) -> RemovalImpact:
    """Take an idea off the shortlist, and away from every juror; audited.

    Still allowed after a juror has submitted (not after freezing) for an idea no
    submitted juror has scored: else an idea every juror declared a conflict on would
    leave results that can never be frozen. When it deletes jurors' saved scores, or
    comes after a submission, staff must confirm first: ``confirmed`` is the number of
    jurors with saved scores the confirmation page showed. If that number has changed
    since (a juror saved meanwhile), they are asked again (``RemovalNeedsConfirmation``).
    """
    _hold(challenge)
    impact = shortlist_removal_impact(challenge, idea_id)
    if impact.needs_confirmation and confirmed != len(impact.scored_by):
        raise RemovalNeedsConfirmation(impact)
    details = {"idea": idea_id, "source": impact.entry.source}
    if impact.scored_by:
        details["scores_deleted_of"] = impact.scored_by
    if impact.late:
        details["after_submission"] = True
    record_action(actor, "jury.shortlist_remove", "challenge", challenge.id, **details)
    _delete_reviews(challenge, idea_id=idea_id)
    db.session.delete(impact.entry)
    db.session.commit()
    return impact


# --- jurors -----------------------------------------------------------------------------


def find_person(text: str) -> User | None:
    """An account by e-mail address or public name (case and width do not matter)."""
    raw = " ".join(unicodedata.normalize("NFC", text or "").split())
    if not raw or len(raw) > 254:
        return None
    query = select(User).where(User.deleted_at.is_(None))
    if "@" in raw:
        return db.session.scalar(query.where(User.email == raw.lower()))
    key = unicodedata.normalize("NFKC", raw).casefold()
    return db.session.scalar(query.where(User.pseudonym_key == key))


@_use_case
def seat_juror(actor, challenge: Challenge, person: str) -> User:
    """Put an account with the juror role on the jury, with every shortlisted idea; audited.

    Locked once a juror has submitted: a juror added after scores are in would change
    the means the others' scores are part of.
    """
    _open_setup(challenge)
    user = find_person(person)
    if user is None:
        raise UserError(
            _("There is no account with this e-mail address or public name."), field="person",
            status=404,
        )  # fmt: skip
    if not user.has_role("juror"):
        raise UserError(
            _("%(name)s does not hold the juror role: please grant the juror role first.",
              name=user.pseudonym or user.email),
            field="person", status=409,
        )  # fmt: skip
    if db.session.get(JurorAssignment, (challenge.id, user.id)) is not None:
        raise UserError(_("This person is already on the jury."), field="person", status=409)
    voted = select(Vote.id).where(Vote.challenge_id == challenge.id, Vote.user_id == user.id)
    if db.session.scalar(voted.limit(1)) is not None:
        raise UserError(
            _("This person has voted in this challenge; jurors may not judge what they voted on."),
            field="person", status=409,
        )  # fmt: skip
    ideas = _shortlisted_ids(challenge)
    # One mail tells a juror they are seated and, if there is a shortlist, that their
    # ideas are ready: no second "ideas ready" mail for the same seat.
    db.session.add(
        JurorAssignment(
            challenge_id=challenge.id, user_id=user.id, assigned_by_id=actor.id,
            ideas_mailed_at=now() if ideas else None,
        )
    )  # fmt: skip
    for idea_id in ideas:
        db.session.add(JuryReview(challenge_id=challenge.id, juror_id=user.id, idea_id=idea_id))
    if user.is_active and user.email:
        mail_juror(user, challenge, "jury_seated", ideas=len(ideas))
    record_action(
        actor, "jury.juror_assign", "challenge", challenge.id,
        juror=user.id, name=user.pseudonym, ideas=sorted(_shortlisted_ids(challenge)),
    )  # fmt: skip
    _commit_or_conflict(_("This person is already on the jury."))
    return user


def _seated(challenge: Challenge, juror_id: int) -> JurorAssignment:
    _hold(challenge)
    assignment = db.session.get(JurorAssignment, (challenge.id, juror_id))
    if assignment is None:
        raise UserError(_("This person is not on the jury of this challenge."), status=404)
    check_not_frozen(challenge)
    if assignment.submitted_at is not None:
        raise UserError(
            _("This juror has already submitted scores; their work stays as it is."), status=409
        )
    return assignment


@_use_case
def unseat_juror(actor, challenge: Challenge, juror_id: int) -> None:
    """Take a juror who has not submitted off the jury, with their saved work; audited."""
    assignment = _seated(challenge, juror_id)
    record_action(actor, "jury.juror_remove", "challenge", challenge.id, juror=juror_id)
    _delete_reviews(challenge, juror_id=juror_id)
    db.session.delete(assignment)
    db.session.commit()


@_use_case
def set_juror_ideas(actor, challenge: Challenge, juror_id: int, idea_ids) -> tuple[list, list]:
    """Choose which shortlisted ideas a juror scores (to spread the work, or for a known
    conflict); audited. Returns (ids given, ids taken away).

    Ideas taken away lose the juror's saved, unsubmitted scores on them.
    """
    _seated(challenge, juror_id)
    wanted = set(idea_ids)
    if not wanted <= _shortlisted_ids(challenge):
        raise UserError(_("This idea is not on the shortlist."), status=404)
    current = set(
        db.session.scalars(
            select(JuryReview.idea_id).where(
                JuryReview.challenge_id == challenge.id, JuryReview.juror_id == juror_id
            )
        )
    )
    given, taken = sorted(wanted - current), sorted(current - wanted)
    if not (given or taken):
        return [], []
    for idea_id in given:
        db.session.add(JuryReview(challenge_id=challenge.id, juror_id=juror_id, idea_id=idea_id))
    if taken:
        _delete_reviews(challenge, juror_id=juror_id, idea_id=taken)
    if given:
        _mail_ideas_ready(challenge)
    record_action(
        actor, "jury.juror_assign", "challenge", challenge.id,
        juror=juror_id, given=given, taken=taken,
    )  # fmt: skip
    _commit_or_conflict(_("Someone else changed this juror's ideas at the same time."))
    return given, taken


# --- the setup page ---------------------------------------------------------------------


@dataclass(frozen=True)
class CriterionLine:
    criterion: JuryCriterion
    share: Fraction  # of the total weight


@dataclass(frozen=True)
class ShortlistLine:
    entry: ShortlistEntry
    idea: Idea
    votes: int
    added_by: User | None
    removable: bool  # staff may still take it off the shortlist
    unscoreable: bool  # jurors are seated, but none of them can score it
    scored_by: int = 0  # jurors with saved scores on it (deleted if it is taken off)


@dataclass(frozen=True)
class JurorLine:
    assignment: JurorAssignment
    user: User
    idea_ids: frozenset[int]


@dataclass(frozen=True)
class JurySetup:
    challenge: Challenge
    criteria: list[CriterionLine]
    total_weight: int
    shortlist: list[ShortlistLine]
    candidates: list[tuple[Idea, int]]  # published ideas not shortlisted, with votes
    jurors: list[JurorLine]
    available: list[User]  # juror-role accounts not on this jury
    locked: str | None  # why settings, criteria, shortlist and jury can no longer change
    frozen: bool
    shortlist_open: bool  # voting has closed
    any_submitted: bool


def jury_setup_view(challenge: Challenge) -> JurySetup:
    """Everything the staff setup page shows, in a fixed number of queries. No score values."""
    criteria = list_criteria(challenge)
    total = sum(c.weight for c in criteria)
    votes = counted_votes(challenge)
    entries = db.session.execute(
        select(ShortlistEntry, Idea)
        .join(Idea, Idea.id == ShortlistEntry.idea_id)
        .where(ShortlistEntry.challenge_id == challenge.id)
    ).all()
    entry_votes = counted_votes_for(challenge, [idea.id for _entry, idea in entries])
    people_ids = {e.added_by_id for e, _idea in entries if e.added_by_id}
    assignments = list(
        db.session.scalars(
            select(JurorAssignment).where(JurorAssignment.challenge_id == challenge.id)
        )
    )
    people_ids |= {a.user_id for a in assignments}
    people = (
        {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(people_ids)))}
        if people_ids
        else {}
    )
    reviews: dict[int, set[int]] = {}
    for juror_id, idea_id in db.session.execute(
        select(JuryReview.juror_id, JuryReview.idea_id).where(
            JuryReview.challenge_id == challenge.id
        )
    ):
        reviews.setdefault(juror_id, set()).add(idea_id)
    any_submitted = any_juror_submitted(challenge)
    # Before a submission every idea may go; after it, only those no submitted juror scored.
    kept = set(db.session.scalars(_scored_by_submitted(challenge))) if any_submitted else set()
    # Who can still score each idea: assigned and no declared conflict.
    able = set(
        db.session.scalars(
            select(JuryReview.idea_id).where(
                JuryReview.challenge_id == challenge.id, JuryReview.conflict.is_(False)
            )
        )
    )
    # How many jurors would lose saved scores if an idea were taken off (counts, no values).
    scored_by = dict(
        db.session.execute(
            select(JuryReview.idea_id, func.count(func.distinct(JuryReview.juror_id)))
            .join(JuryScore, JuryScore.review_id == JuryReview.id)
            .where(JuryReview.challenge_id == challenge.id)
            .group_by(JuryReview.idea_id)
        ).all()
    )
    shortlist = sorted(
        (ShortlistLine(e, idea, entry_votes[idea.id], people.get(e.added_by_id),
                       removable=not challenge.is_frozen and idea.id not in kept,
                       unscoreable=bool(assignments) and idea.id not in able,
                       scored_by=scored_by.get(idea.id, 0))
         for e, idea in entries),
        key=lambda line: (-line.votes, line.idea.id),
    )  # fmt: skip
    on_list = {line.idea.id for line in shortlist}
    candidate_ideas = db.session.scalars(
        select(Idea)
        .where(Idea.challenge_id == challenge.id, Idea.status == "published")
        .order_by(Idea.title, Idea.id)
    )
    candidates = [(i, votes.get(i.id, 0)) for i in candidate_ideas if i.id not in on_list]
    jurors = sorted(
        (JurorLine(a, people[a.user_id], frozenset(reviews.get(a.user_id, ())))
         for a in assignments),
        key=lambda line: ((line.user.pseudonym or "").casefold(), line.user.id),
    )  # fmt: skip
    seated = select(JurorAssignment.user_id).where(
        JurorAssignment.challenge_id == challenge.id, JurorAssignment.user_id == User.id
    )
    available = list(
        db.session.scalars(
            select(User)
            .join(RoleGrant, and_(RoleGrant.user_id == User.id, RoleGrant.role == "juror"))
            .where(User.deleted_at.is_(None), ~exists(seated))
            .order_by(User.pseudonym, User.id)
            .limit(500)
        )
    )
    locked = None
    try:
        check_setup_unlocked(challenge)
    except UserError as error:
        locked = error.message
    return JurySetup(
        challenge=challenge,
        criteria=[CriterionLine(c, Fraction(c.weight, total)) for c in criteria],
        total_weight=total,
        shortlist=shortlist,
        candidates=candidates,
        jurors=jurors,
        available=available,
        locked=locked,
        frozen=challenge.is_frozen,
        shortlist_open=challenge.phase() in SHORTLIST_PHASES,
        any_submitted=any_submitted,
    )
