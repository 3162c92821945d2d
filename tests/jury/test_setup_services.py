"""Jury setup services: settings, criteria, the shortlist and the jurors, each audited.

Also home of the helpers the setup view and hostile tests share (``state``, ``audit``).
"""

from datetime import timedelta
from fractions import Fraction

import pytest
from jury_support import (
    add_criterion,
    add_votes,
    evaluation_challenge,
    give_scores,
    jury_world,
    make_idea,
    review_of,
    seat_juror,
    shortlist,
)
from sqlalchemy import select

from consult.audit.models import AuditEntry
from consult.clock import now
from consult.extensions import db
from consult.jury import setup as services
from consult.jury.models import (
    JurorAssignment,
    JuryCriterion,
    JuryReview,
    JuryScore,
    ShortlistEntry,
)
from consult.voting.models import Vote

# --- shared helpers ---------------------------------------------------------------------


def audit(action: str | None = None) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id)
    if action:
        query = query.where(AuditEntry.action == action)
    return list(db.session.scalars(query))


def state(challenge_id: int) -> dict:
    """Everything the setup can change, read afresh from the database."""
    db.session.expire_all()
    from consult.challenges.models import Challenge

    challenge = db.session.get(Challenge, challenge_id)
    rows = lambda model, *order: [  # noqa: E731
        tuple(getattr(r, c.name) for c in model.__table__.columns if c.name != "added_at")
        for r in db.session.scalars(select(model).order_by(*order))
    ]
    return {
        "settings": (
            challenge.jury_alpha_percent,
            challenge.jury_centering,
            challenge.shortlist_size,
        ),
        "criteria": rows(JuryCriterion, JuryCriterion.id),
        "shortlist": rows(ShortlistEntry, ShortlistEntry.idea_id),
        "jurors": [
            (a.challenge_id, a.user_id, a.submitted_at)
            for a in db.session.scalars(select(JurorAssignment).order_by(JurorAssignment.user_id))
        ],
        "reviews": rows(JuryReview, JuryReview.id),
        "scores": rows(JuryScore, JuryScore.review_id, JuryScore.criterion_id),
        "audit": len(audit()),
    }


def voting_challenge():
    """A challenge whose voting is still open (shortlisting must wait)."""
    challenge = evaluation_challenge()
    challenge.voting_closes_at = now() + timedelta(days=2)
    challenge.results_at = now() + timedelta(days=9)
    db.session.commit()
    return challenge


def ideas_with_votes(challenge, counts):
    ideas = []
    for n, count in enumerate(counts):
        idea = make_idea(challenge, f"Idee {n + 1}")
        add_votes(idea, count)
        ideas.append(idea)
    return ideas


@pytest.fixture
def staff(make_user):
    return make_user(roles=("citizen", "staff"), pseudonym="Frau Amt")


@pytest.fixture
def juror(make_user):
    return make_user(roles=("juror",), pseudonym="Jurorin Berg", email="berg@example.org")


# --- settings ---------------------------------------------------------------------------


def test_settings_are_saved_and_audited_with_old_and_new_values(app, staff):
    challenge = evaluation_challenge()
    changed = services.set_jury_settings(staff, challenge, "35", True, "12")
    assert changed == ["jury_alpha_percent", "jury_centering", "shortlist_size"]
    assert state(challenge.id)["settings"] == (35, True, 12)
    [entry] = audit("jury.settings")
    assert entry.actor_id == staff.id and entry.object_id == challenge.id
    assert entry.details["jury_alpha_percent"] == [50, 35]
    assert entry.details["shortlist_size"] == [10, 12]
    # The same values again change nothing and write nothing.
    assert services.set_jury_settings(staff, challenge, 35, True, 12) == []
    assert len(audit("jury.settings")) == 1


@pytest.mark.parametrize("alpha", [0, 100])
def test_alpha_may_be_zero_or_hundred(app, staff, alpha):
    challenge = evaluation_challenge()
    services.set_jury_settings(staff, challenge, alpha, False, 10)
    assert state(challenge.id)["settings"] == (alpha, False, 10)


# --- criteria ---------------------------------------------------------------------------


def test_criteria_are_added_in_order_cleaned_and_audited(app, staff):
    challenge = evaluation_challenge()
    first = services.add_criterion(
        staff, challenge,
        {"name_de": "  Wirkung ", "name_en": "Impact", "description_de": "Was ändert sich?",
         "weight": "2"},
    )  # fmt: skip
    second = services.add_criterion(
        staff, challenge, {"name_de": "Kosten", "name_en": "Cost", "weight": 1}
    )
    assert (first.name_de, first.weight, first.position) == ("Wirkung", 2, 1)
    assert (second.position, second.description_en) == (2, "")
    entries = audit("jury.criterion_create")
    assert [e.details["criterion"] for e in entries] == [first.id, second.id]
    assert entries[0].details["weight"] == 2


