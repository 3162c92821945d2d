"""The sign-on's settings and its answers when the provider is away or misconfigured."""

import pytest
from setup_support import app_settings, free_port
from testdata import html, says, shows

from consult import create_app

BUTTON = "Sign in with your city account"


def test_the_login_page_offers_the_city_account(client, provider):
    response = client.get("/account/login?next=/challenges")
    assert shows(response, BUTTON)
    assert 'href="/account/sso/login?next=/challenges"' in html(response)


def test_the_next_page_survives_the_sign_on(client, provider):
    response = client.get("/account/sso/login?next=/challenges")
    back = provider.authorize(response.headers["Location"], "bernd")
    parts = back.split("localhost", 1)[1]
    assert client.get(parts).headers["Location"] == "/challenges"


def test_without_an_issuer_there_is_no_sign_on(database_url, tmp_path):
    app = create_app(app_settings(database_url, str(tmp_path)))
    client = app.test_client()
    page = client.get("/account/login")
    assert says(BUTTON) not in page.get_data(as_text=True)
    assert client.get("/account/sso/login").status_code == 404
    assert client.get("/account/sso/callback?code=x&state=y").status_code == 404


def test_an_issuer_needs_a_client(database_url, tmp_path):
    with pytest.raises(RuntimeError, match="SSO_CLIENT_SECRET"):
        create_app(
            app_settings(
                database_url, str(tmp_path), SSO_ISSUER="https://id.example", SSO_CLIENT_ID="c"
            )
        )
    with pytest.raises(RuntimeError, match="unknown roles"):
        create_app(
            app_settings(
                database_url,
                str(tmp_path),
                SSO_ROLE_MAP="admins=superuser",
            )
        )


def test_an_unreachable_provider_gives_a_clear_page(client, provider, database_url, tmp_path):
    settings = provider.settings(SSO_ISSUER=f"http://127.0.0.1:{free_port()}", SSO_TIMEOUT=1)
    app = create_app(app_settings(database_url, str(tmp_path), **settings))
    client = type(client)(app.test_client())
    response = client.get("/account/sso/login")
    assert response.status_code == 503
    assert shows(
        response,
        "The city's sign-in service cannot be reached at the moment. Please try again later.",
    )


def test_a_discovery_document_of_another_issuer_is_refused(client, provider, app):
    app.config["SSO_ISSUER"] = provider.issuer + "/realms/other"
    response = client.get("/account/sso/login")
    assert response.status_code == 503
    assert shows(
        response, "The city's sign-in service is not set up correctly. Please tell the city."
    )


def test_a_refusal_by_the_provider_is_a_clear_page(client, provider):
    from urllib.parse import parse_qs, urlsplit

    state = parse_qs(urlsplit(client.get("/account/sso/login").headers["Location"]).query)["state"][
        0
    ]
    response = client.get(f"/account/sso/callback?error=access_denied&state={state}")
    assert response.status_code == 400
    assert shows(response, "The city's sign-in service did not sign you in. Please try again.")


def test_starting_a_sign_on_writes_nothing_but_the_session(client, provider):
    from sqlalchemy import func, select

    from consult.audit.models import AuditEntry
    from consult.extensions import db

    assert client.get("/account/sso/login").status_code == 302
    assert client.http.post("/account/sso/login").status_code == 405
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_a_hanging_provider_is_given_up_on(client, provider, database_url, tmp_path):
    import socket
    import time

    with socket.socket() as silent:  # accepts connections (backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        issuer = f"http://127.0.0.1:{silent.getsockname()[1]}"
        settings = provider.settings(SSO_ISSUER=issuer, SSO_TIMEOUT=0.5)
        app = create_app(app_settings(database_url, str(tmp_path), **settings))
        started = time.monotonic()
        response = type(client)(app.test_client()).get("/account/sso/login")
        assert response.status_code == 503
        assert time.monotonic() - started < 3
