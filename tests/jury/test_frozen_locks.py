"""After freezing, scores, votes and settings of the challenge stay as frozen: every attempt
to change them is refused with 409, says why in the user's language, and changes nothing."""

from datetime import timedelta

import pytest
from flask_babel import force_locale
from jury_support import jury_world, review_of, says, tr
from sqlalchemy import func, select

from consult.audit.models import AuditEntry
from consult.challenges import services as challenges
from consult.challenges.models import Challenge
from consult.clock import now
from consult.errors import UserError
from consult.extensions import db
from consult.jury import freezing, locks, scoring, setup
from consult.jury.models import JuryCriterion, JuryReview, JuryScore, ResultSnapshot
from consult.voting import services as voting
from consult.voting.models import Ballot, PaperVoteEntry, Vote

FROZEN = (
    "The results of this challenge are frozen: scores, votes and settings can no longer change."
)
FROZEN_SETTINGS = (
    "The results of this challenge are frozen: its settings and the dates of "
    "submission and voting can no longer change."
)


def everything() -> dict:
    """Every row a lock protects, and the challenge's settings."""
    db.session.expire_all()

    def count(model):
        return db.session.scalar(select(func.count()).select_from(model))

    challenge = db.session.scalars(select(Challenge)).one()
    return {
        "votes": count(Vote),
        "ballots": sorted(db.session.execute(select(Ballot.user_id, Ballot.used)).all()),
        "paper": sorted(db.session.execute(select(PaperVoteEntry.idea_id, PaperVoteEntry.count))),
        "scores": sorted(
            db.session.execute(
                select(JuryScore.review_id, JuryScore.criterion_id, JuryScore.value)
            ).all()
        ),
        "reviews": sorted(
            db.session.execute(select(JuryReview.id, JuryReview.conflict, JuryReview.note)).all()
        ),
        "criteria": sorted(
            db.session.execute(
                select(JuryCriterion.id, JuryCriterion.weight, JuryCriterion.name_de)
            ).all()
        ),
        "audit": count(AuditEntry),
        "snapshot": db.session.scalars(select(ResultSnapshot.sha256)).all(),
        "challenge": {
            c.key: getattr(challenge, c.key)
            for c in Challenge.__table__.columns
            if c.key != "updated_at"
        },
    }


def refused(action, text: str = FROZEN, locale: str = "de", field: str | None = None) -> None:
    before = everything()
    with force_locale(locale), pytest.raises(UserError) as caught:
        action()
    assert caught.value.status == 409
    assert caught.value.message == tr(text, locale)
    if field is not None:
        assert caught.value.field == field
    assert everything() == before


@pytest.fixture
def frozen(app, make_user):
    """The worked example, frozen through the real service; one citizen voted for idea 1."""
    world = jury_world(make_user)
    voter = make_user(pseudonym="Wählerin")
    db.session.add(
        Vote(challenge_id=world.challenge.id, idea_id=world.ideas[0].id, user_id=voter.id)
    )
    db.session.add(Ballot(challenge_id=world.challenge.id, user_id=voter.id, used=1))
    db.session.commit()
    freezing.freeze_results(world.staff, world.challenge)
    db.session.expire_all()
    world.extra["voter"] = voter
    return world


def fresh(world) -> Challenge:
    return db.session.get(Challenge, world.challenge.id)


# --- votes ----------------------------------------------------------------------------------


def test_casting_a_vote_is_refused(frozen, make_user):
    citizen = make_user()
    refused(lambda: voting.cast_vote(citizen, fresh(frozen), frozen.ideas[1].id))


def test_casting_is_refused_even_if_voting_were_reopened(frozen, make_user):
    # Voting dates cannot move after freezing; should the row say otherwise, the freeze wins.
    db.session.execute(
        Challenge.__table__.update().values(voting_closes_at=now() + timedelta(days=1))
    )
    db.session.commit()
    assert fresh(frozen).voting_open()
    citizen = make_user()
    refused(lambda: voting.cast_vote(citizen, fresh(frozen), frozen.ideas[1].id), locale="en")


def test_withdrawing_a_vote_is_refused(frozen):
    voter = frozen.extra["voter"]
    refused(lambda: voting.withdraw_vote(voter, fresh(frozen), frozen.ideas[0].id))


def test_entering_paper_votes_is_refused(frozen):
    idea = frozen.ideas[2]
    refused(lambda: voting.enter_paper_votes(frozen.staff, idea, 5, "Nachzügler"))
    refused(lambda: voting.enter_paper_votes(frozen.staff, idea, -1, "Korrektur"), locale="en")


