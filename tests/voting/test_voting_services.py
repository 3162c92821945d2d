"""Casting and withdrawing votes at the service level: budget, idempotence, caches."""

import pytest
from sqlalchemy import inspect
from voting_support import (
    assert_caches_match_rows,
    make_challenge,
    make_idea,
    make_juror,
    snapshot,
    tr,
)

from consult.errors import UserError
from consult.extensions import db
from consult.voting import services
from consult.voting.models import Vote


@pytest.fixture
def citizen(make_user):
    return make_user()


def test_casting_within_the_budget_counts_down(app, citizen):
    challenge = make_challenge(budget=3)
    ideas = [make_idea(challenge) for _ in range(3)]
    for n, idea in enumerate(ideas, start=1):
        state = services.cast_vote(citizen, challenge, idea.id)
        assert (state.used, state.remaining) == (n, 3 - n)
        assert_caches_match_rows()
    assert services.voted_idea_ids(citizen, challenge) == {i.id for i in ideas}


def test_repeating_a_vote_changes_nothing(app, citizen):
    challenge = make_challenge(budget=2)
    idea = make_idea(challenge)
    services.cast_vote(citizen, challenge, idea.id)
    before = snapshot()
    state = services.cast_vote(citizen, challenge, idea.id)
    assert (state.used, state.remaining) == (1, 1)
    assert snapshot() == before
    assert_caches_match_rows()


def test_repeating_a_vote_with_a_full_budget_is_harmless(app, citizen):
    challenge = make_challenge(budget=1)
    idea = make_idea(challenge)
    services.cast_vote(citizen, challenge, idea.id)
    before = snapshot()
    assert services.cast_vote(citizen, challenge, idea.id).remaining == 0
    assert snapshot() == before


def test_withdraw_and_vote_again(app, citizen):
    challenge = make_challenge(budget=1)
    first, second = make_idea(challenge), make_idea(challenge)
    services.cast_vote(citizen, challenge, first.id)
    state = services.withdraw_vote(citizen, challenge, first.id)
    assert (state.used, state.remaining) == (0, 1)
    assert_caches_match_rows()
    services.cast_vote(citizen, challenge, second.id)
    assert_caches_match_rows()
    services.withdraw_vote(citizen, challenge, second.id)
    services.cast_vote(citizen, challenge, first.id)
    assert services.voted_idea_ids(citizen, challenge) == {first.id}
    assert_caches_match_rows()


def test_beyond_the_budget_is_refused(app, citizen):
    challenge = make_challenge(budget=2)
    ideas = [make_idea(challenge) for _ in range(3)]
    services.cast_vote(citizen, challenge, ideas[0].id)
    services.cast_vote(citizen, challenge, ideas[1].id)
    before = snapshot()
    with pytest.raises(UserError) as refused:
        services.cast_vote(citizen, challenge, ideas[2].id)
    assert refused.value.status == 409
    assert "2" in refused.value.message
    assert snapshot() == before
    assert_caches_match_rows()


def test_budget_zero_means_one_vote_per_idea_without_limit(app, citizen):
    challenge = make_challenge(budget=0)
    ideas = [make_idea(challenge) for _ in range(12)]
    for idea in ideas:
        state = services.cast_vote(citizen, challenge, idea.id)
        assert state.remaining is None
    assert state.used == 12
    assert services.budget_message(state) == services.budget_message(services.BallotState(12, 0))
    assert services.cast_vote(citizen, challenge, ideas[0].id).used == 12  # still idempotent
    assert_caches_match_rows()


def test_budget_message(app):
    with app.test_request_context(headers={"Accept-Language": "de"}):
        assert services.budget_message(services.BallotState(3, 5)) == tr(
            "%(left)d of %(budget)d votes left", left=2, budget=5
        )


def test_withdrawing_a_vote_you_do_not_have_is_refused(app, citizen):
    challenge = make_challenge()
    idea = make_idea(challenge)
    before = snapshot()
    with pytest.raises(UserError) as refused:
        services.withdraw_vote(citizen, challenge, idea.id)
    assert refused.value.status == 409
    assert snapshot() == before


def test_a_juror_cannot_vote_in_their_challenge(app, citizen):
    challenge, other = make_challenge(), make_challenge()
    idea, elsewhere = make_idea(challenge), make_idea(other)
    make_juror(challenge, citizen)
    with pytest.raises(UserError) as refused:
        services.cast_vote(citizen, challenge, idea.id)
    assert refused.value.status == 403
    services.cast_vote(citizen, other, elsewhere.id)  # only their own challenge
    panel = services.voting_panel(citizen, challenge)
    assert panel.juror and not panel.voter


def test_votes_store_no_address_and_no_user_agent(app):
    columns = {c["name"] for c in inspect(db.engine).get_columns("votes")}
    assert columns == {"id", "challenge_id", "idea_id", "user_id", "created_at"}
    assert {c.name for c in Vote.__table__.columns} == columns
