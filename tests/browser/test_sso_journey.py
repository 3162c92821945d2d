"""A city employee signs in with the city's account: the button on consult's login page,
the login page of a real OpenID provider (oidc-provider on loopback), and back at consult
signed in, with the staff role from the directory, at a desk (1280×900), in both languages.

``check`` (axe-core, CSP, no third-party requests) runs on consult's pages only: the
provider's page is the city's, not ours.
"""

import re
import threading

import pytest
from flask_babel import force_locale, gettext
from playwright.sync_api import expect
from setup_support import free_port
from sso_provider import running_provider
from werkzeug.serving import make_server

from consult.accounts.models import User
from consult.extensions import db

pytestmark = pytest.mark.browser

BROWSER_LOCALE = {"de": "de-DE", "en": "en-GB"}
PORT = free_port()  # the live server's port, known before the provider registers us


def tr(lang: str, msgid: str, **values) -> str:
    with force_locale(lang):
        return gettext(msgid, **values)


@pytest.fixture(scope="module")
def journey_provider():
    with running_provider([f"http://127.0.0.1:{PORT}/account/sso/callback"]) as provider:
        yield provider


@pytest.fixture
def app_config(journey_provider):
    journey_provider.reset()
    return journey_provider.settings()


class _Server:
    def __init__(self, url: str):
        self.url = url

    def __call__(self, path: str = "/") -> str:
        return self.url + path


@pytest.fixture
def live_server(app):
    """As tests/browser/conftest.py's, on the port the provider knows as our callback."""
    url = f"http://127.0.0.1:{PORT}"
    app.config["PUBLIC_URL"] = url
    server = make_server("127.0.0.1", PORT, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield _Server(url)
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.mark.parametrize("lang", ["de", "en"])
def test_staff_sign_in_with_the_city_account(
    app, phone, check, live_server, journey_provider, lang
):
    page = phone(BROWSER_LOCALE[lang], desktop=True)
    page.goto("/account/login")
    check(page)

    page.get_by_role("link", name=tr(lang, "Sign in with your city account")).click()
    # The provider's own login page.
    expect(page).to_have_url(re.compile(re.escape(journey_provider.issuer) + "/interaction/"))
    page.get_by_label("User name").fill("anna")
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(live_server("/"))
    expect(page.locator("main .flashes")).to_contain_text(
        tr(lang, "Welcome back, %(name)s!", name="Anna Amt")
    )
    check(page)
    db.session.expire_all()
    user = db.session.scalar(db.select(User).filter_by(email="anna.amt@stadt.example"))
    assert user.roles == {"staff"} and user.locale == lang

    # The provider vouched for a second factor: the staff pages open at once.
    page.goto("/staff/users")
    expect(page.get_by_role("main")).to_contain_text("Anna Amt")
    check(page)
