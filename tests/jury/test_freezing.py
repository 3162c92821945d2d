"""Ranking from the database, the preview, and freezing it into a snapshot (services)."""

import json
import threading
from datetime import timedelta
from fractions import Fraction as F

import pytest
from flask_babel import force_locale
from jury_support import (
    DAY,
    NO_SCORE,
    add_criterion,
    evaluation_challenge,
    give_scores,
    jury_world,
    make_idea,
    mark_submitted,
    seat_juror,
    shortlist,
    tr,
)
from sqlalchemy import func, select

from consult.accounts.models import User
from consult.audit.models import AuditEntry
from consult.challenges.models import Challenge
from consult.clock import now
from consult.errors import UserError
from consult.extensions import db
from consult.jury import freezing, ranking
from consult.jury.models import JurorAssignment, ResultSnapshot
from consult.voting.models import Vote

PENDING = ("%(num)d juror has not submitted their scores yet.",
           "%(num)d jurors have not submitted their scores yet.")  # fmt: skip


def pending_text(num: int, locale: str = "de") -> str:
    from flask_babel import ngettext

    with force_locale(locale):
        return ngettext(*PENDING, num)


def state(challenge_id: int) -> dict:
    """What a refused freeze must leave as it was."""
    db.session.expire_all()
    return {
        "snapshots": db.session.scalar(select(func.count()).select_from(ResultSnapshot)),
        "frozen_at": db.session.get(Challenge, challenge_id).results_frozen_at,
        "audit": db.session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "results.freeze")
        ),
    }


def refused(world_or_challenge, actor, text: str, status: int = 409, **kwargs) -> None:
    challenge = getattr(world_or_challenge, "challenge", world_or_challenge)
    before = state(challenge.id)
    with pytest.raises(UserError) as caught:
        freezing.freeze_results(actor, db.session.get(Challenge, challenge.id))
    assert caught.value.status == status
    assert caught.value.message == text
    assert state(challenge.id) == before


# --- inputs from the database ---------------------------------------------------------------


def test_ranking_inputs_are_the_worked_example(app, make_user):
    world = jury_world(make_user)
    impact, feasibility = world.criteria
    one, two, three = world.ideas
    inputs = freezing.ranking_inputs(world.challenge)
    ki, kf = f"c{impact.id}", f"c{feasibility.id}"
    assert inputs.weights == {ki: F(2), kf: F(1)}
    assert inputs.alpha == F(1, 2) and inputs.centering is False
    assert [(i.id, i.votes) for i in inputs.ideas] == [(one.id, 30), (two.id, 60), (three.id, 0)]
    # Fixed-width UTC text, so that the tie-break compares instants.
    assert inputs.ideas[0].submitted_at < inputs.ideas[1].submitted_at
    assert all(i.submitted_at.endswith("Z") and len(i.submitted_at) == 27 for i in inputs.ideas)
    # Juror x was seated first; y's conflict on idea 3 leaves no score there.
    assert inputs.scores == {
        "0000": {one.id: {ki: 8, kf: 5}, two.id: {ki: 6, kf: 6}, three.id: {ki: 10, kf: 10}},
        "0001": {one.id: {ki: 6, kf: 9}, two.id: {ki: 5, kf: 2}},
    }
    assert inputs.pending_jurors == 0 and freezing.ranking_problem(inputs) is None


def test_only_submitted_jurors_count_and_online_votes_add_up(app, make_user):
    world = jury_world(make_user, submitted=False)
    mark_submitted(world.challenge, world.jurors[1])  # y only
    voter = make_user()
    db.session.add(
        Vote(challenge_id=world.challenge.id, idea_id=world.ideas[2].id, user_id=voter.id)
    )
    db.session.commit()
    inputs = freezing.ranking_inputs(world.challenge)
    assert list(inputs.scores) == ["0000"]
    assert set(inputs.scores["0000"]) == {world.ideas[0].id, world.ideas[1].id}
    assert inputs.pending_jurors == 1
    assert [i.votes for i in inputs.ideas] == [30, 60, 1]


def test_paper_votes_are_left_out_when_the_challenge_does_not_count_them(app, make_user):
    world = jury_world(make_user)
    world.challenge.count_paper_votes = False
    db.session.commit()
    assert [i.votes for i in freezing.ranking_inputs(world.challenge).ideas] == [0, 0, 0]


def test_alpha_and_centering_come_from_the_challenge(app, make_user):
    world = jury_world(make_user)
    world.challenge.jury_alpha_percent = 70
    world.challenge.jury_centering = True
    db.session.commit()
    inputs = freezing.ranking_inputs(world.challenge)
    assert inputs.alpha == F(7, 10) and inputs.centering is True
    view = freezing.preview_ranking(world.challenge)
    assert view.alpha_percent == "70" and view.votes_percent == "30"
    expected = ranking.compute_ranking(inputs.ideas, inputs.weights, inputs.scores, F(7, 10), True)
    assert [r.idea_id for r in view.rows] == [r.id for r in expected]


