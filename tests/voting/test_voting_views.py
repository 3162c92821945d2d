"""Voting over HTTP: buttons and budget on the list and the idea page, plain form posts that
redirect back, JSON answers for vote.js, hidden counts, "My votes", the way back after login."""

import re

import pytest
from testdata import PASSWORD
from voting_support import (
    assert_caches_match_rows,
    budget_text,
    count_label,
    make_challenge,
    make_idea,
    make_juror,
    says,
    snapshot,
    tr,
    voted_for_text,
)

from consult.voting.models import Ballot

JSON = {"Accept": "application/json"}


def page(response) -> str:
    return response.get_data(as_text=True)


def button_of(html: str, idea_id: int) -> str:
    found = re.search(rf'<form[^>]*data-idea="{idea_id}".*?</form>', html, re.S)
    return found.group(0) if found else ""


@pytest.fixture
def world(app, make_user):
    challenge = make_challenge(budget=5)
    ideas = [make_idea(challenge, title=f"Idee {n}") for n in range(3)]
    return challenge, ideas, make_user()


def test_the_list_shows_buttons_budget_and_counts(client, login, world):
    challenge, ideas, citizen = world
    login(citizen)
    html = page(client.get(f"/challenges/{challenge.id}"))
    assert html.count('class="vote-button"') == 3
    assert html.count(says("%(left)d of %(budget)d votes left", left=5, budget=5)) == 1
    # Each button has the region that shows and announces its answer; the budget announces
    # itself when it changes.
    assert html.count("data-vote-note") == 3
    assert re.search(r'<p class="vote-note" role="status" data-vote-note></p>', html)
    assert 'data-vote-budget role="status"' in html
    assert 'aria-pressed="false"' in button_of(html, ideas[0].id)
    assert f'id="votes-{ideas[0].id}">{count_label(0)}<' in html
    assert re.search(r'<script src="/static/js/vote\.js\?v=[0-9a-f]{12}" defer></script>', html)
    assert 'href="/my/votes"' in html


def test_a_plain_form_post_votes_and_redirects_back(client, login, world):
    challenge, ideas, citizen = world
    login(citizen)
    back = f"/challenges/{challenge.id}?sort=newest"
    response = client.post_form(
        f"/challenges/{challenge.id}/vote", {"idea": ideas[0].id, "next": back}
    )
    assert response.status_code == 302 and response.headers["Location"] == back
    html = page(client.get(back))
    assert says("Your vote has been counted.") in html
    assert budget_text(4, 5) in html
    assert 'aria-pressed="true"' in button_of(html, ideas[0].id)
    assert says("Voted – withdraw") in button_of(html, ideas[0].id)
    assert f"/challenges/{challenge.id}/unvote" in button_of(html, ideas[0].id)
    assert f'id="votes-{ideas[0].id}">{count_label(1)}<' in html
    assert_caches_match_rows()

    response = client.post_form(
        f"/challenges/{challenge.id}/unvote", {"idea": ideas[0].id, "next": back}
    )
    assert response.headers["Location"] == back
    html = page(client.get(back))
    assert says("Your vote has been withdrawn.") in html and budget_text(5, 5) in html
    assert 'aria-pressed="false"' in button_of(html, ideas[0].id)
    assert_caches_match_rows()


def note_of(html: str, idea_id: int) -> str:
    found = re.search(r"<p class=\"vote-note[^\"]*\"[^>]*>([^<]*)</p>", button_of(html, idea_id))
    return found.group(1) if found else ""


def test_without_javascript_the_answer_is_shown_at_the_tapped_button(client, login, world):
    challenge, ideas, citizen = world
    login(citizen)
    back = f"/challenges/{challenge.id}?sort=newest"
    html = page(client.get(back))
    # The button sends the way back to itself.
    assert f'name="next" value="{back}#vote-{ideas[2].id}"' in button_of(html, ideas[2].id)
    response = client.post_form(
        f"/challenges/{challenge.id}/vote",
        {"idea": ideas[2].id, "next": f"{back}#vote-{ideas[2].id}"},
    )
    assert response.headers["Location"] == f"{back}#vote-{ideas[2].id}"
    html = page(client.get(back))
    assert note_of(html, ideas[2].id) == says("Your vote has been counted.")
    assert note_of(html, ideas[0].id) == ""
    flashes = re.search(r'<div class="flashes".*?</div>', html, re.S).group(0)
    assert says("Your vote has been counted.") not in flashes
    assert html.count(budget_text(4, 5)) == 1  # the budget once, in the summary
    # Shown once: the next page has no answer left.
    assert note_of(page(client.get(back)), ideas[2].id) == ""

    response = client.post_form(
        f"/challenges/{challenge.id}/unvote",
        {"idea": ideas[2].id, "next": f"{back}#vote-{ideas[2].id}"},
    )
    html = page(client.get(response.headers["Location"].split("#")[0]))
    assert note_of(html, ideas[2].id) == says("Your vote has been withdrawn.")
    assert html.count(budget_text(5, 5)) == 1


