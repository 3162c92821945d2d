"""Following an idea: a POST button for verified citizens; followers hear about its lab project."""

import json

import pytest
from jury.jury_support import evaluation_challenge, make_idea
from project_support import count, html, says, shows
from testdata import PASSWORD

from consult.errors import UserError
from consult.extensions import db
from consult.ideas import services
from consult.ideas.models import IdeaFollower


@pytest.fixture
def idea(app):
    return make_idea(evaluation_challenge(), "Bäume am Markt")


def follows(user, idea) -> bool:
    db.session.expire_all()
    return db.session.get(IdeaFollower, (idea.id, user.id)) is not None


def test_a_citizen_follows_and_unfollows_with_buttons(client, login, make_user, idea):
    citizen = make_user()
    login(citizen)
    page = html(client.get(f"/ideas/{idea.id}"))
    assert f'action="/ideas/{idea.id}/follow"' in page and says("Follow") in page

    response = client.post_form(f"/ideas/{idea.id}/follow")
    assert response.status_code == 302 and response.location.endswith(f"/ideas/{idea.id}#follow")
    assert follows(citizen, idea)
    page = client.get(f"/ideas/{idea.id}")
    assert shows(
        page, "You follow this idea. If it becomes a lab project, we will send you its news."
    )
    assert f'action="/ideas/{idea.id}/unfollow"' in html(page)
    # Following again is no error and no second row.
    assert client.post_form(f"/ideas/{idea.id}/follow").status_code == 302
    assert count(IdeaFollower) == 1

    assert client.post_form(f"/ideas/{idea.id}/unfollow").status_code == 302
    assert not follows(citizen, idea)
    assert client.post_form(f"/ideas/{idea.id}/unfollow").status_code == 302  # harmless again


def test_visitors_see_no_button_and_the_page_stays_public(client, idea):
    response = client.get(f"/ideas/{idea.id}")
    assert "/follow" not in html(response)
    assert response.cache_control.public and "Set-Cookie" not in response.headers
    response = client.post_form(f"/ideas/{idea.id}/follow")
    assert response.status_code == 302 and "/account/login" in response.location
    assert count(IdeaFollower) == 0


def test_an_unverified_account_cannot_follow(client, login, make_user, idea):
    login(make_user(verified=False))
    response = client.post_form(f"/ideas/{idea.id}/follow")
    assert response.status_code == 403
    assert count(IdeaFollower) == 0


def test_hidden_or_unknown_ideas_cannot_be_followed(client, login, make_user, idea):
    citizen = make_user()
    idea.status = "hidden"
    db.session.commit()
    with pytest.raises(UserError) as refused:
        services.follow_idea(citizen, idea)
    assert refused.value.status == 409
    login(citizen)
    response = client.post_form(f"/ideas/{idea.id}/follow")
    assert response.status_code == 409
    assert shows(response, "Only published ideas can be followed.")
    assert client.post_form("/ideas/4711/follow").status_code == 404
    assert count(IdeaFollower) == 0


def test_follows_are_in_the_data_export_and_leave_with_the_account(client, login, make_user, idea):
    citizen = make_user()
    services.follow_idea(citizen, idea)
    login(citizen)
    data = json.loads(client.get("/account/data.json").get_data(as_text=True))
    assert data["followed_ideas"] == [idea.id]
    response = client.post_form("/account/delete", {"current_password": PASSWORD, "confirm": "y"})
    assert response.status_code == 302
    assert count(IdeaFollower) == 0