def test_update_criterion_changes_texts_weight_and_position(app, staff):
    challenge = evaluation_challenge()
    a = add_criterion(challenge, "Wirkung", "Impact", 2)
    changed = services.update_criterion(
        staff, a,
        {"name_de": "Wirkung", "name_en": "Effect", "description_de": "", "description_en": "",
         "weight": "5", "position": "3"},
    )  # fmt: skip
    assert changed == ["name_en", "position", "weight"]
    db.session.expire_all()
    criterion = db.session.get(JuryCriterion, a.id)
    assert (criterion.name_en, criterion.weight, criterion.position) == ("Effect", 5, 3)
    [entry] = audit("jury.criterion_update")
    assert entry.details["weight"] == [2, 5] and entry.details["criterion"] == a.id


def test_removing_a_criterion_removes_unsubmitted_scores_on_it(make_user, staff):
    world = jury_world(make_user, submitted=False)
    impact, feasibility = world.criteria
    services.remove_criterion(staff, impact)
    assert [c.id for c in services.list_criteria(world.challenge)] == [feasibility.id]
    criteria_scored = set(db.session.scalars(select(JuryScore.criterion_id)))
    assert criteria_scored == {feasibility.id}
    [entry] = audit("jury.criterion_delete")
    assert entry.details == {"criterion": impact.id, "name": "Wirkung", "weight": 2}


# --- the shortlist ----------------------------------------------------------------------


def test_top_n_takes_all_ideas_tied_with_the_last_place_and_skips_ideas_without_votes(app, staff):
    challenge = evaluation_challenge(shortlist_size=3)
    ideas = ideas_with_votes(challenge, [50, 40, 30, 30, 10, 0])
    hidden = make_idea(challenge, "Versteckt")
    add_votes(hidden, 99)
    hidden.status = "hidden"
    db.session.commit()

    result = services.shortlist_top_ideas(staff, challenge)
    assert result.added == [i.id for i in ideas[:4]]
    assert (result.tied_extra, result.cut_votes) == (1, 30)
    entries = db.session.scalars(select(ShortlistEntry)).all()
    assert {e.idea_id for e in entries} == {i.id for i in ideas[:4]}
    assert {(e.source, e.reason, e.added_by_id) for e in entries} == {("votes", "", staff.id)}
    [entry] = audit("jury.shortlist_add")
    assert entry.details["source"] == "votes" and entry.details["tied_extra"] == 1

    # Running it again changes nothing.
    again = services.shortlist_top_ideas(staff, challenge)
    assert again.added == [] and again.chosen == 4
    assert len(audit("jury.shortlist_add")) == 1


def test_top_n_counts_online_votes_and_paper_votes_only_when_the_challenge_says_so(
    app, staff, make_user
):
    challenge = evaluation_challenge(shortlist_size=1, count_paper_votes=False)
    paper, online = ideas_with_votes(challenge, [20, 0])
    for _ in range(2):
        voter = make_user()
        db.session.add(Vote(challenge_id=challenge.id, idea_id=online.id, user_id=voter.id))
    db.session.commit()
    assert services.shortlist_top_ideas(staff, challenge).added == [online.id]


def test_shortlisting_gives_the_idea_to_every_seated_juror(app, staff, juror, make_user):
    challenge = evaluation_challenge(shortlist_size=1)
    other = make_user(roles=("juror",))
    seat_juror(challenge, juror, [])
    seat_juror(challenge, other, [])
    top, picked = ideas_with_votes(challenge, [5, 1])
    services.shortlist_top_ideas(staff, challenge)
    entry = services.pick_for_shortlist(staff, challenge, picked.id, "  Stark im Quartier  ")
    assert (entry.source, entry.reason, entry.added_by_id) == (
        "staff",
        "Stark im Quartier",
        staff.id,
    )
    pairs = set(db.session.execute(select(JuryReview.juror_id, JuryReview.idea_id)).all())
    assert pairs == {(j.id, i.id) for j in (juror, other) for i in (top, picked)}
    last = audit("jury.shortlist_add")[-1]
    assert last.details == {"source": "staff", "ideas": [picked.id], "reason": "Stark im Quartier"}


def test_removing_from_the_shortlist_takes_the_idea_from_jurors_with_saved_scores(make_user, staff):
    world = jury_world(make_user, submitted=False)
    first = world.ideas[0]
    scored_by = set(
        db.session.scalars(
            select(JuryReview.juror_id)
            .join(JuryScore, JuryScore.review_id == JuryReview.id)
            .where(JuryReview.idea_id == first.id)
        )
    )
    assert scored_by  # the world's jurors saved scores on it
    services.remove_from_shortlist(staff, world.challenge, first.id, confirmed=len(scored_by))
    assert [i.id for i in services.shortlisted_ideas(world.challenge)] == [
        world.ideas[1].id,
        world.ideas[2].id,
    ]
    assert first.id not in set(db.session.scalars(select(JuryReview.idea_id)))
    review_ids = set(db.session.scalars(select(JuryReview.id)))
    assert set(db.session.scalars(select(JuryScore.review_id))) <= review_ids
    [entry] = audit("jury.shortlist_remove")
    assert entry.details == {
        "idea": first.id, "source": "votes", "scores_deleted_of": sorted(scored_by),
    }  # fmt: skip