# --- the preview ----------------------------------------------------------------------------


def test_preview_is_the_worked_example_with_three_decimals(app, make_user):
    world = jury_world(make_user)
    view = freezing.preview_ranking(world.challenge)
    assert view.problem is None
    one, two, three = world.ideas
    assert [(r.rank, r.idea_id, r.title, r.votes, r.jury, r.popularity, r.score)
            for r in view.rows] == [
        (1, two.id, "Trinkbrunnen", 60, "0.500", "1.000", "0.750"),
        (2, one.id, "Bäume am Markt", 30, "0.700", "0.500", "0.600"),
        (3, three.id, "Grüne Dächer", 0, "1.000", "0.000", "0.500"),
    ]  # fmt: skip
    assert [c["weight"] for c in view.criteria] == [2, 1]


def test_preview_says_why_there_is_no_ranking_yet(app, make_user):
    challenge = evaluation_challenge()
    assert freezing.preview_ranking(challenge).problem == tr("The jury has no criteria yet.")
    criterion = add_criterion(challenge, "Wirkung", "Impact", 1)
    assert freezing.preview_ranking(challenge).problem == tr("The shortlist is empty.")
    idea = make_idea(challenge, "Parklets")
    shortlist(challenge, [idea])
    # Without jurors, nobody could score it: no advice to take it off the shortlist.
    assert freezing.preview_ranking(challenge).problem == tr("No jurors are on the jury yet.")
    juror = make_user(roles=("citizen", "juror"))
    seat_juror(challenge, juror, [idea])
    view = freezing.preview_ranking(challenge)
    # No values while a juror is still at work.
    assert view.problem == pending_text(1) and view.rows == []
    give_scores(juror, idea, None, conflict=True)
    mark_submitted(challenge, juror)
    assert freezing.preview_ranking(challenge).problem == tr(NO_SCORE, title="Parklets")
    other = make_user(roles=("citizen", "juror"))
    seat_juror(challenge, other, [idea])
    give_scores(other, idea, {criterion.id: 7})
    mark_submitted(challenge, other)
    view = freezing.preview_ranking(challenge)
    assert view.problem is None and [r.jury for r in view.rows] == ["0.700"]


def test_a_submitted_score_set_without_a_criterion_is_reported(app, make_user):
    world = jury_world(make_user)
    add_criterion(world.challenge, "Kosten", "Cost", 1)  # added behind the jury's back
    view = freezing.preview_ranking(world.challenge)
    assert view.problem == tr(
        'The jury scores of "%(title)s" lack a criterion.', title="Bäume am Markt"
    )
    refused(world, world.staff, view.problem)


# --- freezing -------------------------------------------------------------------------------


def test_freezing_the_worked_example(app, make_user):
    world = jury_world(make_user)
    snapshot = freezing.freeze_results(world.staff, world.challenge)
    db.session.expire_all()
    challenge = db.session.get(Challenge, world.challenge.id)
    assert challenge.is_frozen and challenge.results_frozen_at == snapshot.frozen_at
    assert snapshot.frozen_by_id == world.staff.id
    document = json.loads(snapshot.document)
    # The stored text is exactly the hashed canonical JSON.
    assert snapshot.document.encode() == ranking.canonical_json(document)
    assert snapshot.sha256 == ranking.snapshot_hash(document)
    one, two, three = world.ideas
    assert [(e["idea"], e["score_shown"]) for e in document["ranking"]] == [
        (two.id, "0.750"), (one.id, "0.600"), (three.id, "0.500"),
    ]  # fmt: skip
    assert document["formula_version"] == ranking.FORMULA_VERSION
    assert document["alpha"] == "1/2" and document["centering"] is False
    # Jurors appear under pseudonyms only; the private notes and names never.
    assert set(document["scores"]) == {"Juror A", "Juror B"}
    text = snapshot.document
    for juror in world.jurors:
        assert juror.pseudonym not in text and juror.email not in text
    # Readable context, covered by the hash but not needed to recompute.
    assert [(c["name_de"], c["name_en"], c["weight"]) for c in document["criteria"]] == [
        ("Wirkung", "Impact", 2), ("Machbarkeit", "Feasibility", 1),
    ]  # fmt: skip
    assert [i["title"] for i in document["ideas"]] == [
        "Bäume am Markt",
        "Trinkbrunnen",
        "Grüne Dächer",
    ]
    assert document["challenge"]["title_de"] == "Grünere Innenstadt"
    assert ranking.verify_snapshot(document) == []
    assert ranking.verify_snapshot({**document, "sha256": snapshot.sha256}) == []
    # A readable field changed is caught by the hash.
    retitled = {**document, "criteria": [], "sha256": snapshot.sha256}
    assert "SHA-256" in ranking.verify_snapshot(retitled)[0]
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "results.freeze")
    ).one()
    assert entry.actor_id == world.staff.id and entry.object_id == challenge.id
    assert entry.details == {"sha256": snapshot.sha256}