def test_over_the_budget_without_javascript_the_reason_is_at_the_button(client, login, make_user):
    challenge = make_challenge(budget=1)
    ideas = [make_idea(challenge, title=f"Idee {n}") for n in range(2)]
    login(make_user())
    back = f"/challenges/{challenge.id}"
    client.post_form(f"{back}/vote", {"idea": ideas[0].id, "next": back})
    before = snapshot()
    response = client.post_form(
        f"{back}/vote", {"idea": ideas[1].id, "next": f"{back}#vote-{ideas[1].id}"}
    )
    # Not an error page that loses the place in the list: back to the button, with the reason.
    assert response.status_code == 303
    assert response.headers["Location"] == f"{back}#vote-{ideas[1].id}"
    assert snapshot() == before
    html = page(client.get(back))
    reason = says(
        "You have used all %(budget)d of your votes. Withdraw one to vote for this idea.",
        budget=1,
    )
    assert note_of(html, ideas[1].id) == reason
    assert 'class="vote-note vote-refused"' in button_of(html, ideas[1].id)
    assert html.count(reason) == 1
    assert 'aria-pressed="false"' in button_of(html, ideas[1].id)


def test_an_unsafe_next_goes_to_the_idea(client, login, world):
    challenge, ideas, citizen = world
    login(citizen)
    for evil in ("https://evil.example/", "//evil.example/x", "/\\evil", ""):
        response = client.post_form(
            f"/challenges/{challenge.id}/vote", {"idea": ideas[0].id, "next": evil}
        )
        assert response.headers["Location"] == f"/ideas/{ideas[0].id}"


def test_json_answers_carry_state_budget_and_a_translated_count(client, login, world):
    challenge, ideas, citizen = world
    login(citizen)
    url = f"/challenges/{challenge.id}/vote"
    data = client.post_form(url, {"idea": ideas[1].id}, headers=JSON).get_json()
    assert data == {
        "voted": True,
        "message": tr("Your vote has been counted."),
        "budget": budget_text(4, 5),
        "remaining": 4,
        "count": 1,
        "count_label": count_label(1),
        "count_detail": count_label(1),  # no paper votes: the same as the label
    }
    again = client.post_form(url, {"idea": ideas[1].id}, headers=JSON).get_json()
    assert again["remaining"] == 4 and again["count"] == 1  # repeating is harmless
    data = client.post_form(
        f"/challenges/{challenge.id}/unvote", {"idea": ideas[1].id}, headers=JSON
    ).get_json()
    assert data["voted"] is False and data["count_label"] == count_label(0)
    assert data["budget"] == budget_text(5, 5)
    assert_caches_match_rows()


def test_english_citizens_get_english_answers(client, login, make_user, world):
    challenge, ideas, _ = world
    login(make_user(locale="en"))
    data = client.post_form(
        f"/challenges/{challenge.id}/vote", {"idea": ideas[0].id}, headers=JSON
    ).get_json()
    assert data["message"] == tr("Your vote has been counted.", "en")
    assert data["budget"] == budget_text(4, 5, "en") == "4 of 5 votes left"
    assert data["count_label"] == "1 vote"


def test_budget_zero_shows_how_many_ideas(client, login, make_user):
    challenge = make_challenge(budget=0)
    ideas = [make_idea(challenge) for _ in range(2)]
    login(make_user())
    url = f"/challenges/{challenge.id}/vote"
    for idea in ideas:
        data = client.post_form(url, {"idea": idea.id}, headers=JSON).get_json()
    assert data["remaining"] is None and data["budget"] == voted_for_text(2)
    html = page(client.get(f"/challenges/{challenge.id}"))
    assert html.count(voted_for_text(2)) == 1


