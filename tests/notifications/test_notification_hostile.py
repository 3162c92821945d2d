"""Hostile inputs: forged, foreign, reused and malformed unsubscribe links; following a
draft or unknown challenge, without a confirmed address, without a CSRF token."""

from datetime import timedelta

import pytest
from notifications_support import followers, fresh, html, link_path, upcoming_challenge

from consult.accounts.tokens import make_token
from consult.clock import now
from consult.extensions import db
from consult.notifications.models import KINDS


def all_on(user) -> bool:
    user = fresh(user)
    return all(getattr(user, f"notify_{kind}") for kind in KINDS) and not user.digest_weekly


@pytest.mark.parametrize("method", ["get", "post", "one-click"])
def test_a_forged_link_is_a_clear_400_and_changes_nothing(app, client, make_user, method):
    person = make_user()
    good = link_path(person, "answers")
    forged = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    for path in (forged, "/notifications/unsubscribe/forged.token.value"):
        if method == "get":
            response = client.get(path)
        elif method == "post":
            response = client.post_form(path)
        else:
            response = client.http.post(path, data={"List-Unsubscribe": "One-Click"})
        assert response.status_code == 400
        assert "copy it completely" in html(response) or "vollständig" in html(response)
    assert all_on(person)


def test_another_persons_link_changes_only_that_person_and_shows_no_address(
    app, client, make_user, login
):
    owner = make_user(email="owner@example.org")
    visitor = make_user(email="visitor@example.org")
    login(visitor)
    path = link_path(owner, "voting_opens")
    page = html(client.get(path))
    assert "owner@example.org" not in page and "visitor@example.org" not in page
    response = client.post_form(path)
    assert response.status_code == 200
    assert "owner@example.org" not in html(response)
    assert not fresh(owner).notify_voting_opens
    assert all_on(visitor)  # the logged-in visitor's settings stay as they were


def test_a_reused_link_says_so_and_changes_nothing(app, client, make_user):
    """Decision: unsubscribe links are lasting and idempotent (like those of comments and
    projects), not single-use: mail programs repeat one-click requests."""
    person = make_user()
    path = link_path(person, "answers")
    assert client.post_form(path).status_code == 200
    before = fresh(person)
    snapshot = {kind: getattr(before, f"notify_{kind}") for kind in KINDS}
    again = client.post_form(path)
    assert again.status_code == 200
    assert "already" in html(again) or "bereits" in html(again)
    after = fresh(person)
    assert {kind: getattr(after, f"notify_{kind}") for kind in KINDS} == snapshot


@pytest.mark.parametrize("data", [{"k": "everything"}, {"k": 3}, {}])
def test_a_signed_link_with_a_kind_that_does_not_exist_is_refused(app, client, make_user, data):
    person = make_user()
    path = "/notifications/unsubscribe/" + make_token("notify-unsubscribe", person.id, **data)
    assert client.get(path).status_code == 400
    assert client.post_form(path).status_code == 400
    assert client.http.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 400
    assert all_on(person)


def test_a_link_made_for_another_purpose_is_refused(app, client, make_user):
    person = make_user()
    path = "/notifications/unsubscribe/" + make_token("unsubscribe", person.id, k="answers")
    assert client.post_form(path).status_code == 400
    assert all_on(person)


def test_an_unsubscribe_post_without_csrf_token_and_not_one_click_changes_nothing(
    app, client, make_user
):
    person = make_user()
    path = link_path(person, "answers")
    client.get(path)  # a session exists, so only the token is missing
    assert client.http.post(path, data={}).status_code == 400
    assert client.http.post(path, data={"List-Unsubscribe": "Yes"}).status_code == 400
    assert client.http.post(path, data={"csrf_token": "wrong"}).status_code == 400
    assert all_on(person)


def test_following_a_draft_or_unknown_challenge_is_a_404(app, client, make_user, login):
    challenge = upcoming_challenge()
    challenge.submission_opens_at = now() + timedelta(days=30)
    db.session.commit()
    login(make_user())
    assert client.post_form(f"/challenges/{challenge.id}/follow").status_code == 404
    assert client.post_form("/challenges/999999/follow").status_code == 404
    assert client.post_form("/challenges/99999999999999/follow").status_code == 404
    assert followers(challenge) == 0


def test_an_unverified_account_may_not_follow(app, client, make_user, login):
    challenge = upcoming_challenge()
    login(make_user(verified=False))
    assert client.post_form(f"/challenges/{challenge.id}/follow").status_code == 403
    assert followers(challenge) == 0


def test_a_visitor_is_sent_to_the_login(app, client):
    challenge = upcoming_challenge()
    response = client.post_form(f"/challenges/{challenge.id}/follow")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]
    assert followers(challenge) == 0


def test_following_and_settings_without_csrf_token_change_nothing(app, client, make_user, login):
    challenge = upcoming_challenge()
    person = make_user()
    login(person)
    assert client.http.post(f"/challenges/{challenge.id}/follow").status_code == 400
    assert followers(challenge) == 0
    response = client.http.post("/account/mail-settings", data={"digest": "y"})
    assert response.status_code == 400
    assert all_on(person)
    # A GET never changes anything.
    assert client.get(f"/challenges/{challenge.id}/follow").status_code == 405