def test_the_worked_example_gives_the_same_document_on_every_database(app, make_user):
    """Ids and timestamps differ between runs; everything else, and so the hash, may not."""
    world = jury_world(make_user)
    snapshot = freezing.freeze_results(world.staff, world.challenge)
    document = json.loads(snapshot.document)
    ids = {idea.id: n for n, idea in enumerate(world.ideas, start=1)}
    keys = {f"c{c.id}": f"c{n}" for n, c in enumerate(world.criteria, start=1)}
    for n, idea in enumerate(document["ideas"]):
        idea["id"], idea["submitted_at"] = ids[idea["id"]], f"2026-05-0{n + 1}T10:00:00.000000Z"
    for entry in document["ranking"]:
        entry["idea"] = ids[entry["idea"]]
    document["weights"] = {keys[k]: v for k, v in document["weights"].items()}
    for criterion in document["criteria"]:
        criterion["key"] = keys[criterion["key"]]
    document["scores"] = {
        juror: {str(ids[int(i)]): {keys[k]: v for k, v in s.items()} for i, s in by_idea.items()}
        for juror, by_idea in document["scores"].items()
    }
    document["challenge"]["id"] = 1
    document["frozen_at"] = "2026-06-01T12:00:00.000000Z"
    assert ranking.verify_snapshot(document) == []
    assert ranking.snapshot_hash(document) == (
        "524194497af3071cc23961c7f563730ff509e516b09eeeeb90b9a4f100e7ae1d"
    )


def test_only_staff_freeze(app, make_user):
    world = jury_world(make_user)
    refused(world, world.jurors[0], tr("Only staff can freeze results."), status=403)


def test_freezing_twice_is_refused(app, make_user):
    world = jury_world(make_user)
    first = freezing.freeze_results(world.staff, world.challenge)
    refused(world, world.staff, tr("The results of this challenge are already frozen."))
    assert db.session.get(ResultSnapshot, world.challenge.id).sha256 == first.sha256


def test_freezing_while_voting_runs_is_refused(app, make_user):
    world = jury_world(make_user)
    world.challenge.voting_closes_at = now() + DAY
    db.session.commit()
    refused(world, world.staff, tr("Results can only be frozen once voting has closed."))


def test_freezing_with_a_juror_still_at_work_names_how_many(app, make_user):
    world = jury_world(make_user, submitted=False)
    refused(world, world.staff, pending_text(2))
    mark_submitted(world.challenge, world.jurors[0])
    refused(world, world.staff, pending_text(1))
    with force_locale("en"):
        refused(world, world.staff, pending_text(1, "en"))


def test_freezing_with_an_unscored_idea_names_it(app, make_user):
    world = jury_world(make_user)
    late = make_idea(world.challenge, "Blühstreifen")
    shortlist(world.challenge, [late], source="staff", reason="Jury wish")
    refused(world, world.staff, tr(NO_SCORE, title="Blühstreifen"))


def test_freezing_without_criteria_or_shortlist_is_refused(app, make_user):
    staff = make_user(roles=("citizen", "staff"))
    challenge = evaluation_challenge()
    refused(challenge, staff, tr("The jury has no criteria yet."))
    add_criterion(challenge, "Wirkung", "Impact", 1)
    refused(challenge, staff, tr("The shortlist is empty."))
    with force_locale("en"):
        refused(challenge, staff, tr("The shortlist is empty.", "en"))


def test_freezing_after_the_results_date_still_works(app, make_user):
    world = jury_world(make_user)
    world.challenge.results_at = now() - timedelta(hours=1)
    db.session.commit()
    assert world.challenge.phase() == "results"
    assert freezing.freeze_results(world.staff, world.challenge).sha256


def test_snapshot_download_carries_its_hash_and_verifies(app, make_user):
    world = jury_world(make_user)
    snapshot = freezing.freeze_results(world.staff, world.challenge)
    published = json.loads(freezing.snapshot_download(snapshot))
    assert published["sha256"] == snapshot.sha256
    assert ranking.verify_snapshot(published) == []
    published["ideas"][1]["votes"] = 61
    assert "SHA-256" in ranking.verify_snapshot(published)[0]


