"""HTTP caching: public pages get an ETag, 304 and Cache-Control public for visitors;
pages seen while logged in are private; anonymous visitors get no cookie at all."""

import pytest

PUBLIC_PAGES = ["/", "/imprint", "/privacy", "/accessibility"]


@pytest.fixture
def challenge(make_challenge, make_idea):
    challenge = make_challenge("voting")
    make_idea(challenge, title="Eine Idee", vote_count=3)
    return challenge


def _urls(challenge):
    base = f"/challenges/{challenge.id}"
    return [*PUBLIC_PAGES, base, base + "?sort=votes&q=Idee", base + "?sort=random&seed=42"]


def test_anonymous_pages_are_public_with_an_etag_and_no_cookie(client, challenge):
    for url in _urls(challenge):
        response = client.get(url)
        assert response.status_code == 200, url
        cache = response.cache_control
        assert cache.public and not cache.private and not cache.no_store, url
        assert 0 < cache.max_age <= 3600, url
        assert response.headers["ETag"].startswith('"'), url
        assert "Set-Cookie" not in response.headers, url
        assert {"Accept-Language", "Cookie"} <= set(response.vary), url
    assert client.get(f"/challenges/{challenge.id}").cache_control.max_age == 60


def test_if_none_match_answers_304(client, challenge):
    for url in _urls(challenge):
        first = client.get(url)
        again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304, url
        assert again.data == b"" and again.headers["ETag"] == first.headers["ETag"]
        assert again.cache_control.public
        stale = client.get(url, headers={"If-None-Match": '"something-else"'})
        assert stale.status_code == 200 and stale.data == first.data


def test_the_etag_changes_with_the_content_and_the_language(client, challenge):
    from consult.extensions import db

    url = f"/challenges/{challenge.id}"
    german = client.get(url).headers["ETag"]
    english = client.get(url, headers={"Accept-Language": "en"}).headers["ETag"]
    assert german != english
    challenge.question_de = "Eine neue Frage?"
    db.session.commit()
    assert client.get(url).headers["ETag"] != german


def test_head_requests_are_cached_too(client, challenge):
    response = client.head(f"/challenges/{challenge.id}")
    assert response.status_code == 200 and response.headers["ETag"]
    assert response.cache_control.public


def test_logged_in_pages_are_private(client, challenge, make_user, login):
    login(make_user())
    for url in _urls(challenge):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response.headers["Cache-Control"] == "private, no-store", url
        assert "ETag" not in response.headers, url


def test_staff_see_drafts_privately(client, make_challenge, make_user, login):
    draft = make_challenge("draft")
    login(make_user(roles=("citizen", "staff")))
    response = client.get(f"/challenges/{draft.id}")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "private, no-store"


def test_a_page_showing_a_flashed_message_is_not_public(client, challenge):
    with client.session_transaction() as session:
        session["_flashes"] = [("success", "Only for you")]
    response = client.get("/")
    assert "Only for you" in response.text
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "ETag" not in response.headers


def test_errors_are_not_cached_publicly(client, make_challenge):
    draft = make_challenge("draft")
    response = client.get(f"/challenges/{draft.id}")
    assert response.status_code == 404
    assert "public" not in response.headers.get("Cache-Control", "")
    assert "ETag" not in response.headers


def test_the_health_check_is_bare(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.data == b"ok\n"
    assert response.mimetype == "text/plain" and response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers


def test_a_public_response_never_sets_a_cookie(client, challenge, make_user, login):
    # After the login form the session holds a CSRF token: whatever the pages then do
    # with the session, a response that sets a cookie must not be shared by caches.
    client.get("/account/login")
    for url in _urls(challenge):
        response = client.get(url)
        assert not (response.cache_control.public and "Set-Cookie" in response.headers), url
    login(make_user())
    client.post_form("/account/logout")
    for url in _urls(challenge):
        response = client.get(url)
        assert not (response.cache_control.public and "Set-Cookie" in response.headers), url