def test_shortlisted_ideas_are_ordered_by_counted_votes_then_id(app):
    challenge = evaluation_challenge()
    a, b, c, d = ideas_with_votes(challenge, [10, 30, 10, 0])
    shortlist(challenge, [a, b, c])
    shortlist(challenge, [d], source="staff", reason="Mutig")
    assert services.shortlisted_ideas(challenge) == [b, a, c, d]
    assert services.shortlisted_ideas(evaluation_challenge()) == []


# --- jurors -----------------------------------------------------------------------------


def test_seat_a_juror_by_email_or_public_name_with_every_shortlisted_idea(
    app, staff, juror, make_user
):
    challenge = evaluation_challenge()
    ideas = ideas_with_votes(challenge, [3, 2])
    shortlist(challenge, ideas)
    assert services.seat_juror(staff, challenge, "  BERG@example.org ") == juror
    other = make_user(roles=("citizen", "juror"), pseudonym="Herr Tal")
    assert services.seat_juror(staff, challenge, "herr   TAL") == other
    seats = db.session.scalars(select(JurorAssignment)).all()
    assert {(s.user_id, s.assigned_by_id, s.submitted_at) for s in seats} == {
        (juror.id, staff.id, None),
        (other.id, staff.id, None),
    }
    assert review_of(juror, ideas[1]).conflict is False
    entries = audit("jury.juror_assign")
    assert entries[0].details == {
        "juror": juror.id,
        "name": "Jurorin Berg",
        "ideas": sorted(i.id for i in ideas),
    }


def test_unseat_a_juror_removes_their_unsubmitted_work(make_user, staff):
    world = jury_world(make_user, submitted=False)
    x, y = world.jurors
    services.unseat_juror(staff, world.challenge, x.id)
    assert [s.user_id for s in db.session.scalars(select(JurorAssignment))] == [y.id]
    assert set(db.session.scalars(select(JuryReview.juror_id))) == {y.id}
    review_ids = set(db.session.scalars(select(JuryReview.id)))
    assert set(db.session.scalars(select(JuryScore.review_id))) == review_ids - {
        review_of(y, world.ideas[2]).id  # y's conflict: no scores
    }
    [entry] = audit("jury.juror_remove")
    assert entry.details == {"juror": x.id}


def test_set_juror_ideas_takes_ideas_away_and_gives_them_back(make_user, staff):
    world = jury_world(make_user, scored=False)
    x = world.jurors[0]
    a, b, c = world.ideas
    give_scores(x, c, {world.criteria[0].id: 7})
    assert services.set_juror_ideas(staff, world.challenge, x.id, [a.id]) == ([], [b.id, c.id])
    mine = set(db.session.scalars(select(JuryReview.idea_id).where(JuryReview.juror_id == x.id)))
    assert mine == {a.id}
    assert services.set_juror_ideas(staff, world.challenge, x.id, [a.id, c.id]) == ([c.id], [])
    # A given-back idea starts afresh: the scores saved before are gone.
    assert (
        db.session.scalars(select(JuryScore).where(JuryScore.review_id == review_of(x, c).id)).all()
        == []
    )
    entries = audit("jury.juror_assign")
    assert [e.details for e in entries] == [
        {"juror": x.id, "given": [], "taken": [b.id, c.id]},
        {"juror": x.id, "given": [c.id], "taken": []},
    ]
    assert services.set_juror_ideas(staff, world.challenge, x.id, [a.id, c.id]) == ([], [])
    assert len(audit("jury.juror_assign")) == 2


# --- the page's data --------------------------------------------------------------------


def test_setup_view_has_shares_candidates_and_available_jurors(make_user, staff):
    world = jury_world(make_user, submitted=False)
    spare = make_idea(world.challenge, "Noch eine Idee")
    add_votes(spare, 4)
    free = make_user(roles=("juror",), pseudonym="Freie Jurorin")
    make_user(roles=("juror",), pseudonym="Gelöscht").deleted_at = now()
    db.session.commit()
    view = services.jury_setup_view(world.challenge)
    assert [line.share for line in view.criteria] == [Fraction(2, 3), Fraction(1, 3)]
    assert view.total_weight == 3
    assert [(line.idea.id, line.votes) for line in view.shortlist] == [
        (world.ideas[1].id, 60),
        (world.ideas[0].id, 30),
        (world.ideas[2].id, 0),
    ]
    assert [(idea.id, votes) for idea, votes in view.candidates] == [(spare.id, 4)]
    assert [line.user.id for line in view.jurors] == [world.jurors[1].id, world.jurors[0].id]
    assert all(line.idea_ids == {i.id for i in world.ideas} for line in view.jurors)
    assert view.available == [free]
    assert (view.locked, view.frozen, view.shortlist_open, view.any_submitted) == (
        None,
        False,
        True,
        False,
    )
