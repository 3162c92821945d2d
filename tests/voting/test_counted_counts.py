"""Public vote counts are the counted total (issue 10, item 3): online votes plus paper votes
when the challenge counts them, on the list, its "most votes" order, the idea page (with both
parts), the vote JSON and /my/votes; never while counts are hidden, paper votes included."""

import re

import pytest
from flask_babel import force_locale, ngettext
from markupsafe import escape
from voting_support import count_label, count_parts, make_challenge, make_idea

from consult.extensions import db
from consult.voting import services
from consult.voting.models import PaperVoteEntry

JSON = {"Accept": "application/json"}


def page(response) -> str:
    assert response.status_code == 200
    return response.get_data(as_text=True)


def not_counted(paper: int, locale: str = "de") -> str:
    with force_locale(locale):
        return str(
            escape(
                ngettext(
                    "%(num)d paper vote is not counted in this challenge.",
                    "%(num)d paper votes are not counted in this challenge.",
                    paper,
                )
            )
        )


def paper(idea, count: int) -> None:
    db.session.add(PaperVoteEntry(idea_id=idea.id, count=count, event_name="Stadtteilfest"))
    db.session.commit()


def list_order(html: str, ideas) -> list[int]:
    found = [int(i) for i in re.findall(r'id="idea-title-(\d+)"', html)]
    return [i for i in found if i in {idea.id for idea in ideas}]


def world(make_user, **settings):
    """Online 12 for "Online", paper 84 for "Papier", 3 online + 2 paper for "Beides"."""
    challenge = make_challenge(budget=0, **settings)
    online, on_paper, both = (
        make_idea(challenge, title=title) for title in ("Online", "Papier", "Beides")
    )
    voters = [make_user() for _ in range(12)]
    for voter in voters:
        services.cast_vote(voter, challenge, online.id)
    for voter in voters[:3]:
        services.cast_vote(voter, challenge, both.id)
    paper(on_paper, 84)
    paper(both, 2)
    return challenge, (online, on_paper, both), voters


def test_the_list_shows_and_sorts_by_the_counted_total(client, make_user):
    challenge, (online, on_paper, both), _ = world(make_user)
    html = page(client.get(f"/challenges/{challenge.id}?sort=votes"))
    assert list_order(html, (online, on_paper, both)) == [on_paper.id, online.id, both.id]
    assert f'id="votes-{on_paper.id}">{count_label(84)}<' in html
    assert f'id="votes-{online.id}">{count_label(12)}<' in html
    assert f'id="votes-{both.id}">{count_label(5)}<' in html
    for sort in ("newest", "random&seed=3"):  # the total in every order
        html = page(client.get(f"/challenges/{challenge.id}?sort={sort}"))
        assert f'id="votes-{on_paper.id}">{count_label(84)}<' in html


def test_without_counted_paper_votes_the_list_shows_and_sorts_online_votes(client, make_user):
    challenge, (online, on_paper, both), _ = world(make_user, count_paper_votes=False)
    html = page(client.get(f"/challenges/{challenge.id}?sort=votes"))
    assert list_order(html, (online, on_paper, both)) == [online.id, both.id, on_paper.id]
    assert f'id="votes-{on_paper.id}">{count_label(0)}<' in html
    assert f'id="votes-{both.id}">{count_label(3)}<' in html


def test_the_idea_page_shows_the_total_and_its_two_parts(client, make_user):
    challenge, (online, on_paper, both), _ = world(make_user)
    html = page(client.get(f"/ideas/{both.id}"))
    assert f'id="votes-{both.id}" data-count-detail>{count_parts(5, 3, 2)}<' in html
    html = page(client.get(f"/ideas/{on_paper.id}", headers={"Accept-Language": "en"}))
    assert "84 votes: 0 online, 84 on paper" in html
    html = page(client.get(f"/ideas/{online.id}"))
    assert f'id="votes-{online.id}">{count_label(12)}<' in html  # no paper: no parts


def test_uncounted_paper_votes_are_shown_apart_and_not_added(client, make_user):
    challenge, (online, on_paper, both), _ = world(make_user, count_paper_votes=False)
    html = page(client.get(f"/ideas/{both.id}"))
    assert f'id="votes-{both.id}">{count_label(3)}<' in html
    assert not_counted(2) in html
    html = page(client.get(f"/ideas/{on_paper.id}"))
    assert f'id="votes-{on_paper.id}">{count_label(0)}<' in html
    assert not_counted(84) in html


def test_hidden_counts_stay_hidden_paper_votes_included(client, login, make_user):
    challenge, (online, on_paper, both), voters = world(make_user, hide_counts_while_voting=True)
    login(voters[0])
    for url in (
        f"/challenges/{challenge.id}",
        f"/ideas/{on_paper.id}",
        f"/ideas/{both.id}",
        "/my/votes",
    ):
        html = page(client.get(url))
        assert 'id="votes-' not in html, url
        assert count_label(84) not in html and count_label(5) not in html, url
        assert not_counted(84) not in html and count_parts(5, 3, 2) not in html, url
    # "most votes" would reveal the order: it is not offered and not honoured.
    html = page(client.get(f"/challenges/{challenge.id}?sort=votes"))
    assert 'value="votes"' not in html
    data = client.post_form(
        f"/challenges/{challenge.id}/vote", {"idea": on_paper.id}, headers=JSON
    ).get_json()
    assert "count" not in data and "count_detail" not in data


def test_the_vote_answer_counts_paper_votes(client, login, make_user):
    challenge, (online, on_paper, both), _ = world(make_user)
    login(make_user())
    data = client.post_form(
        f"/challenges/{challenge.id}/vote", {"idea": both.id}, headers=JSON
    ).get_json()
    assert data["count"] == 6
    assert data["count_label"] == count_label(6)
    assert data["count_detail"] == count_parts(6, 4, 2)
    data = client.post_form(
        f"/challenges/{challenge.id}/unvote", {"idea": both.id}, headers=JSON
    ).get_json()
    assert data["count"] == 5 and data["count_label"] == count_label(5)


def test_the_vote_answer_leaves_out_uncounted_paper_votes(client, login, make_user):
    challenge, (online, on_paper, both), _ = world(make_user, count_paper_votes=False)
    login(make_user())
    data = client.post_form(
        f"/challenges/{challenge.id}/vote", {"idea": on_paper.id}, headers=JSON
    ).get_json()
    assert data["count"] == 1 and data["count_detail"] == count_label(1)


@pytest.mark.parametrize("counted", [True, False])
def test_my_votes_shows_the_counted_total(client, login, make_user, counted):
    challenge, (online, on_paper, both), voters = world(make_user, count_paper_votes=counted)
    login(voters[0])
    html = page(client.get("/my/votes"))
    if counted:
        assert count_parts(5, 3, 2) in html
    else:
        assert count_label(3) in html and count_parts(5, 3, 2) not in html
