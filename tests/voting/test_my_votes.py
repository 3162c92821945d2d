"""/my/votes (issue 10, item 21): the votes by challenge with the remaining budget, and a
withdraw button per vote while voting runs (a plain form POST with CSRF, back to /my/votes
with a message)."""

import re
from datetime import timedelta

from flask_babel import force_locale, ngettext
from markupsafe import escape
from voting_support import (
    DAY,
    assert_caches_match_rows,
    budget_text,
    make_challenge,
    make_idea,
    says,
    snapshot,
    tr,
)

from consult.clock import travel
from consult.extensions import db
from consult.voting import services
from consult.voting.models import Vote


def unlimited_text(num: int, locale: str = "de") -> str:
    with force_locale(locale):
        return str(
            escape(
                ngettext(
                    "Votes are unlimited in this challenge; you have voted for %(num)d idea.",
                    "Votes are unlimited in this challenge; you have voted for %(num)d ideas.",
                    num,
                )
            )
        )


def page(client) -> str:
    response = client.get("/my/votes")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def withdraw_form(html: str, idea_id: int) -> str:
    for form in re.findall(r"<form[^>]*>.*?</form>", html, re.S):
        if f'name="idea" value="{idea_id}"' in form:
            return form
    return ""


def test_each_vote_has_a_withdraw_form_and_each_challenge_its_budget(client, login, make_user):
    first = make_challenge(budget=3)
    unlimited = make_challenge(budget=0)
    a, b = make_idea(first, title="Idee A"), make_idea(first, title="Idee B")
    c = make_idea(unlimited, title="Idee C")
    citizen = make_user()
    services.cast_vote(citizen, first, a.id)
    services.cast_vote(citizen, unlimited, c.id)
    login(citizen)
    html = page(client)
    assert says("%(left)d of %(budget)d votes left", left=2, budget=3) in html
    assert unlimited_text(1) in html
    form = withdraw_form(html, a.id)
    assert f'action="/challenges/{first.id}/unvote"' in form and 'method="post"' in form
    assert 'name="csrf_token"' in form and 'name="next" value="/my/votes"' in form
    assert says("Withdraw vote") in form and f'aria-describedby="my-vote-{a.id}"' in form
    assert f'id="my-vote-{a.id}"' in html  # the button names its idea
    assert withdraw_form(html, c.id) and not withdraw_form(html, b.id)
    assert "<script" not in html.split("<main", 1)[1]  # works without JavaScript


def test_withdrawing_from_my_votes_comes_back_with_a_message(client, login, make_user):
    challenge = make_challenge(budget=3)
    a, b = make_idea(challenge, title="Idee A"), make_idea(challenge, title="Idee B")
    citizen = make_user()
    services.cast_vote(citizen, challenge, a.id)
    services.cast_vote(citizen, challenge, b.id)
    login(citizen)
    assert says("%(left)d of %(budget)d votes left", left=1, budget=3) in page(client)
    response = client.post_form(
        f"/challenges/{challenge.id}/unvote", {"idea": a.id, "next": "/my/votes"}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/my/votes"
    html = page(client)
    # The message once at the top; the remaining budget once, in the challenge's summary.
    assert says("Your vote has been withdrawn.") in html
    assert html.count(budget_text(2, 3)) == 1
    assert f'href="/ideas/{a.id}"' not in html and f'href="/ideas/{b.id}"' in html
    assert db.session.query(Vote).filter_by(idea_id=a.id).count() == 0
    assert_caches_match_rows()


def test_english_citizens_read_my_votes_in_english(client, login, make_user):
    challenge = make_challenge(budget=0)
    idea = make_idea(challenge)
    citizen = make_user(locale="en")
    services.cast_vote(citizen, challenge, idea.id)
    login(citizen)
    html = client.get("/my/votes", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert unlimited_text(1, "en") in html
    assert "Withdraw vote" in html


def test_a_withdrawal_without_csrf_token_changes_nothing(client, login, make_user):
    challenge = make_challenge(budget=3)
    idea = make_idea(challenge)
    citizen = make_user()
    services.cast_vote(citizen, challenge, idea.id)
    login(citizen)
    before = snapshot()
    response = client.post(
        f"/challenges/{challenge.id}/unvote", data={"idea": idea.id, "next": "/my/votes"}
    )
    assert response.status_code == 400
    assert snapshot() == before


def test_after_voting_closed_there_is_no_withdraw_and_a_late_post_is_refused(
    client, login, make_user
):
    challenge = make_challenge(budget=3)
    idea = make_idea(challenge, title="Idee A")
    citizen = make_user()
    services.cast_vote(citizen, challenge, idea.id)
    login(citizen)
    with travel(6 * DAY):
        html = page(client)
        assert f'href="/ideas/{idea.id}"' in html and "Idee A" in html
        assert not withdraw_form(html, idea.id)
        assert says("Voting has closed; votes can no longer be withdrawn.") in html
        assert says("%(left)d of %(budget)d votes left", left=2, budget=3) not in html
        before = snapshot()
        response = client.post_form(
            f"/challenges/{challenge.id}/unvote", {"idea": idea.id, "next": "/my/votes"}
        )
        assert response.status_code == 409
        assert says("Voting is not open for this challenge.") in response.get_data(as_text=True)
        assert snapshot() == before


def test_open_challenges_come_first(client, login, make_user):
    closing = make_challenge(budget=2, closes=timedelta(hours=1))
    later = make_challenge(budget=2, closes=5 * DAY)
    old_idea, new_idea = make_idea(closing, title="Alt"), make_idea(later, title="Neu")
    citizen = make_user()
    services.cast_vote(citizen, later, new_idea.id)
    services.cast_vote(citizen, closing, old_idea.id)  # the newest vote
    login(citizen)
    with travel(timedelta(hours=2)):  # the first has closed
        html = page(client)
    assert html.index(f"/ideas/{new_idea.id}") < html.index(f"/ideas/{old_idea.id}")


def test_my_votes_groups_by_challenge_newest_vote_first_in_three_queries(app, make_user):
    from sqlalchemy import event

    first, second = make_challenge(budget=3), make_challenge(budget=0)
    a, b = make_idea(first, title="A"), make_idea(first, title="B")
    c = make_idea(second, title="C")
    citizen = make_user()
    services.cast_vote(citizen, first, a.id)
    services.cast_vote(citizen, second, c.id)
    services.cast_vote(citizen, first, b.id)
    services.cast_vote(make_user(), first, b.id)
    statements = []

    def count(*args):
        statements.append(args[2])

    db.session.expire_all()
    assert citizen.id  # loaded before counting: the page has its user already
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        groups = services.my_votes(citizen)
        shown = [
            (g.challenge.id, g.state.used, g.budget, [(v.idea.id, v.tally.total) for v in g.votes])
            for g in groups
        ]
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert shown == [
        (first.id, 2, tr("%(left)d of %(budget)d votes left", left=1, budget=3),
         [(b.id, 2), (a.id, 1)]),
        (second.id, 1, unlimited_text(1).replace("&#39;", "'"), [(c.id, 1)]),
    ]  # fmt: skip
    assert len(statements) == 3, statements  # votes with paper totals, challenges, ballots
