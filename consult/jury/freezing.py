"""The ranking of a challenge from the database, and freezing it into a checkable snapshot.

``ranking_inputs`` turns the rows into exactly the plain inputs of ``ranking.compute_ranking``;
the preview staff see, the frozen snapshot and ``flask results verify`` all go through the
same formula, so what was shown is what gets frozen and what anyone can recompute.
"""

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fractions import Fraction

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ..audit.services import record_action
from ..challenges.models import Challenge
from ..clock import now
from ..errors import UserError
from ..extensions import db
from ..i18n import _, ngettext
from ..ideas.models import Idea
from ..voting.services import counted_votes_for
from . import ranking
from .models import (
    JurorAssignment,
    JuryCriterion,
    JuryReview,
    JuryScore,
    ResultSnapshot,
    ShortlistEntry,
)

# Results can be frozen once voting has closed: the vote counts no longer move.
FREEZABLE_PHASES = ("evaluation", "results", "archived")


def criterion_key(criterion_id: int) -> str:
    """The criterion's name in the formula: stable, and the same in every language."""
    return f"c{criterion_id}"


def _iso_utc(value: datetime | None) -> str:
    # Fixed width (always microseconds, always "Z"), so that the text comparison the
    # tie-break makes is the comparison of the instants.
    if value is None:
        return ""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass
class RankingInputs:
    """What the formula needs, plus the rows it came from (for pages and the snapshot)."""

    ideas: list[ranking.IdeaInput]
    weights: dict[str, Fraction]
    # juror key -> idea id -> criterion key -> score; jurors keyed "0000", "0001", ... in
    # seating order, so the snapshot's "Juror A, B, ..." follow that order and nothing else.
    scores: dict[str, dict[int, dict[str, int]]]
    alpha: Fraction
    centering: bool
    criteria: list[JuryCriterion]
    shortlist: list[Idea]
    pending_jurors: int  # seated jurors who have not submitted yet
    seated_jurors: int = 0
    incomplete: list[Idea] = field(default_factory=list)  # a submitted score set lacks a criterion


def ranking_inputs(challenge: Challenge) -> RankingInputs:
    """Read the shortlist, votes, criteria and the scores of jurors who SUBMITTED.

    Scores of jurors still at work never count: until they submit they may change them.
    A declared conflict of interest means the juror's row for that idea carries no score.
    """
    criteria = list(
        db.session.scalars(
            select(JuryCriterion)
            .where(JuryCriterion.challenge_id == challenge.id)
            .order_by(JuryCriterion.position, JuryCriterion.id)
        )
    )
    shortlisted = list(
        db.session.scalars(
            select(Idea)
            .join(ShortlistEntry, ShortlistEntry.idea_id == Idea.id)
            .where(ShortlistEntry.challenge_id == challenge.id, Idea.challenge_id == challenge.id)
            .order_by(Idea.id)
        )
    )
    # Whatever their status now: a shortlisted idea hidden since keeps its votes.
    votes = counted_votes_for(challenge, [idea.id for idea in shortlisted])
    ideas = [
        ranking.IdeaInput(
            idea.id, votes.get(idea.id, 0), _iso_utc(idea.submitted_at or idea.created_at)
        )
        for idea in shortlisted
    ]
    weights = {criterion_key(c.id): Fraction(c.weight) for c in criteria}

    assignments = list(
        db.session.scalars(
            select(JurorAssignment)
            .where(JurorAssignment.challenge_id == challenge.id)
            .order_by(JurorAssignment.assigned_at, JurorAssignment.user_id)
        )
    )
    submitted = [a.user_id for a in assignments if a.submitted_at is not None]
    pending = len(assignments) - len(submitted)
    shortlisted_ids = {idea.id for idea in shortlisted}
    rows = db.session.execute(
        select(JuryReview.juror_id, JuryReview.idea_id, JuryScore.criterion_id, JuryScore.value)
        .join(JuryScore, JuryScore.review_id == JuryReview.id)
        .where(
            JuryReview.challenge_id == challenge.id,
            JuryReview.conflict.is_(False),
            JuryReview.juror_id.in_(submitted or [-1]),
        )
    )
    by_juror: dict[int, dict[int, dict[str, int]]] = {}
    for juror_id, idea_id, criterion_id, value in rows:
        if idea_id in shortlisted_ids:
            by_juror.setdefault(juror_id, {}).setdefault(idea_id, {})[
                criterion_key(criterion_id)
            ] = value
    scores = {}
    for user_id in submitted:
        if by_juror.get(user_id):
            scores[f"{len(scores):04d}"] = by_juror[user_id]
    incomplete_ids = {
        idea_id
        for by_idea in scores.values()
        for idea_id, given in by_idea.items()
        if set(given) != set(weights)
    }
    return RankingInputs(
        ideas=ideas,
        weights=weights,
        scores=scores,
        alpha=Fraction(challenge.jury_alpha_percent, 100),
        centering=bool(challenge.jury_centering),
        criteria=criteria,
        shortlist=shortlisted,
        pending_jurors=pending,
        seated_jurors=len(assignments),
        incomplete=[idea for idea in shortlisted if idea.id in incomplete_ids],
    )


