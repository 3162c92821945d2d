"""Scoring services: saving, conflicts, submitting, and what each juror may see."""

from fractions import Fraction

import pytest
from jury_support import add_criterion, give_scores, jury_world, review_of
from sqlalchemy import select

from consult.audit.models import AuditEntry
from consult.errors import UserError
from consult.extensions import db
from consult.jury import scoring
from consult.jury.models import JurorAssignment, JuryReview, JuryScore


def scores_of(juror, idea) -> dict[int, int]:
    db.session.expire_all()
    review = review_of(juror, idea)
    return {
        s.criterion_id: s.value
        for s in db.session.scalars(select(JuryScore).where(JuryScore.review_id == review.id))
    }


def test_save_scores_replaces_the_jurors_scores_and_note(make_user):
    world = jury_world(make_user, scored=False)
    x, idea = world.jurors[0], world.ideas[0]
    impact, feasibility = world.criteria
    scoring.save_scores(x, world.challenge, idea.id, {impact.id: "8", feasibility.id: " 5 "}, "ok")
    assert scores_of(x, idea) == {impact.id: 8, feasibility.id: 5}
    scoring.save_scores(x, world.challenge, idea.id, {str(impact.id): "0", feasibility.id: "10"})
    assert scores_of(x, idea) == {impact.id: 0, feasibility.id: 10}
    review = review_of(x, idea)
    assert review.note == "" and review.saved_at is not None
    item = scoring.juror_review(x, world.challenge, idea.id)
    assert item.state == scoring.SCORED and item.values == {impact.id: 0, feasibility.id: 10}


def test_score_audit_names_the_idea_but_never_values_or_notes(make_user):
    world = jury_world(make_user, scored=False)
    x, idea = world.jurors[0], world.ideas[1]
    impact, feasibility = world.criteria
    scoring.save_scores(
        x, world.challenge, idea.id, {impact.id: "7", feasibility.id: "3"}, "streng geheim"
    )
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "jury.score"))
    assert (entry.actor_id, entry.object_type, entry.object_id) == (x.id, "idea", idea.id)
    assert entry.details == {"challenge": world.challenge.id}
    assert "7" not in str(entry.details.values()) and "geheim" not in str(entry.details)


def test_declaring_a_conflict_deletes_saved_scores_and_can_be_withdrawn(make_user):
    world = jury_world(make_user, scored=False)
    x, idea = world.jurors[0], world.ideas[0]
    impact, feasibility = world.criteria
    give_scores(x, idea, {impact.id: 4, feasibility.id: 4})
    scoring.declare_conflict(x, world.challenge, idea.id)
    assert scores_of(x, idea) == {}
    assert review_of(x, idea).conflict is True
    assert scoring.juror_review(x, world.challenge, idea.id).state == scoring.CONFLICT
    scoring.withdraw_conflict(x, world.challenge, idea.id)
    assert review_of(x, idea).conflict is False
    assert scoring.juror_review(x, world.challenge, idea.id).state == scoring.OPEN
    actions = db.session.scalars(
        select(AuditEntry.details).where(AuditEntry.action == "jury.conflict")
    ).all()
    assert [a["declared"] for a in actions] == [True, False]


def test_submit_requires_every_idea_scored_or_declared(make_user):
    world = jury_world(make_user, scored=False)
    x = world.jurors[0]
    impact, feasibility = world.criteria
    give_scores(x, world.ideas[0], {impact.id: 5, feasibility.id: 5})
    with pytest.raises(UserError) as refused:
        scoring.submit_scores(x, world.challenge)
    assert refused.value.status == 409
    assert "Trinkbrunnen" in refused.value.message and "Grüne Dächer" in refused.value.message
    assert "Bäume am Markt" not in refused.value.message
    give_scores(x, world.ideas[1], {impact.id: 6, feasibility.id: 6})
    scoring.declare_conflict(x, world.challenge, world.ideas[2].id)
    seat = scoring.submit_scores(x, world.challenge)
    assert seat.submitted_at is not None
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "jury.submit"))
    assert entry.object_id == world.challenge.id
    assert sorted(entry.details["ideas"]) == sorted(i.id for i in world.ideas)


def test_a_criterion_added_after_saving_reopens_the_idea(make_user):
    world = jury_world(make_user, scored=False)
    x = world.jurors[0]
    impact, feasibility = world.criteria
    for idea in world.ideas:
        give_scores(x, idea, {impact.id: 5, feasibility.id: 5})
    add_criterion(world.challenge, "Kosten", "Cost", 1)
    overview = scoring.juror_overview(x, world.challenge)
    assert [item.state for item in overview.items] == [scoring.OPEN] * 3
    assert not overview.can_submit