def test_hidden_counts_are_never_shown_while_voting(client, login, world, make_user):
    challenge = make_challenge(hide_counts_while_voting=True)
    idea = make_idea(challenge)
    login(make_user())
    data = client.post_form(
        f"/challenges/{challenge.id}/vote", {"idea": idea.id}, headers=JSON
    ).get_json()
    assert "count" not in data and "count_label" not in data
    for url in (f"/challenges/{challenge.id}", f"/ideas/{idea.id}"):
        html = page(client.get(url))
        assert f'id="votes-{idea.id}"' not in html
        assert count_label(1) not in html
    assert says("Vote counts are hidden until voting ends.") in page(
        client.get(f"/challenges/{challenge.id}")
    )


def test_the_idea_page_has_button_budget_and_status(client, login, world):
    challenge, ideas, citizen = world
    login(citizen)
    client.post_form(f"/challenges/{challenge.id}/vote", {"idea": ideas[2].id}, headers=JSON)
    html = page(client.get(f"/ideas/{ideas[2].id}"))
    assert 'aria-pressed="true"' in button_of(html, ideas[2].id)
    assert f'name="next" value="/ideas/{ideas[2].id}"' in html
    assert html.count(budget_text(4, 5)) == 1
    assert "data-vote-note" in html and "vote.js" in html
    assert f'id="votes-{ideas[2].id}">{count_label(1)}<' in html


def test_anonymous_visitors_get_a_login_link_and_a_cacheable_page(client, world):
    challenge, ideas, _ = world
    for url in (f"/challenges/{challenge.id}", f"/ideas/{ideas[0].id}"):
        response = client.get(url)
        html = page(response)
        assert '<form method="post"' not in html and "vote.js" not in html
        assert f'href="/account/login?next=/ideas/{ideas[0].id}"' in html
        assert says("Log in to vote") in html
        assert "Set-Cookie" not in response.headers
        assert response.cache_control.public


def test_anonymous_vote_goes_to_login_and_back_to_the_idea(client, world):
    challenge, ideas, citizen = world
    before = snapshot()
    response = client.post_form(f"/challenges/{challenge.id}/vote", {"idea": ideas[0].id})
    assert response.status_code == 302
    login_url = response.headers["Location"]
    assert login_url == f"/account/login?next=/ideas/{ideas[0].id}"
    assert snapshot() == before
    data = client.post_form(f"/challenges/{challenge.id}/vote", {"idea": ideas[0].id}, headers=JSON)
    assert data.status_code == 401 and data.get_json()["login"] == login_url
    response = client.post_form(login_url, {"email": citizen.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/ideas/{ideas[0].id}"


def test_a_juror_sees_no_button(client, login, world):
    challenge, ideas, citizen = world
    make_juror(challenge, citizen)
    login(citizen)
    for url in (f"/challenges/{challenge.id}", f"/ideas/{ideas[0].id}"):
        html = page(client.get(url))
        assert 'class="vote-button"' not in html and "vote.js" not in html
        assert says("You are on the jury of this challenge, so you cannot vote in it.") in html


def test_my_votes_lists_and_links_voted_ideas(client, login, world):
    challenge, ideas, citizen = world
    login(citizen)
    assert says("You have not voted for any idea yet.") in page(client.get("/my/votes"))
    client.post_form(f"/challenges/{challenge.id}/vote", {"idea": ideas[0].id})
    client.post_form(f"/challenges/{challenge.id}/vote", {"idea": ideas[2].id})
    html = page(client.get("/my/votes"))
    assert f'href="/ideas/{ideas[0].id}"' in html and f'href="/ideas/{ideas[2].id}"' in html
    assert f'href="/ideas/{ideas[1].id}"' not in html
    assert html.index(f"/ideas/{ideas[2].id}") < html.index(f"/ideas/{ideas[0].id}")


def test_my_votes_needs_login(client):
    response = client.get("/my/votes")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/login?next=/my/votes")


def test_ballot_rows_follow_the_votes(client, login, world):
    challenge, ideas, citizen = world
    login(citizen)
    for idea in ideas:
        client.post_form(f"/challenges/{challenge.id}/vote", {"idea": idea.id})
    client.post_form(f"/challenges/{challenge.id}/unvote", {"idea": ideas[0].id})
    from consult.extensions import db

    ballot = db.session.get(Ballot, {"challenge_id": challenge.id, "user_id": citizen.id})
    assert ballot.used == 2
    assert_caches_match_rows()