def ranking_problem(inputs: RankingInputs) -> str | None:
    """Why this challenge cannot be ranked yet (translated), or None when it can."""
    if not inputs.criteria:
        return _("The jury has no criteria yet.")
    if not inputs.shortlist:
        return _("The shortlist is empty.")
    if not inputs.seated_jurors:
        return _("No jurors are on the jury yet.")
    if inputs.pending_jurors:
        return ngettext(
            "%(num)d juror has not submitted their scores yet.",
            "%(num)d jurors have not submitted their scores yet.",
            inputs.pending_jurors,
        )
    if inputs.incomplete:
        return _(
            'The jury scores of "%(title)s" lack a criterion.', title=inputs.incomplete[0].title
        )
    scored = {idea_id for by_idea in inputs.scores.values() for idea_id in by_idea}
    for idea in inputs.shortlist:
        if idea.id not in scored:
            # Every juror has submitted by now, so no one can score it any more.
            return _(
                '"%(title)s" has no jury score: no juror who submitted has scored it. '
                "Please take it off the shortlist on the jury setup page, then freeze.",
                title=idea.title,
            )
    return None


@dataclass(frozen=True)
class RankRow:
    """One line of the ranking as staff see it; numbers already shown with three decimals."""

    rank: int
    idea_id: int
    title: str
    votes: int
    jury: str
    popularity: str
    score: str


@dataclass(frozen=True)
class RankingView:
    """The preview or the frozen ranking of a challenge, or why there is none yet."""

    rows: list[RankRow]
    problem: str | None
    alpha: Fraction
    centering: bool
    criteria: list[dict]  # {"key", "name_de", "name_en", "weight"}

    @property
    def alpha_percent(self) -> str:
        """The jury's share of the combined score in percent, e.g. "50"."""
        return _percent(self.alpha)

    @property
    def votes_percent(self) -> str:
        """The votes' share of the combined score in percent."""
        return _percent(1 - self.alpha)


def _percent(share: Fraction) -> str:
    percent = Fraction(share) * 100
    return str(percent.numerator) if percent.denominator == 1 else ranking.three_decimals(percent)


def _rows(ranked: list[ranking.RankedIdea], titles: dict[int, str]) -> list[RankRow]:
    return [
        RankRow(
            r.rank,
            r.id,
            titles.get(r.id, ""),
            r.votes,
            ranking.three_decimals(r.jury),
            ranking.three_decimals(r.popularity),
            ranking.three_decimals(r.score),
        )
        for r in ranked
    ]


def _criteria_summary(criteria: list[JuryCriterion]) -> list[dict]:
    return [
        {"key": criterion_key(c.id), "name_de": c.name_de, "name_en": c.name_en, "weight": c.weight}
        for c in criteria
    ]


def preview_ranking(challenge: Challenge) -> RankingView:
    """The ranking as it would be frozen now, or the reason it cannot be computed yet.

    Nothing is shown while a seated juror is still at work: staff see no values before
    every juror has submitted, so nobody can be pressed to adjust theirs.
    """
    inputs = ranking_inputs(challenge)
    problem = ranking_problem(inputs)
    rows: list[RankRow] = []
    if problem is None:
        try:
            ranked = ranking.compute_ranking(
                inputs.ideas, inputs.weights, inputs.scores, inputs.alpha, inputs.centering
            )
        except ranking.RankingError:
            problem = _("The ranking cannot be computed from the stored scores.")
        else:
            rows = _rows(ranked, {idea.id: idea.title for idea in inputs.shortlist})
    return RankingView(
        rows, problem, inputs.alpha, inputs.centering, _criteria_summary(inputs.criteria)
    )


def get_snapshot(challenge: Challenge) -> ResultSnapshot | None:
    """The frozen result of the challenge, or None while it is not frozen."""
    return db.session.get(ResultSnapshot, challenge.id)