def test_after_submitting_nothing_of_the_juror_changes(make_user):
    world = jury_world(make_user)  # scored and submitted
    x, idea = world.jurors[0], world.ideas[0]
    impact, feasibility = world.criteria
    before = scores_of(x, idea)
    for action in (
        lambda: scoring.save_scores(x, world.challenge, idea.id, {impact.id: 1, feasibility.id: 1}),
        lambda: scoring.declare_conflict(x, world.challenge, idea.id),
        lambda: scoring.withdraw_conflict(x, world.challenge, world.ideas[2].id),
        lambda: scoring.submit_scores(x, world.challenge),
    ):
        with pytest.raises(UserError) as refused:
            action()
        assert refused.value.status == 409
    assert scores_of(x, idea) == before


def test_overview_and_review_hold_only_the_jurors_own_work(make_user):
    world = jury_world(make_user, scored=True, submitted=False)
    x, y = world.jurors
    overview = scoring.juror_overview(x, world.challenge)
    reviews = {item.review.juror_id for item in overview.items}
    assert reviews == {x.id}
    assert [item.state for item in overview.items] == [scoring.SCORED] * 3
    assert overview.can_submit
    # y declared a conflict on idea 3; x's view of idea 3 does not show it
    item = scoring.juror_review(x, world.challenge, world.ideas[2].id)
    assert item.state == scoring.SCORED and item.review.juror_id == x.id


def test_list_jury_work_counts_done_ideas(make_user):
    world = jury_world(make_user, scored=False)
    x = world.jurors[0]
    impact, feasibility = world.criteria
    give_scores(x, world.ideas[0], {impact.id: 5, feasibility.id: 5})
    give_scores(x, world.ideas[1], None, conflict=True)
    [line] = scoring.list_jury_work(x)
    assert (line.challenge.id, line.assigned, line.done, line.submitted_at) == (
        world.challenge.id, 3, 2, None,
    )  # fmt: skip
    assert scoring.list_jury_work(world.staff) == []


def test_progress_hides_values_until_every_juror_submitted(make_user):
    world = jury_world(make_user, scored=True, submitted=False)
    x, y = world.jurors
    progress = scoring.jury_progress(world.challenge)
    assert not progress.all_submitted and progress.values == {}
    assert all(line.mean is None and not line.juror_values for line in progress.ideas)
    lines = {line.juror.id: line for line in progress.jurors}
    assert (lines[x.id].assigned, lines[x.id].scored, lines[x.id].conflicts) == (3, 3, 0)
    assert (lines[y.id].assigned, lines[y.id].scored, lines[y.id].conflicts) == (3, 2, 1)
    ideas = {line.idea.id: line for line in progress.ideas}
    assert (ideas[world.ideas[2].id].scored, ideas[world.ideas[2].id].conflicts) == (1, 1)

    scoring.submit_scores(x, world.challenge)
    assert scoring.jury_progress(world.challenge).values == {}
    scoring.submit_scores(y, world.challenge)
    progress = scoring.jury_progress(world.challenge)
    assert progress.all_submitted
    means = {line.idea.id: line.mean for line in progress.ideas}
    # DESIGN §5 example: J = (0.7 + 0.7)/2, (0.6 + 0.4)/2, 1.0 (y declared a conflict)
    assert means == {
        world.ideas[0].id: Fraction(7, 10),
        world.ideas[1].id: Fraction(1, 2),
        world.ideas[2].id: Fraction(1),
    }
    impact, feasibility = world.criteria
    assert progress.values[y.id][world.ideas[0].id] == {impact.id: 6, feasibility.id: 9}
    assert world.ideas[2].id not in progress.values[y.id]


def test_removed_from_the_shortlist_means_no_longer_assigned(make_user):
    from consult.jury.models import ShortlistEntry

    world = jury_world(make_user, scored=False)
    x, idea = world.jurors[0], world.ideas[0]
    db.session.delete(db.session.get(ShortlistEntry, (world.challenge.id, idea.id)))
    db.session.commit()
    with pytest.raises(UserError) as refused:
        scoring.juror_review(x, world.challenge, idea.id)
    assert refused.value.status == 404
    assert len(scoring.juror_overview(x, world.challenge).items) == 2


def test_a_juror_whose_role_was_revoked_loses_access(make_user):
    world = jury_world(make_user, scored=False)
    x = world.jurors[0]
    x.role_grants = [g for g in x.role_grants if g.role != "juror"]
    db.session.commit()
    with pytest.raises(UserError) as refused:
        scoring.juror_overview(x, world.challenge)
    assert refused.value.status == 403
    assert db.session.get(JurorAssignment, (world.challenge.id, x.id)) is not None
    assert db.session.scalar(select(JuryReview).where(JuryReview.juror_id == x.id)) is not None
