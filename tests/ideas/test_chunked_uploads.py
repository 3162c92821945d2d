"""Bodies sent in chunks (Transfer-Encoding: chunked, no Content-Length) are held to
MAX_CONTENT_LENGTH like any other: over it, the 413 page in the user's language and
nothing changed; within it, they work. Through the test client and through gunicorn."""

from io import BytesIO
from urllib.parse import urlencode

import pytest
from idea_support import build_world, count, idea_form, photo_bytes, says
from live_server import Browser, gunicorn
from sqlalchemy import select
from testdata import PASSWORD
from werkzeug.test import EnvironBuilder

from consult.extensions import db
from consult.ideas.models import Idea
from consult.media.models import Image
from consult.ratelimit import RateLimitCounter

LIMIT = 64 * 1024
TOO_LARGE = "The data you sent is larger than we accept. Please send a smaller file."
URLENCODED = "application/x-www-form-urlencoded"


@pytest.fixture
def app_config():
    # A small limit keeps the bodies small; the rule is the same at 10 MB.
    return {"MAX_CONTENT_LENGTH": LIMIT}


@pytest.fixture
def world(app, make_user):
    return build_world(make_user)


def multipart(fields: dict) -> tuple[bytes, str]:
    """The body a browser would send for ``fields`` (files as (stream, name) tuples)."""
    environ = EnvironBuilder(method="POST", data=fields).get_environ()
    return environ["wsgi.input"].read(), environ["CONTENT_TYPE"]


def send_chunked(client, url, body: bytes, content_type: str, language="de", terminated=True):
    """POST ``body`` in chunks, as gunicorn and Werkzeug's server hand it to the app:
    no length, and ``wsgi.input_terminated`` set because the server ends the stream."""
    return client.http.post(
        url,
        input_stream=BytesIO(body),
        headers={
            "Transfer-Encoding": "chunked",
            "Content-Type": content_type,
            "Accept-Language": language,
        },
        environ_base={"wsgi.input_terminated": True} if terminated else {},
    )


def idea_with_photo(client, world, photo: bytes) -> tuple[bytes, str]:
    fields = idea_form(world, image_alt="Foto", csrf_token=client.csrf_token())
    fields["image"] = (BytesIO(photo), "photo.jpg")
    return multipart(fields)


def new_idea_url(world) -> str:
    return f"/challenges/{world.challenge.id}/ideas/new"


@pytest.mark.parametrize("locale", ["de", "en"])
def test_a_chunked_photo_over_the_limit_is_413_and_stores_nothing(client, world, login, locale):
    author = world.author if locale == "de" else world.english
    login(author)
    body, content_type = idea_with_photo(client, world, b"\xff\xd8\xff" + b"\0" * LIMIT)
    response = send_chunked(client, new_idea_url(world), body, content_type)
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert f'<html lang="{locale}">' in page and says(TOO_LARGE, locale) in page
    assert count(Idea) == 0 and count(Image) == 0


def test_a_chunked_photo_within_the_limit_is_saved(client, world, login):
    login(world.author)
    body, content_type = idea_with_photo(client, world, photo_bytes())
    assert len(body) < LIMIT
    response = send_chunked(client, new_idea_url(world), body, content_type)
    assert response.status_code == 302, response.get_data(as_text=True)
    idea = db.session.scalar(select(Idea))
    assert idea.title == "Bänke im Westpark" and idea.image_id is not None


def login_body(token: str, email: str, password: str, size: int | None = None) -> bytes:
    body = urlencode({"csrf_token": token, "email": email, "password": password}).encode()
    if size is not None:  # padded with a field the form ignores, to exactly ``size`` bytes
        body += b"&pad=" + b"x" * (size - len(body) - 5)
        assert len(body) == size
    return body


@pytest.mark.parametrize("locale", ["de", "en"])
def test_a_chunked_login_over_the_limit_is_413_and_counts_no_attempt(client, make_user, locale):
    """Before, the body was cut at the limit and the cut form was processed: a wrong
    password (a failed attempt counted against the account), or "form expired"."""
    user = make_user()
    body = login_body(client.csrf_token(), user.email, PASSWORD, size=LIMIT + 1)
    response = send_chunked(client, "/account/login", body, URLENCODED, language=locale)
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert f'<html lang="{locale}">' in page and says(TOO_LARGE, locale) in page
    assert db.session.scalars(select(RateLimitCounter)).all() == []
    assert client.get("/account/profile").status_code == 302  # not logged in


def test_a_chunked_body_of_exactly_the_limit_is_accepted(client, make_user):
    user = make_user()
    body = login_body(client.csrf_token(), user.email, PASSWORD, size=LIMIT)
    response = send_chunked(client, "/account/login", body, URLENCODED)
    assert response.status_code == 302
    assert client.get("/account/profile").status_code == 200


def test_a_chunked_body_the_server_does_not_end_is_411_not_form_expired(client, make_user):
    """A server that leaves a chunked body unterminated: the app cannot read it safely,
    and says so (411) instead of calling the form expired."""
    user = make_user()
    body = login_body(client.csrf_token(), user.email, PASSWORD)
    response = send_chunked(client, "/account/login", body, URLENCODED, terminated=False)
    assert response.status_code == 411
    assert says("Please send the data with its length (Content-Length).", "de") in (
        response.get_data(as_text=True)
    )


# --- through gunicorn, over a real socket -------------------------------------------------


def pieces(body: bytes, size: int = 4096):
    for start in range(0, len(body), size):
        yield body[start : start + size]


def test_gunicorn_answers_a_chunked_login_over_the_limit_with_413(app, make_user):
    user = make_user()
    with gunicorn(app) as port:
        for locale in ("de", "en"):
            browser = Browser(port, language=locale)
            body = login_body(browser.fetch_token(), user.email, PASSWORD, size=LIMIT + 1)
            status, _headers, page = browser.request(
                "POST", "/account/login", pieces(body), {"Content-Type": URLENCODED}, chunked=True
            )
            assert status == 413
            assert f'<html lang="{locale}">' in page and says(TOO_LARGE, locale) in page
        # Within the limit, the same chunked login works.
        body = login_body(browser.token, user.email, PASSWORD)
        status, headers, _page = browser.request(
            "POST", "/account/login", pieces(body), {"Content-Type": URLENCODED}, chunked=True
        )
        assert status == 302 and headers["Location"] != "/account/login"
    assert db.session.scalars(select(RateLimitCounter)).all() == []


def test_gunicorn_answers_a_chunked_photo_over_the_limit_with_413(app, world):
    with gunicorn(app) as port:
        browser = Browser(port)
        browser.log_in(world.author.email, PASSWORD)
        fields = idea_form(world, image_alt="Foto", csrf_token=browser.token)
        fields["image"] = (BytesIO(b"\xff\xd8\xff" + b"\0" * 2 * LIMIT), "photo.jpg")
        body, content_type = multipart(fields)
        status, _headers, page = browser.request(
            "POST", new_idea_url(world), pieces(body), {"Content-Type": content_type},
            chunked=True,
        )  # fmt: skip
        assert status == 413 and says(TOO_LARGE, "de") in page
    assert count(Idea) == 0 and count(Image) == 0
