"""Helpers for the jury and lab project tests (imported by name; pytest does not collect it).

They build state directly with the models, so a test of one step does not depend on the
services of the steps before it.
"""

from dataclasses import dataclass, field
from datetime import timedelta

from testdata import plain as tr  # noqa: F401  (used by the jury tests)
from testdata import says  # noqa: F401

from consult.challenges.models import Challenge
from consult.clock import now
from consult.extensions import db
from consult.ideas.models import Idea
from consult.jury.models import (
    JurorAssignment,
    JuryCriterion,
    JuryReview,
    JuryScore,
    ShortlistEntry,
)
from consult.text import render_markdown
from consult.voting.models import PaperVoteEntry

DAY = timedelta(days=1)

# Freezing's refusal for a shortlisted idea nobody scored: it says what staff can do.
NO_SCORE = (
    '"%(title)s" has no jury score: no juror who submitted has scored it. '
    "Please take it off the shortlist on the jury setup page, then freeze."
)


def tr_n(singular: str, plural: str, num: int, locale: str = "de", **kwargs) -> str:
    """A plural message in ``locale``, placeholders filled, unescaped."""
    from flask_babel import force_locale, ngettext

    with force_locale(locale):
        return ngettext(singular, plural, num, **kwargs)


def says_n(singular: str, plural: str, num: int, locale: str = "de", **kwargs) -> str:
    """A plural message as a page in ``locale`` shows it (escaped)."""
    from markupsafe import escape

    return str(escape(tr_n(singular, plural, num, locale, **kwargs)))


def evaluation_challenge(**settings) -> Challenge:
    """A challenge whose voting closed yesterday; results are due in a week."""
    t = now()
    challenge = Challenge(
        title_de="Grünere Innenstadt",
        title_en="A greener city centre",
        question_de="Wie wird die Innenstadt grüner?",
        question_en="How can the city centre become greener?",
        submission_opens_at=t - 30 * DAY,
        submission_closes_at=t - 15 * DAY,
        voting_opens_at=t - 14 * DAY,
        voting_closes_at=t - DAY,
        results_at=t + 7 * DAY,
        **settings,
    )
    db.session.add(challenge)
    db.session.commit()
    return challenge


def make_idea(challenge, title: str, author=None, submitted_days_ago: int = 20) -> Idea:
    t = now() - submitted_days_ago * DAY
    idea = Idea(
        challenge_id=challenge.id,
        author_id=author.id if author is not None else None,
        title=title,
        body="Mehr Bäume.",
        body_html=render_markdown("Mehr Bäume."),
        language="de",
        status="published",
        submitted_at=t,
        published_at=t,
    )
    db.session.add(idea)
    db.session.commit()
    return idea


def add_votes(idea: Idea, count: int) -> None:
    """Counted votes without accounts: a paper entry (the challenge counts paper votes)."""
    if count:
        db.session.add(PaperVoteEntry(idea_id=idea.id, count=count, event_name="Stadtfest"))
        db.session.commit()


def add_criterion(challenge, name_de: str, name_en: str, weight: int) -> JuryCriterion:
    position = len(criteria_of(challenge))
    criterion = JuryCriterion(
        challenge_id=challenge.id,
        name_de=name_de,
        name_en=name_en,
        weight=weight,
        position=position,
    )
    db.session.add(criterion)
    db.session.commit()
    return criterion


def criteria_of(challenge) -> list[JuryCriterion]:
    return (
        db.session.query(JuryCriterion)
        .filter_by(challenge_id=challenge.id)
        .order_by(JuryCriterion.position, JuryCriterion.id)
        .all()
    )


def shortlist(challenge, ideas, source: str = "votes", reason: str = "") -> None:
    for idea in ideas:
        db.session.add(
            ShortlistEntry(challenge_id=challenge.id, idea_id=idea.id, source=source, reason=reason)
        )
    db.session.commit()


def seat_juror(challenge, user, ideas) -> None:
    """Make ``user`` a juror of ``challenge`` with ``ideas`` assigned to them."""
    db.session.add(JurorAssignment(challenge_id=challenge.id, user_id=user.id))
    for idea in ideas:
        db.session.add(JuryReview(challenge_id=challenge.id, juror_id=user.id, idea_id=idea.id))
    db.session.commit()


def review_of(juror, idea) -> JuryReview:
    return db.session.query(JuryReview).filter_by(juror_id=juror.id, idea_id=idea.id).one()


def give_scores(juror, idea, values: dict[int, int] | None, conflict: bool = False) -> None:
    """Store scores (criterion id -> value) or a conflict, as if the juror had saved them."""
    review = review_of(juror, idea)
    review.conflict = conflict
    review.saved_at = now()
    for criterion_id, value in (values or {}).items():
        db.session.merge(JuryScore(review_id=review.id, criterion_id=criterion_id, value=value))
    db.session.commit()


def mark_submitted(challenge, juror) -> None:
    assignment = db.session.get(JurorAssignment, (challenge.id, juror.id))
    assignment.submitted_at = now()
    db.session.commit()


@dataclass
class JuryWorld:
    """The worked example of DESIGN §5 as data (see tests/jury/test_ranking.py):

    weights impact 2, feasibility 1; alpha 1/2; votes 30, 60, 0; juror x scores
    (8,5), (6,6), (10,10); juror y (6,9), (5,2) and a conflict on idea 3. Expected
    ranking: idea 2 (0.750), idea 1 (0.600), idea 3 (0.500).
    """

    challenge: Challenge
    ideas: list[Idea]
    criteria: list[JuryCriterion]
    jurors: list  # [x, y]
    staff: object
    author: object
    extra: dict = field(default_factory=dict)


def jury_world(make_user, scored: bool = True, submitted: bool = True) -> JuryWorld:
    """A challenge in evaluation with three shortlisted ideas and two jurors.

    ``scored``: the jurors have saved the example's scores; ``submitted``: and submitted.
    """
    challenge = evaluation_challenge(jury_alpha_percent=50)
    staff = make_user(roles=("citizen", "staff"), pseudonym="Stadt Redaktion")
    author = make_user(pseudonym="Ideengeberin")
    ideas = [
        make_idea(challenge, "Bäume am Markt", author=author, submitted_days_ago=22),
        make_idea(challenge, "Trinkbrunnen", submitted_days_ago=21),
        make_idea(challenge, "Grüne Dächer", submitted_days_ago=20),
    ]
    for idea, votes in zip(ideas, (30, 60, 0), strict=True):
        add_votes(idea, votes)
    impact = add_criterion(challenge, "Wirkung", "Impact", 2)
    feasibility = add_criterion(challenge, "Machbarkeit", "Feasibility", 1)
    shortlist(challenge, ideas)
    x = make_user(roles=("citizen", "juror"), pseudonym="Jurorin X")
    y = make_user(roles=("citizen", "juror"), pseudonym="Juror Y")
    seat_juror(challenge, x, ideas)
    seat_juror(challenge, y, ideas)
    if scored:
        for idea, (a, b) in zip(ideas, [(8, 5), (6, 6), (10, 10)], strict=True):
            give_scores(x, idea, {impact.id: a, feasibility.id: b})
        give_scores(y, ideas[0], {impact.id: 6, feasibility.id: 9})
        give_scores(y, ideas[1], {impact.id: 5, feasibility.id: 2})
        give_scores(y, ideas[2], None, conflict=True)
        if submitted:
            mark_submitted(challenge, x)
            mark_submitted(challenge, y)
    return JuryWorld(challenge, ideas, [impact, feasibility], [x, y], staff, author)