@pytest.mark.postgres_only
def test_two_staff_freezing_at_once_make_one_snapshot(app, make_user):
    world = jury_world(make_user)
    other = make_user(roles=("citizen", "staff"))
    staff_ids, challenge_id = [world.staff.id, other.id], world.challenge.id
    barrier = threading.Barrier(2)
    outcomes = []

    def freeze(user_id: int):
        with app.app_context():
            try:
                user = db.session.get(User, user_id)
                challenge = db.session.get(Challenge, challenge_id)
                barrier.wait(timeout=30)
                outcomes.append(freezing.freeze_results(user, challenge).sha256)
            except UserError as error:
                outcomes.append((error.status, error.message))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=freeze, args=(uid,)) for uid in staff_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    db.session.expire_all()
    stored = db.session.scalars(select(ResultSnapshot)).all()
    assert len(stored) == 1
    assert sorted(outcomes, key=str) == sorted(
        [stored[0].sha256, (409, tr("The results of this challenge are already frozen."))],
        key=str,
    )
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "results.freeze")
        )
        == 1
    )
    assert db.session.get(Challenge, challenge_id).results_frozen_at == stored[0].frozen_at


def test_pseudonyms_follow_the_seating_order(app, make_user):
    """Pseudonyms follow seating order, not ids or names."""
    world = jury_world(make_user)
    x, y = world.jurors
    # Seat y earlier than x: y becomes Juror A.
    db.session.get(JurorAssignment, (world.challenge.id, y.id)).assigned_at = now() - 3 * DAY
    db.session.commit()
    document = json.loads(freezing.freeze_results(world.staff, world.challenge).document)
    # y scored two ideas (conflict on the third), x all three.
    assert len(document["scores"]["Juror A"]) == 2 and len(document["scores"]["Juror B"]) == 3


# --- an idea nobody could score, and a hidden idea ----------------------------------------


def test_an_idea_every_juror_declined_can_be_taken_off_the_shortlist_and_then_frozen(
    app, make_user
):
    """Both jurors declare a conflict on idea 3 and submit: freezing says what to do,
    the late removal is allowed (and audited), and then freezing works."""
    from consult.audit.models import AuditEntry
    from consult.jury import scoring, setup

    world = jury_world(make_user, submitted=False)
    x, y = world.jurors
    one, two, three = world.ideas
    scoring.declare_conflict(x, world.challenge, three.id)
    for juror in (x, y):
        scoring.submit_scores(juror, db.session.get(Challenge, world.challenge.id))
    refused(world, world.staff, tr(NO_SCORE, title="Grüne Dächer"))

    assert setup.remove_from_shortlist(world.staff, fresh(world), three.id, confirmed=0).late
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "jury.shortlist_remove")
    ).one()
    assert entry.actor_id == world.staff.id
    assert entry.details == {"idea": three.id, "source": "votes", "after_submission": True}

    snapshot = freezing.freeze_results(world.staff, fresh(world))
    document = json.loads(snapshot.document)
    assert [e["idea"] for e in document["ranking"]] == [two.id, one.id]


def test_an_idea_a_submitted_juror_scored_stays_on_the_shortlist(app, make_user):
    from consult.jury import setup
    from consult.jury.models import ShortlistEntry

    world = jury_world(make_user, submitted=False)
    mark_submitted(world.challenge, world.jurors[0])  # x scored every idea
    for locale in ("de", "en"):
        with force_locale(locale), pytest.raises(UserError) as caught:
            setup.remove_from_shortlist(world.staff, fresh(world), world.ideas[2].id)
        assert caught.value.status == 409
        assert caught.value.message == tr(
            "A juror has already submitted scores for this idea, so it stays on the shortlist.",
            locale,
        )
    assert db.session.scalar(select(func.count()).select_from(ShortlistEntry)) == 3
    assert state(world.challenge.id)["audit"] == 0


def test_a_shortlisted_idea_hidden_later_keeps_its_votes(app, make_user):
    world = jury_world(make_user)
    world.ideas[1].status = "hidden"  # the one with 60 votes
    db.session.commit()
    one, two, three = world.ideas
    inputs = freezing.ranking_inputs(fresh(world))
    assert [(i.id, i.votes) for i in inputs.ideas] == [(one.id, 30), (two.id, 60), (three.id, 0)]
    view = freezing.preview_ranking(fresh(world))
    assert [(r.idea_id, r.score) for r in view.rows] == [
        (two.id, "0.750"), (one.id, "0.600"), (three.id, "0.500"),
    ]  # fmt: skip


def fresh(world) -> Challenge:
    return db.session.get(Challenge, world.challenge.id)
