"""Who gets a cached page: only anonymous visitors without a session. A logged-in person is
never answered from the cache nor stored into it, so no person's page reaches another;
no Set-Cookie is ever stored; hidden vote counts stay hidden."""

from datetime import timedelta

import pytest
from cache_support import pages, state, warm
from flask import flash, make_response
from testdata import PASSWORD, says
from voting_support import challenge_with_ideas, count_label

from consult.clock import frozen
from consult.extensions import db
from consult.page_cache import cached_page, store
from consult.voting.services import cast_vote


@pytest.fixture
def world(app, make_user):
    challenge, ideas = challenge_with_ideas(2, budget=5)
    return challenge, ideas, make_user(pseudonym="Anna"), make_user(pseudonym="Bernd")


def test_a_logged_in_person_never_gets_the_cached_page_nor_fills_the_cache(
    app, client, login, world
):
    challenge, (idea, _other), anna, _bernd = world
    urls = ["/", f"/challenges/{challenge.id}", f"/ideas/{idea.id}"]
    for url in urls:
        warm(client, url)
    entries = len(pages())
    login(anna)
    cast_vote(anna, challenge, idea.id)
    for url in urls:
        response = client.get(url)
        assert state(response) == "bypass", url
        assert says("Log out") in response.get_data(as_text=True)  # her own page
        assert response.cache_control.private and response.cache_control.no_store
    assert len(pages()) <= entries  # nothing of hers was stored (the vote emptied it)
    # A visitor afterwards gets a page rendered for visitors, without her name.
    visitor = app.test_client()
    for url in urls:
        first = visitor.get(url)
        assert state(first) == "miss" and says("Log out") not in first.get_data(as_text=True)


def test_one_persons_page_never_reaches_another(app, client, login, world):
    challenge, (idea, _other), anna, bernd = world
    login(anna)
    cast_vote(anna, challenge, idea.id)
    voted = 'aria-pressed="true"'
    assert voted in client.get(f"/ideas/{idea.id}").get_data(as_text=True)
    other = type(client)(app.test_client())  # with CSRF handling, as the fixture
    other.post_form("/account/login", {"email": bernd.email, "password": PASSWORD})
    page = other.get(f"/ideas/{idea.id}")
    assert state(page) == "bypass" and voted not in page.get_data(as_text=True)


@pytest.mark.parametrize("cookie", ["consult_session", "remember_token", "anything"])
def test_a_request_with_a_session_cookie_never_uses_the_cache(app, client, world, cookie):
    challenge, _ideas, _anna, _bernd = world
    url = f"/challenges/{challenge.id}"
    warm(client, url)
    with_cookie = app.test_client()
    with_cookie.set_cookie(cookie, "x")
    assert state(with_cookie.get(url)) == "bypass"
    # The language cookie is part of the key, not a person: it uses the cache.
    english = app.test_client()
    english.set_cookie("consult_lang", "en")
    assert state(english.get(url)) == "miss" and state(english.get(url)) == "hit"
    assert 'lang="en"' in english.get(url).get_data(as_text=True)


def test_no_set_cookie_and_no_flashed_message_is_ever_stored(app):
    def with_cookie():
        response = make_response("<p>cookie</p>")
        response.set_cookie("tracker", "1")
        return response

    def with_flash():
        flash("Just once")
        return "<p>flash</p>"

    app.add_url_rule("/t/cookie", "t_cookie", cached_page(60)(with_cookie))
    app.add_url_rule("/t/flash", "t_flash", cached_page(60)(with_flash))
    # Without a cookie jar: the cookie set would otherwise make the next request bypass.
    client = app.test_client(use_cookies=False)
    for url in ("/t/cookie", "/t/flash"):
        assert state(client.get(url)) == "miss"
        assert state(client.get(url)) == "miss", url  # never stored, so never a hit
    assert len(pages()) == 0
    # Whatever is stored keeps only the content headers, never a cookie.
    client.get("/")
    for raw in store()._entries.values():
        head = raw.partition(b"\n")[0]
        assert b"Set-Cookie" not in head and b"Cache-Control" not in head
    hit = client.get("/")
    assert state(hit) == "hit" and "Set-Cookie" not in hit.headers


def test_hidden_counts_stay_hidden_in_cached_pages(app, client, world):
    challenge, (idea, other), anna, bernd = world
    challenge.hide_counts_while_voting = True
    db.session.commit()
    cast_vote(anna, challenge, idea.id)
    cast_vote(bernd, challenge, idea.id)
    urls = [f"/challenges/{challenge.id}", f"/ideas/{idea.id}"]
    for url in urls:
        assert count_label(2) not in warm(client, url)
    # Sorting by votes would reveal the ranking: ignored, and such a page is not stored.
    by_votes = f"/challenges/{challenge.id}?sort=votes"
    assert state(client.get(by_votes)) == "miss" and state(client.get(by_votes)) == "miss"
    with frozen(challenge.voting_closes_at + timedelta(seconds=1)):
        for url in urls:
            response = client.get(url)
            assert state(response) == "miss"
            assert count_label(2) in response.get_data(as_text=True)
