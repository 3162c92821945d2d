"""Hostile and mistaken requests to the vote URLs: each gets a clear 4xx in the voter's
language, and nothing changes (vote rows, ballot.used, cached counts)."""

from datetime import UTC, datetime, timedelta

import pytest
from voting_support import (
    assert_caches_match_rows,
    make_challenge,
    make_idea,
    make_juror,
    says,
    snapshot,
    tr,
)
from werkzeug.datastructures import MultiDict

from consult.clock import now, travel
from consult.extensions import db

JSON = {"Accept": "application/json"}
SECOND = timedelta(seconds=1)


def page(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def world(app, make_user):
    challenge = make_challenge(budget=2)
    ideas = [make_idea(challenge) for _ in range(3)]
    return challenge, ideas, make_user()


def refused(response, status: int, text: str, before, locale: str = "de") -> None:
    """A refusal with ``status`` that says ``text`` in ``locale``, and nothing changed."""
    assert response.status_code == status, page(response)[:500]
    if response.is_json:
        assert response.get_json()["message"] == tr(text, locale)
    else:
        assert says(text, locale) in page(response)
    assert snapshot() == before
    assert_caches_match_rows()


def test_get_on_the_vote_url_is_405(client, world):
    challenge, ideas, _ = world
    before = snapshot()
    for action in ("vote", "unvote"):
        response = client.get(f"/challenges/{challenge.id}/{action}?idea={ideas[0].id}")
        refused(response, 405, "This action is not allowed here", before)
        assert "POST" in response.headers["Allow"]


def test_a_post_without_csrf_token_is_400(client, login, world):
    challenge, ideas, citizen = world
    login(citizen)
    before = snapshot()
    response = client.http.post(f"/challenges/{challenge.id}/vote", data={"idea": ideas[0].id})
    refused(
        response,
        400,
        "Your form has expired or was not sent from our site. Please try again.",
        before,
    )


def test_anonymous_voters_are_sent_to_login_and_nothing_is_stored(client, world):
    challenge, ideas, _ = world
    before = snapshot()
    for action in ("vote", "unvote"):
        response = client.post_form(f"/challenges/{challenge.id}/{action}", {"idea": ideas[0].id})
        assert response.status_code == 302
        assert response.headers["Location"] == f"/account/login?next=/ideas/{ideas[0].id}"
    assert snapshot() == before


def test_unverified_voters_are_asked_to_confirm_their_address(client, login, make_user, world):
    challenge, ideas, _ = world
    login(make_user(verified=False))
    before = snapshot()
    response = client.post_form(f"/challenges/{challenge.id}/vote", {"idea": ideas[0].id})
    refused(
        response,
        403,
        "Please confirm your e-mail address first: open the link we sent you. "
        "You can request a new link on your profile page.",
        before,
    )


@pytest.mark.parametrize(
    "status, code, text",
    [
        ("hidden", 409, "This idea has been hidden by moderation and cannot receive votes."),
        ("withdrawn", 404, "This idea does not exist in this challenge."),
        ("draft", 404, "This idea does not exist in this challenge."),
        ("submitted", 404, "This idea does not exist in this challenge."),
    ],
)
def test_ideas_that_are_not_published_get_no_votes(client, login, world, status, code, text):
    challenge, _, citizen = world
    idea = make_idea(challenge, status=status)
    login(citizen)
    before = snapshot()
    response = client.post_form(f"/challenges/{challenge.id}/vote", {"idea": idea.id})
    refused(response, code, text, before)
    response = client.post_form(f"/challenges/{challenge.id}/vote", {"idea": idea.id}, headers=JSON)
    refused(response, code, text, before)


def test_a_deleted_idea_and_an_idea_of_another_challenge_are_404(client, login, world):
    challenge, ideas, citizen = world
    gone = make_idea(challenge)
    gone_id = gone.id
    db.session.delete(gone)
    db.session.commit()
    elsewhere = make_idea(make_challenge())
    login(citizen)
    before = snapshot()
    for idea_id in (gone_id, elsewhere.id, 2_000_000_000):
        for action in ("vote", "unvote"):
            response = client.post_form(f"/challenges/{challenge.id}/{action}", {"idea": idea_id})
            refused(response, 404, "This idea does not exist in this challenge.", before)


def test_unknown_challenges_are_404(client, login, world):
    _, ideas, citizen = world
    login(citizen)
    before = snapshot()
    for challenge_id in ("999999", "9" * 30):
        response = client.post_form(f"/challenges/{challenge_id}/vote", {"idea": ideas[0].id})
        assert response.status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize(
    "values",
    [["-1"], ["abc"], ["9" * 300], ["9" * 10_000], ["0"], ["1.5"], [" 1"], ["１"], [], ["1", "2"]],
    ids=[
        "negative",
        "text",
        "300-digits",
        "10000-digits",
        "zero",
        "decimal",
        "space",
        "fullwidth",
        "none",
        "two",
    ],
)
def test_malformed_idea_ids_are_400(client, login, world, values):
    challenge, _, citizen = world
    login(citizen)
    before = snapshot()
    data = MultiDict([("csrf_token", client.csrf_token())] + [("idea", v) for v in values])
    response = client.http.post(f"/challenges/{challenge.id}/vote", data=data)
    refused(response, 400, "Please choose exactly one idea.", before)


def test_withdrawing_a_vote_you_do_not_have_is_409(client, login, world):
    challenge, ideas, citizen = world
    login(citizen)
    before = snapshot()
    response = client.post_form(f"/challenges/{challenge.id}/unvote", {"idea": ideas[0].id})
    refused(response, 409, "You have not voted for this idea.", before)


def test_voting_beyond_the_budget_is_409(client, login, world):
    challenge, ideas, citizen = world
    login(citizen)
    for idea in ideas[:2]:
        client.post_form(f"/challenges/{challenge.id}/vote", {"idea": idea.id})
    before = snapshot()
    text = "You have used all %(budget)d of your votes. Withdraw one to vote for this idea."
    response = client.post_form(f"/challenges/{challenge.id}/vote", {"idea": ideas[2].id})
    assert response.status_code == 409
    assert says(text, budget=2) in page(response)
    response = client.post_form(
        f"/challenges/{challenge.id}/vote", {"idea": ideas[2].id}, headers=JSON
    )
    assert response.status_code == 409 and response.get_json()["message"] == tr(text, budget=2)
    assert snapshot() == before
    assert_caches_match_rows()


def test_the_budget_message_speaks_english_to_english_citizens(client, login, make_user, world):
    challenge, ideas, _ = world
    login(make_user(locale="en"))
    for idea in ideas[:2]:
        client.post_form(f"/challenges/{challenge.id}/vote", {"idea": idea.id})
    response = client.post_form(f"/challenges/{challenge.id}/vote", {"idea": ideas[2].id})
    assert response.status_code == 409
    assert "You have used all 2 of your votes" in page(response)


def test_a_double_tap_is_harmless(client, login, world):
    challenge, ideas, citizen = world
    login(citizen)
    first = client.post_form(f"/challenges/{challenge.id}/vote", {"idea": ideas[0].id})
    after_first = snapshot()
    second = client.post_form(f"/challenges/{challenge.id}/vote", {"idea": ideas[0].id})
    assert first.status_code == second.status_code == 302
    assert snapshot() == after_first
    assert after_first.used[(challenge.id, citizen.id)] == 1
    assert after_first.counts[ideas[0].id] == 1
    assert_caches_match_rows()


def test_a_juror_cannot_vote_in_their_own_challenge(client, login, world):
    challenge, ideas, citizen = world
    make_juror(challenge, citizen)
    login(citizen)
    before = snapshot()
    text = "You are on the jury of this challenge, so you cannot vote in it."
    response = client.post_form(f"/challenges/{challenge.id}/vote", {"idea": ideas[0].id})
    refused(response, 403, text, before)
    response = client.post_form(
        f"/challenges/{challenge.id}/vote", {"idea": ideas[0].id}, headers=JSON
    )
    refused(response, 403, text, before)


# --- the boundaries of the voting period, exact in UTC ------------------------------------


def at(moment: datetime):
    """Travel to ``moment`` (the clock then runs on for the few milliseconds of a request)."""
    return travel(moment - now())


def vote(client, challenge, idea):
    return client.post_form(f"/challenges/{challenge.id}/vote", {"idea": idea.id})


def check_boundaries(client, challenge, idea) -> None:
    closed = "Voting is not open for this challenge."
    # The form's token is fetched now, not inside ``at``: the clock runs on, and a page
    # loaded there first could carry the vote past the second under test on a busy machine.
    client.csrf_token()
    before = snapshot()
    with at(challenge.voting_opens_at - SECOND):
        refused(vote(client, challenge, idea), 409, closed, before)
    with at(challenge.voting_opens_at):
        assert vote(client, challenge, idea).status_code == 302
    client.post_form(f"/challenges/{challenge.id}/unvote", {"idea": idea.id})
    with at(challenge.voting_closes_at - SECOND):
        assert vote(client, challenge, idea).status_code == 302
    after = snapshot()
    with at(challenge.voting_closes_at + SECOND):
        refused(vote(client, challenge, idea), 409, closed, after)
        response = client.post_form(f"/challenges/{challenge.id}/unvote", {"idea": idea.id})
        refused(response, 409, closed, after)


@pytest.mark.parametrize(
    "opens, closes",
    [
        # Voting closes the moment the clocks go back (03:00 CEST = 01:00 UTC = 02:00 CET).
        (datetime(2026, 10, 20, 8, 0, tzinfo=UTC), datetime(2026, 10, 25, 1, 0, tzinfo=UTC)),
        # Voting opens the moment the clocks go forward (02:00 CET = 01:00 UTC = 03:00 CEST).
        (datetime(2026, 3, 29, 1, 0, tzinfo=UTC), datetime(2026, 4, 5, 22, 0, tzinfo=UTC)),
        # An ordinary week in the future.
        (now().replace(microsecond=0) + timedelta(days=30), now() + timedelta(days=37)),
    ],
    ids=["closes-at-autumn-change", "opens-at-spring-change", "ordinary"],
)
def test_one_second_outside_the_voting_period_is_409(client, login, world, opens, closes):
    _, _, citizen = world
    challenge = make_challenge(budget=3, at=(opens, closes))
    idea = make_idea(challenge)
    login(citizen)
    check_boundaries(client, challenge, idea)