def frozen_ranking(snapshot: ResultSnapshot) -> RankingView:
    """The ranking exactly as frozen: read from the stored document, not recomputed."""
    document = json.loads(snapshot.document)
    votes = {i["id"]: i["votes"] for i in document["ideas"]}
    titles = {i["id"]: i.get("title", "") for i in document["ideas"]}
    rows = [
        RankRow(
            entry["rank"],
            entry["idea"],
            titles.get(entry["idea"], ""),
            votes.get(entry["idea"], 0),
            ranking.three_decimals(Fraction(entry["jury"])),
            ranking.three_decimals(Fraction(entry["popularity"])),
            entry["score_shown"],
        )
        for entry in document["ranking"]
    ]
    return RankingView(
        rows,
        None,
        Fraction(document["alpha"]),
        bool(document["centering"]),
        document.get("criteria", []),
    )


def build_snapshot(challenge: Challenge, inputs: RankingInputs, frozen_at: datetime) -> dict:
    """The snapshot document: the formula's inputs and ranking, plus readable context.

    The readable fields (titles, criterion names, the moment of freezing) are covered by
    the SHA-256 like everything else; ``verify_snapshot`` recomputes from the inputs alone.
    """
    document = ranking.snapshot_document(
        inputs.ideas, inputs.weights, inputs.scores, inputs.alpha, inputs.centering
    )
    titles = {idea.id: idea.title for idea in inputs.shortlist}
    for entry in document["ideas"]:
        entry["title"] = titles.get(entry["id"], "")
    document["criteria"] = _criteria_summary(inputs.criteria)
    document["challenge"] = {
        "id": challenge.id,
        "title_de": challenge.title_de,
        "title_en": challenge.title_en,
    }
    document["paper_votes_counted"] = bool(challenge.count_paper_votes)
    document["frozen_at"] = _iso_utc(frozen_at)
    return document


def _already_frozen() -> UserError:
    return UserError(_("The results of this challenge are already frozen."), status=409)


def freeze_results(actor, challenge: Challenge) -> ResultSnapshot:
    """Freeze the ranking: store the snapshot and its SHA-256, and lock the challenge.

    The conditional UPDATE of the challenge row comes first: it takes the row lock, so a
    second freeze waits and then finds the challenge frozen, and the inputs are read after
    it, so what is frozen is the latest committed state. The snapshot's primary key is the
    last word should two freezes still meet.
    """
    if not actor.has_role("staff"):
        raise UserError(_("Only staff can freeze results."), status=403)
    if challenge.is_frozen:
        raise _already_frozen()
    if challenge.phase() not in FREEZABLE_PHASES:
        raise UserError(_("Results can only be frozen once voting has closed."), status=409)
    challenge_id, actor_id = challenge.id, actor.id
    frozen_at = now()
    locked = db.session.execute(
        update(Challenge)
        .where(Challenge.id == challenge_id, Challenge.results_frozen_at.is_(None))
        .values(results_frozen_at=frozen_at, updated_at=Challenge.updated_at)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not locked:
        db.session.rollback()
        raise _already_frozen()
    # Settings changed by others until we held the lock count; the session's copy may be older.
    db.session.refresh(challenge)
    inputs = ranking_inputs(challenge)
    problem = ranking_problem(inputs)
    if problem is not None:
        db.session.rollback()
        raise UserError(problem, status=409)
    try:
        document = build_snapshot(challenge, inputs, frozen_at)
    except ranking.RankingError as error:
        db.session.rollback()
        raise UserError(
            _("The ranking cannot be computed from the stored scores."), status=409
        ) from error
    digest = ranking.snapshot_hash(document)
    snapshot = ResultSnapshot(
        challenge_id=challenge_id,
        document=ranking.canonical_json(document).decode("utf-8"),
        sha256=digest,
        frozen_at=frozen_at,
        frozen_by_id=actor_id,
    )
    db.session.add(snapshot)
    record_action(actor, "results.freeze", "challenge", challenge_id, sha256=digest)
    try:
        db.session.commit()
    except IntegrityError as error:
        db.session.rollback()
        raise _already_frozen() from error
    return snapshot


def snapshot_download(snapshot: ResultSnapshot) -> bytes:
    """The file anyone can check: the stored canonical JSON with its "sha256" added."""
    document = json.loads(snapshot.document)
    document["sha256"] = snapshot.sha256
    return ranking.canonical_json(document)
