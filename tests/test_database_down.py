"""Error pages render without the database: a signed-in person whose request meets a
database that cannot be reached gets consult's own page (503, 404, 500) in the language
of their cookie or browser, never a bare "Internal Server Error" or a traceback."""

import pytest
from flask import Blueprint
from flask_babel import force_locale, gettext
from live_server import Browser, gunicorn
from setup_support import app_settings, free_port

from consult import create_app
from consult.i18n import LANG_COOKIE

COOKIE = "consult_session"


@pytest.fixture
def signed_in_cookie(app, client, make_user, login):
    """A session cookie of a signed-in citizen whose own language setting is German."""
    login(make_user(locale="de"))
    return client.http.get_cookie(COOKIE).value


@pytest.fixture
def database_down(tmp_path):
    """The same consult, but its PostgreSQL is a port where nothing listens."""
    url = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/test"
    app = create_app(app_settings(url, str(tmp_path / "mail"), PROPAGATE_EXCEPTIONS=False))
    bp = Blueprint("broken", __name__)

    @bp.get("/broken")
    def broken():
        raise ZeroDivisionError("a bug, while the database is down too")

    app.register_blueprint(bp)
    return app


def visit(app, path, cookie, language=None, accept="de"):
    client = app.test_client()
    client.set_cookie(COOKIE, cookie)
    if language:
        client.set_cookie(LANG_COOKIE, language)
    return client.get(path, headers={"Accept-Language": accept})


def says(locale, text):
    with force_locale(locale):
        return gettext(text)


def assert_consult_page(response, locale, title):
    body = response.get_data(as_text=True)
    assert f'<html lang="{locale}">' in body
    assert '<header class="site-header">' in body and '<main id="main"' in body
    assert f"<h1>{says(locale, title)}</h1>" in body
    # Drawn as for a visitor: who is signed in is not known without the database.
    assert says(locale, "Log in") in body and says(locale, "Log out") not in body
    assert "Traceback" not in body and "OperationalError" not in body


@pytest.mark.parametrize(
    ("language", "accept", "expected"),
    [(None, "en-GB,en;q=0.9", "en"), (None, "de", "de"), ("en", "de", "en"), ("de", "en", "de")],
)
def test_a_page_needing_the_database_is_a_503_in_the_visitors_language(
    signed_in_cookie, database_down, language, accept, expected
):
    response = visit(database_down, "/", signed_in_cookie, language, accept)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert response.headers["Cache-Control"] == "no-store"
    assert_consult_page(response, expected, "This service is briefly unavailable")
    # The security headers are still there (they ask who is signed in, too).
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize("locale", ["de", "en"])
def test_not_found_renders_without_the_database(signed_in_cookie, database_down, locale):
    response = visit(database_down, "/no/such/page", signed_in_cookie, accept=locale)
    assert response.status_code == 404
    assert_consult_page(response, locale, "Page not found")


@pytest.mark.parametrize("locale", ["de", "en"])
def test_a_bug_while_the_database_is_down_is_a_500_page(signed_in_cookie, database_down, locale):
    response = visit(database_down, "/broken", signed_in_cookie, accept=locale)
    assert response.status_code == 500
    assert_consult_page(response, locale, "Something went wrong on our side")


def test_the_person_stays_signed_in_for_when_the_database_is_back(
    app, client, signed_in_cookie, database_down
):
    """The error page drew them as a visitor, but did not log them out."""
    down = database_down.test_client()
    down.set_cookie(COOKIE, signed_in_cookie)
    assert down.get("/").status_code == 503
    cookie = down.get_cookie(COOKIE)
    back = app.test_client()
    back.set_cookie(COOKIE, cookie.value if cookie else signed_in_cookie)
    page = back.get("/account/profile")
    assert page.status_code == 200


def test_gunicorn_shows_consults_page_not_a_bare_internal_server_error(app, signed_in_cookie):
    closed = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/test"
    with gunicorn(app, SQLALCHEMY_DATABASE_URI=closed) as port:
        for locale in ("de", "en"):
            browser = Browser(port, language=locale)
            browser.cookies[COOKIE] = signed_in_cookie
            status, headers, body = browser.request("GET", "/")
            assert status == 503 and headers["Retry-After"] == "30"
            assert f'<html lang="{locale}">' in body and '<header class="site-header">' in body
            assert f"<h1>{says(locale, 'This service is briefly unavailable')}</h1>" in body
            assert "Internal Server Error" not in body and "Traceback" not in body
