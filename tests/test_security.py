"""The security baseline: headers, cookies, no inline script, no third-party requests,
safe redirects, friendly error pages in both languages."""

import re

import pytest
from flask import Blueprint, abort

from consult import create_app
from consult.security import is_safe_next

PUBLIC_PAGES = [
    "/",
    "/imprint",
    "/privacy",
    "/accessibility",
    "/account/login",
    "/account/register",
    "/account/forgot-password",
]


def test_security_headers_on_every_page(client):
    for path in PUBLIC_PAGES + ["/missing"]:
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        script_src = re.search(r"script-src ([^;]+)", csp).group(1)
        assert script_src.strip() == "'self'", path
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert "frame-ancestors 'none'" in csp
        assert "object-src 'none'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert "Strict-Transport-Security" not in headers  # plain HTTP: no HSTS


def test_hsts_behind_https(client):
    response = client.get("/", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_hsts_through_a_trusted_proxy(database_url, tmp_path):
    app = create_app(
        {
            "SECRET_KEY": "x" * 32,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "PROXY_COUNT": 1,
            "MAIL_DIR": str(tmp_path),
        }
    )
    response = app.test_client().get("/", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" in response.headers


def test_pages_have_no_inline_script_style_or_foreign_resources(client):
    for path in PUBLIC_PAGES:
        html = client.get(path).get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), path
        assert not re.search(r"\son[a-z]+\s*=", html), path
        assert "style=" not in html and "<style" not in html, path
        for url in re.findall(r'(?:src|href)="([^"]+)"', html):
            assert not re.match(r"(https?:)?//", url) or "localhost" in url, (path, url)


def test_session_cookie_is_httponly_lax_and_secure_by_default(database_url, tmp_path):
    app = create_app(
        {"SECRET_KEY": "x" * 32, "SQLALCHEMY_DATABASE_URI": database_url, "MAIL_DIR": str(tmp_path)}
    )
    response = app.test_client().get("/account/login")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie


def test_app_refuses_to_start_without_a_secret_key(monkeypatch):
    monkeypatch.delenv("CONSULT_SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"SECRET_KEY": None})


@pytest.mark.parametrize(
    "target, safe",
    [
        ("/account/profile", True),
        ("/?a=1", True),
        ("//evil.example", False),
        ("https://evil.example", False),
        ("/\\evil.example", False),
        ("http:/evil.example", False),
        ("javascript:alert(1)", False),
        ("/\t/evil.example", False),
        ("", False),
        (None, False),
    ],
)
def test_next_targets(target, safe):
    assert is_safe_next(target) is safe


def test_method_not_allowed_is_a_friendly_405_with_allow(client):
    response = client.get("/account/logout")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
    assert '<html lang="de">' in response.get_data(as_text=True)


@pytest.mark.parametrize("lang", ["de", "en"])
def test_error_pages_speak_the_visitors_language(app, client, lang):
    from flask_babel import force_locale, gettext

    response = client.get("/no/such/page", headers={"Accept-Language": lang})
    assert response.status_code == 404
    with force_locale(lang):
        title = gettext("Page not found")
    body = response.get_data(as_text=True)
    assert f'<html lang="{lang}">' in body and title in body


@pytest.fixture
def app_config():
    return {"PROPAGATE_EXCEPTIONS": False}


@pytest.mark.parametrize("code", [403, 404, 413, 429, 500])
def test_every_error_code_has_a_page(app, client, code):
    bp = Blueprint(f"boom{code}", __name__)

    @bp.get(f"/boom/{code}")
    def boom():
        if code == 500:
            raise ZeroDivisionError("boom")
        abort(code)

    app.register_blueprint(bp)
    response = client.get(f"/boom/{code}", headers={"Accept-Language": "en"})
    assert response.status_code == code
    body = response.get_data(as_text=True)
    assert '<html lang="en">' in body and f"Error code: {code}" in body
    assert "Traceback" not in body and "ZeroDivisionError" not in body


def test_personal_pages_are_private_and_pages_vary_by_language(client, make_user, login):
    public = client.get("/")
    assert "private" not in public.headers.get("Cache-Control", "")
    assert {"Accept-Language", "Cookie"} <= set(public.headers["Vary"].replace(" ", "").split(","))
    login(make_user())
    for path in ("/", "/account/profile", "/account/data.json"):
        assert client.get(path).headers["Cache-Control"] == "private, no-store", path


@pytest.mark.parametrize("path", ["/challenges/{}", "/ideas/{}", "/media/{}/abc.webp"])
def test_ids_too_large_for_the_database_are_not_found(client, path):
    assert client.get(path.format("9" * 300)).status_code == 404
    assert client.get(path.format(2**31)).status_code == 404