def test_entering_a_paper_sheet_is_refused(frozen, client, login):
    idea = frozen.ideas[2]
    refused(
        lambda: voting.enter_paper_vote_sheet(
            frozen.staff, fresh(frozen), "Nachzügler", voting.paper_sheet_today(), {idea.id: "5"}
        )
    )
    login(frozen.staff)
    before = everything()
    response = client.post_form(
        f"/staff/challenges/{frozen.challenge.id}/paper-votes/sheet",
        {"event_name": "Nachzügler", "event_date": voting.paper_sheet_today().isoformat(),
         f"count-{idea.id}": "5"},
    )  # fmt: skip
    assert response.status_code == 409
    assert says(FROZEN) in response.get_data(as_text=True)
    assert everything() == before


def test_paper_votes_page_says_why(frozen, client, login):
    login(frozen.staff)
    before = everything()
    response = client.post_form(
        f"/staff/challenges/{frozen.challenge.id}/paper-votes",
        {"idea": frozen.ideas[2].id, "count": "5", "event_name": "Nachzügler"},
    )
    assert response.status_code == 409
    assert says(FROZEN) in response.get_data(as_text=True)
    assert everything() == before


# --- challenge settings and schedule -------------------------------------------------------


@pytest.mark.parametrize(
    "field, value",
    [
        ("vote_budget", 7),
        ("count_paper_votes", False),
        ("hide_counts_while_voting", True),
        ("moderation", "post"),
        ("voting_closes_at", "later"),
        ("submission_opens_at", "earlier"),
    ],
)
def test_settings_and_schedule_are_refused(frozen, field, value):
    challenge = fresh(frozen)
    if value == "later":
        value = challenge.voting_closes_at + timedelta(hours=1)
    elif value == "earlier":
        value = challenge.submission_opens_at - timedelta(days=1)
    refused(
        lambda: challenges.update_challenge(frozen.staff, fresh(frozen), {field: value}),
        FROZEN_SETTINGS,
        field=field,
    )


def test_settings_refusal_in_english(frozen):
    refused(
        lambda: challenges.update_challenge(frozen.staff, fresh(frozen), {"vote_budget": 9}),
        FROZEN_SETTINGS,
        locale="en",
    )


def test_texts_and_the_results_date_may_still_change(frozen):
    challenge = fresh(frozen)
    later = challenge.results_at + timedelta(days=1)
    changed = challenges.update_challenge(
        frozen.staff, challenge, {"title_en": "A greener centre", "results_at": later}
    )
    assert sorted(changed) == ["results_at", "title_en"]
    # Unchanged locked values sent along (as the edit form does) are no change.
    assert (
        challenges.update_challenge(
            frozen.staff, fresh(frozen), {"vote_budget": fresh(frozen).vote_budget}
        )
        == []
    )


# --- the jury -------------------------------------------------------------------------------


def test_jury_settings_and_criteria_are_refused(frozen):
    impact = frozen.criteria[0]
    refused(lambda: locks.check_setup_unlocked(fresh(frozen)))
    refused(lambda: setup.set_jury_settings(frozen.staff, fresh(frozen), 80, True, 10))
    refused(
        lambda: setup.update_criterion(
            frozen.staff,
            db.session.get(JuryCriterion, impact.id),
            {"name_de": "Wirkung", "name_en": "Impact", "weight": 5},
        )
    )
    refused(
        lambda: setup.add_criterion(
            frozen.staff, fresh(frozen), {"name_de": "Kosten", "name_en": "Cost", "weight": 1}
        ),
        locale="en",
    )


@pytest.fixture
def frozen_midway(app, make_user):
    """Jurors have saved but not submitted; the freeze is written straight to the row, as
    freeze_results itself refuses to freeze while a juror is at work."""
    world = jury_world(make_user, submitted=False)
    world.challenge.results_frozen_at = now()
    db.session.commit()
    return world


def test_saving_scores_and_conflicts_is_refused(frozen_midway):
    world = frozen_midway
    x = world.jurors[0]
    impact, feasibility = world.criteria
    idea = world.ideas[0]
    assert review_of(x, idea).conflict is False
    refused(
        lambda: scoring.save_scores(
            x, fresh(world), idea.id, {impact.id: "1", feasibility.id: "1"}, "neu"
        )
    )
    refused(lambda: scoring.declare_conflict(x, fresh(world), idea.id))
    refused(lambda: scoring.submit_scores(x, fresh(world)), locale="en")
