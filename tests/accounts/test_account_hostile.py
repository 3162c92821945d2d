"""Hostile input on the account pages.

Each case gets a clear 4xx with a message in the visitor's language (German unless the
visitor asks for English), and nothing is stored or changed: rows are counted and the
account is read again from the database.
"""

import re
from datetime import timedelta
from urllib.parse import quote

import pytest
from account_helpers import (
    NEW_PASSWORD,
    PASSWORD,
    count,
    fresh,
    html,
    logged_in,
    mail_link,
    register,
    registration,
    says,
    shows,
    user_by_email,
)
from flask import Blueprint

from consult import clock
from consult.accounts.models import RoleGrant, UsedToken, User
from consult.accounts.passwords import verify_password
from consult.accounts.tokens import make_token
from consult.extensions import db
from consult.permissions import role_required

BAD_CHARACTERS = "The form contained characters that are not allowed."
CSRF_MESSAGE = "Your form has expired or was not sent from our site. Please try again."
WRONG_LOGIN = "The e-mail address or the password is not correct."
NOT_VALID = "This link is not valid. Please copy it completely from the e-mail."
EXPIRED = "This link has expired. Please request a new one."
USED = "This link has already been used."


def _nothing_registered(mailbox):
    assert count(User) == 0
    assert count(RoleGrant) == 0
    assert mailbox.messages() == []


def _snapshot(user):
    user = fresh(user)
    return (
        user.email,
        user.pseudonym,
        user.pseudonym_key,
        user.locale,
        user.password_hash,
        user.session_version,
        user.email_verified_at,
        user.deleted_at,
        frozenset(user.roles),
    )


# --- registration -------------------------------------------------------------------------


def test_registering_an_existing_address_looks_like_success_and_changes_nothing(
    client, make_user, mailbox
):
    owner = make_user(email="anna@example.org", pseudonym="Anna", locale="en")
    before = _snapshot(owner)
    response = register(
        client, email="ANNA@example.org", password=NEW_PASSWORD, pseudonym="Mallory", locale="de"
    )
    assert response.status_code == 200
    assert shows(
        response,
        "We have sent a message to %(email)s. Please open the link in it to confirm your address.",
        email="ANNA@example.org",
    )
    assert count(User) == 1
    assert _snapshot(owner) == before
    messages = mailbox.to("anna@example.org")
    assert len(messages) == 1
    assert "/account/verify/" not in mailbox.text(messages[0])
    assert messages[0]["Content-Language"] == "en"  # the owner's language, not the visitor's


@pytest.mark.parametrize(
    "address",
    ["not-an-address", "anna@", "@example.org", "anna@example", "anna@@example.org", "a b@c.de"],
)
def test_a_malformed_address_is_refused(client, mailbox, address):
    response = register(client, email=address)
    assert response.status_code == 400
    assert shows(response, "Please enter a valid e-mail address.")
    _nothing_registered(mailbox)


def test_an_address_longer_than_the_limit_is_refused(client, mailbox):
    response = register(client, email="a" * 250 + "@example.org")
    assert response.status_code == 400
    assert shows(response, "Please use at most %(max)d characters.", max=254)
    _nothing_registered(mailbox)


@pytest.mark.parametrize(
    ("password", "message", "values"),
    [
        ("kurz7!a", "The password must have at least %(min)d characters.", {"min": 8}),
        (
            "passwort123",
            "This password is too common. Please choose one that is harder to guess.",
            {},
        ),
        (
            "Passwort!",
            "This password is too common. Please choose one that is harder to guess.",
            {},
        ),
        ("x" * 10_000, "The password may have at most %(max)d characters.", {"max": 256}),
        ("anna@example.org", "The password must not be your e-mail address or pseudonym.", {}),
        ("", "Please fill in this field.", {}),
    ],
    ids=["short", "common", "common-variant", "10000-characters", "the-address", "empty"],
)
def test_bad_passwords_are_refused_on_registration(client, mailbox, password, message, values):
    response = register(client, password=password)
    assert response.status_code == 400
    assert shows(response, message, **values)
    _nothing_registered(mailbox)


def test_a_256_character_passphrase_is_welcome(client, mailbox):
    passphrase = "Eine lange Geschichte über Dortmund. " * 7
    passphrase = passphrase[:256]
    assert len(passphrase) == 256
    assert register(client, password=passphrase).status_code == 200
    assert verify_password(user_by_email("anna@example.org").password_hash, passphrase)


def test_bad_passwords_are_explained_in_english_to_english_visitors(client, mailbox):
    response = register(client, password="kurz7!a", headers={"Accept-Language": "en"})
    assert response.status_code == 400
    assert '<html lang="en">' in html(response)
    assert shows(response, "The password must have at least %(min)d characters.", "en", min=8)
    _nothing_registered(mailbox)


@pytest.mark.parametrize(
    ("pseudonym", "message", "values"),
    [
        ("x" * 10_000, "Please use between %(min)d and %(max)d characters.", {"min": 3, "max": 40}),
        ("ab", "Please use between %(min)d and %(max)d characters.", {"min": 3, "max": 40}),
        # 40 ligatures that NFKC expands to 720 letters: a server error on PostgreSQL once.
        (
            "\ufdfa" * 40,
            "Please use between %(min)d and %(max)d characters.",
            {"min": 3, "max": 40},
        ),
        (
            "Anna\u202egnurdlaw",
            "Please use only letters, digits, spaces and . - _ ' in your public name.",
            {},
        ),
        (
            "An\u200bna",
            "Please use only letters, digits, spaces and . - _ ' in your public name.",
            {},
        ),
        (
            "Anna\ufeff",
            "Please use only letters, digits, spaces and . - _ ' in your public name.",
            {},
        ),
        (
            "<b>Anna</b>",
            "Please use only letters, digits, spaces and . - _ ' in your public name.",
            {},
        ),
        ("- - -", "Your public name needs at least one letter or digit.", {}),
    ],
    ids=[
        "10000-characters",
        "short",
        "ligatures",
        "rtl-override",
        "zero-width",
        "bom",
        "html",
        "no-letter",
    ],
)
def test_bad_pseudonyms_are_refused(client, mailbox, pseudonym, message, values):
    response = register(client, pseudonym=pseudonym)
    assert response.status_code == 400
    assert shows(response, message, **values)
    _nothing_registered(mailbox)


@pytest.mark.parametrize(
    "variant", ["anna bauer", "ANNA BAUER", "Anna  Bauer", "Ａｎｎａ Ｂａｕｅｒ"]
)
def test_a_pseudonym_differing_only_in_case_or_width_is_taken(client, make_user, mailbox, variant):
    make_user(email="first@example.org", pseudonym="Anna Bauer")
    mailbox.clear()
    response = register(client, pseudonym=variant)
    assert response.status_code == 400
    assert shows(response, "This public name is already taken. Please choose another.")
    assert count(User) == 1 and mailbox.messages() == []


def test_registration_needs_the_consent(client, mailbox):
    response = register(client, consent=None)
    assert response.status_code == 400
    assert shows(response, "Please agree to continue.")
    _nothing_registered(mailbox)


def test_registration_refuses_an_unknown_language(client, mailbox):
    response = register(client, locale="xx")
    assert response.status_code == 400
    assert '<html lang="de">' in html(response)
    _nothing_registered(mailbox)


def test_registration_with_empty_fields(client, mailbox):
    response = register(client, email="", password="", pseudonym="")
    assert response.status_code == 400
    assert html(response).count(says("Please fill in this field.")) == 3
    _nothing_registered(mailbox)


# --- NUL bytes and invalid UTF-8 ----------------------------------------------------------

LOGIN = {"email": "anna@example.org", "password": PASSWORD, "remember": "y"}
ANONYMOUS_FORMS = [
    ("/account/register", registration()),
    ("/account/login", LOGIN),
    ("/account/forgot-password", {"email": "anna@example.org"}),
]
ANONYMOUS_FIELDS = [(url, field) for url, data in ANONYMOUS_FORMS for field in data]


def _raw_post(client, url, data, field, tail: bytes, headers=None):
    """POST a form body as bytes, with ``tail`` glued to the (encoded) value of ``field``."""
    fields = {**data, "csrf_token": client.csrf_token()}
    parts = []
    for name, value in fields.items():
        encoded = quote(value).encode("ascii")
        if name == field:
            encoded += tail
        parts.append(name.encode("ascii") + b"=" + encoded)
    return client.http.post(
        url,
        data=b"&".join(parts),
        content_type="application/x-www-form-urlencoded",
        headers=headers or {},
    )


@pytest.mark.parametrize(("url", "field"), ANONYMOUS_FIELDS)
def test_nul_bytes_in_any_field_are_refused(client, make_user, mailbox, url, field):
    data = dict(next(d for u, d in ANONYMOUS_FORMS if u == url))
    if url != "/account/register":
        make_user(email="anna@example.org")
        mailbox.clear()
    data[field] = data[field][:4] + "\x00" + data[field][4:]
    users = count(User)
    response = client.post_form(url, data)
    assert response.status_code == 400
    assert shows(response, BAD_CHARACTERS)
    assert count(User) == users and mailbox.messages() == []
    assert not logged_in(client)


@pytest.mark.parametrize("tail", [b"%FF", b"\xff\xfe", b"%C3%28", b"%ED%A0%80"])
@pytest.mark.parametrize(("url", "field"), ANONYMOUS_FIELDS)
def test_invalid_utf8_in_any_field_is_refused(client, make_user, mailbox, url, field, tail):
    data = next(d for u, d in ANONYMOUS_FORMS if u == url)
    if url != "/account/register":
        make_user(email="anna@example.org")
        mailbox.clear()
    users = count(User)
    response = _raw_post(client, url, data, field, tail)
    assert response.status_code == 400
    assert shows(response, BAD_CHARACTERS)
    assert count(User) == users and mailbox.messages() == []
    assert not logged_in(client)


def test_invalid_utf8_is_refused_in_english_for_english_visitors(client, mailbox):
    response = _raw_post(
        client,
        "/account/register",
        registration(),
        "pseudonym",
        b"%FF",
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 400
    assert shows(response, BAD_CHARACTERS, "en")
    _nothing_registered(mailbox)


@pytest.mark.parametrize("query", ["next=%00", "next=%FF", "x=a%00b", "next=/account/%C0%AF"])
def test_bad_bytes_in_the_query_string_are_refused(client, query):
    response = client.get(f"/account/login?{query}")
    assert response.status_code == 400
    assert shows(response, BAD_CHARACTERS)


@pytest.mark.parametrize(
    ("url", "data", "field"),
    [
        ("/account/profile", {"pseudonym": "Anna Neu", "locale": "en"}, "pseudonym"),
        ("/account/profile", {"pseudonym": "Anna Neu", "locale": "en"}, "locale"),
        (
            "/account/password",
            {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
            "new_password",
        ),
        (
            "/account/email",
            {"new_email": "neu@example.org", "current_password": PASSWORD},
            "new_email",
        ),
        ("/account/delete", {"current_password": PASSWORD, "confirm": "y"}, "confirm"),
    ],
)
def test_nul_bytes_and_invalid_utf8_in_the_profile_forms(
    client, make_user, login, mailbox, url, data, field
):
    user = make_user(email="anna@example.org", pseudonym="Anna")
    login(user)
    before = _snapshot(user)
    mailbox.clear()
    with_nul = dict(data, **{field: data[field] + "\x00"})
    for response in (
        client.post_form(url, with_nul),
        _raw_post(client, url, data, field, b"%FF"),
    ):
        assert response.status_code == 400
        assert shows(response, BAD_CHARACTERS)
    assert _snapshot(user) == before
    assert mailbox.messages() == []
    assert logged_in(client)


# --- links from mails ---------------------------------------------------------------------


def _registered(client, mailbox):
    register(client)
    return user_by_email("anna@example.org"), mail_link(
        mailbox, "anna@example.org", "/account/verify/"
    )


def _tampered(link: str) -> str:
    prefix, token = link.rsplit("/", 1)
    # Any change to the signed part breaks the signature.
    token = token[:3] + ("A" if token[3] != "A" else "B") + token[4:]
    return f"{prefix}/{token}"


def test_a_forged_verification_link_is_refused(client, mailbox):
    user, link = _registered(client, mailbox)
    for forged in (_tampered(link), link[:-6], "/account/verify/not-a-token", link + "x"):
        for response in (client.get(forged), client.post_form(forged)):
            assert response.status_code == 400, forged
            assert shows(response, NOT_VALID)
    assert not fresh(user).is_verified and fresh(user).roles == set()
    assert count(UsedToken) == 0


def test_a_verification_link_signed_with_another_key_is_refused(app, client, mailbox):
    user, _link = _registered(client, mailbox)
    real_key = app.config["SECRET_KEY"]
    app.config["SECRET_KEY"] = "a guessed secret key of good length!"
    forged = make_token("verify", user.id, e=user.email)
    app.config["SECRET_KEY"] = real_key
    response = client.post_form(f"/account/verify/{forged}")
    assert response.status_code == 400 and shows(response, NOT_VALID)
    assert not fresh(user).is_verified


def test_an_expired_verification_link_is_refused(client, mailbox):
    user, link = _registered(client, mailbox)
    with clock.travel(timedelta(hours=48, minutes=1)):
        for response in (client.get(link), client.post_form(link)):
            assert response.status_code == 400
            assert shows(response, EXPIRED)
    assert not fresh(user).is_verified and count(UsedToken) == 0


def test_a_used_verification_link_cannot_be_used_again(client, mailbox):
    user, link = _registered(client, mailbox)
    assert client.post_form(link).status_code == 302
    verified_at = fresh(user).email_verified_at
    for response in (client.get(link), client.post_form(link)):
        assert response.status_code == 400
        assert shows(response, USED)
    assert fresh(user).email_verified_at == verified_at
    assert count(UsedToken) == 1


def test_a_verification_link_is_not_a_reset_link(client, mailbox):
    user, link = _registered(client, mailbox)
    token = link.rsplit("/", 1)[1]
    response = client.post_form(f"/account/reset/{token}", {"password": NEW_PASSWORD})
    assert response.status_code == 400 and shows(response, NOT_VALID)
    assert verify_password(fresh(user).password_hash, PASSWORD)
    response = client.post_form(f"/account/email/confirm/{token}")
    assert response.status_code == 400 and shows(response, NOT_VALID)


def _reset_link(client, mailbox, make_user):
    user = make_user(email="anna@example.org")
    client.post_form("/account/forgot-password", {"email": "anna@example.org"})
    return user, mail_link(mailbox, "anna@example.org", "/account/reset/")


def test_a_forged_reset_link_is_refused(client, mailbox, make_user):
    user, link = _reset_link(client, mailbox, make_user)
    before = _snapshot(user)
    for forged in (_tampered(link), link[:-6], "/account/reset/x"):
        assert client.get(forged).status_code == 400
        response = client.post_form(forged, {"password": NEW_PASSWORD})
        assert response.status_code == 400 and shows(response, NOT_VALID)
    assert _snapshot(user) == before


def test_an_expired_reset_link_is_refused(client, mailbox, make_user):
    user, link = _reset_link(client, mailbox, make_user)
    before = _snapshot(user)
    with clock.travel(timedelta(minutes=61)):
        response = client.post_form(link, {"password": NEW_PASSWORD})
    assert response.status_code == 400 and shows(response, EXPIRED)
    assert _snapshot(user) == before


def test_a_used_reset_link_cannot_be_used_again(client, mailbox, make_user):
    user, link = _reset_link(client, mailbox, make_user)
    assert client.post_form(link, {"password": NEW_PASSWORD}).status_code == 302
    before = _snapshot(user)
    response = client.post_form(link, {"password": "a third and final passphrase"})
    assert response.status_code == 400 and shows(response, USED)
    assert _snapshot(user) == before


def test_a_reset_link_dies_when_the_password_is_changed_otherwise(
    client, mailbox, make_user, login, app
):
    user, link = _reset_link(client, mailbox, make_user)
    login(user)
    client.post_form(
        "/account/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    before = _snapshot(user)
    response = app.test_client().post(link, data={"password": "x"})  # no token: 400 anyway
    assert response.status_code == 400
    response = client.post_form(link, {"password": "a third and final passphrase"})
    assert response.status_code == 400
    assert shows(response, "This link is no longer valid. Please request a new one.")
    assert _snapshot(user) == before


@pytest.mark.parametrize(
    ("password", "message", "values"),
    [
        ("kurz", "The password must have at least %(min)d characters.", {"min": 8}),
        (
            "passwort123",
            "This password is too common. Please choose one that is harder to guess.",
            {},
        ),
        ("y" * 10_000, "The password may have at most %(max)d characters.", {"max": 256}),
    ],
)
def test_bad_passwords_are_refused_on_reset(client, mailbox, make_user, password, message, values):
    user, link = _reset_link(client, mailbox, make_user)
    before = _snapshot(user)
    response = client.post_form(link, {"password": password})
    assert response.status_code == 400 and shows(response, message, **values)
    assert _snapshot(user) == before


def _email_change_link(client, mailbox, make_user, login, new="neu@example.org"):
    user = make_user(email="anna@example.org")
    login(user)
    response = client.post_form("/account/email", {"new_email": new, "current_password": PASSWORD})
    assert response.status_code == 302
    return user, mail_link(mailbox, new, "/account/email/confirm/")


def test_an_address_taken_by_confirmation_time_is_refused(client, mailbox, make_user, login):
    user, link = _email_change_link(client, mailbox, make_user, login)
    other = make_user(email="neu@example.org")
    before = _snapshot(user)
    response = client.post_form(link)
    assert response.status_code == 400
    assert shows(response, "This e-mail address already belongs to another account.")
    assert _snapshot(user) == before
    assert fresh(other).email == "neu@example.org"
    # Once the address is free again the same link still works: nothing was used up.
    db.session.delete(fresh(other))
    db.session.commit()
    assert client.post_form(link).status_code == 302
    assert fresh(user).email == "neu@example.org"


def test_an_address_change_to_a_registered_address_is_not_revealed(
    client, mailbox, make_user, login
):
    make_user(email="taken@example.org")
    user, link = _email_change_link(client, mailbox, make_user, login, new="taken@example.org")
    assert shows(
        client.get("/account/profile"),
        "We have sent a confirmation link to the new address. "
        "Your address changes once you open it.",
    )
    assert client.post_form(link).status_code == 400
    assert fresh(user).email == "anna@example.org"


def test_address_change_links_are_forged_expired_and_used_up(client, mailbox, make_user, login):
    user, link = _email_change_link(client, mailbox, make_user, login)
    before = _snapshot(user)
    response = client.post_form(_tampered(link))
    assert response.status_code == 400 and shows(response, NOT_VALID)
    with clock.travel(timedelta(hours=49)):
        response = client.post_form(link)
    assert response.status_code == 400 and shows(response, EXPIRED)
    assert _snapshot(user) == before
    assert client.post_form(link).status_code == 302
    response = client.post_form(link)
    assert response.status_code == 400 and shows(response, USED)


@pytest.mark.parametrize(
    ("data", "field_message", "values"),
    [
        (
            {"new_email": "neu@example.org", "current_password": "wrong"},
            "The current password is not correct.",
            {},
        ),
        (
            {"new_email": "kaputt", "current_password": PASSWORD},
            "Please enter a valid e-mail address.",
            {},
        ),
        (
            {"new_email": "ANNA@example.org", "current_password": PASSWORD},
            "This is already your e-mail address.",
            {},
        ),
        (
            {"new_email": "a" * 300 + "@example.org", "current_password": PASSWORD},
            "Please use at most %(max)d characters.",
            {"max": 254},
        ),
    ],
    ids=["wrong-password", "malformed", "same-address", "too-long"],
)
def test_refused_address_changes(client, mailbox, make_user, login, data, field_message, values):
    user = make_user(email="anna@example.org")
    login(user)
    before = _snapshot(user)
    mailbox.clear()
    response = client.post_form("/account/email", data)
    assert response.status_code == 400
    page = html(response)
    message = says(field_message, **values)
    # The message sits with its own field (id="<field>-error"), where screen readers find it.
    field = "current_password" if "current password" in field_message else "new_email"
    assert re.search(rf'<p class="error" id="{field}-error">[^<]*{re.escape(message)}', page)
    assert _snapshot(user) == before and mailbox.messages() == []


# --- CSRF ---------------------------------------------------------------------------------


def _csrf_refused(response):
    assert response.status_code == 400
    assert shows(response, CSRF_MESSAGE)


def test_anonymous_forms_without_a_csrf_token_are_refused(client, make_user, mailbox):
    user = make_user(email="anna@example.org")
    before = _snapshot(user)
    token = make_token("reset", user.id, s=user.session_version)
    verify = make_token("verify", user.id, e=user.email)
    for url, data in [
        ("/account/register", registration(email="neu@example.org", pseudonym="Neu")),
        ("/account/login", {"email": "anna@example.org", "password": PASSWORD}),
        ("/account/forgot-password", {"email": "anna@example.org"}),
        (f"/account/reset/{token}", {"password": NEW_PASSWORD}),
        (f"/account/verify/{verify}", {}),
        ("/account/language", {"locale": "en"}),
    ]:
        _csrf_refused(client.http.post(url, data=data))
        _csrf_refused(client.http.post(url, data={**data, "csrf_token": "forged-token"}))
    assert count(User) == 1 and _snapshot(user) == before
    assert mailbox.messages() == [] and count(UsedToken) == 0
    assert not logged_in(client)


def test_forms_of_logged_in_users_without_a_csrf_token_are_refused(
    client, make_user, login, mailbox
):
    user = make_user(email="anna@example.org", pseudonym="Anna")
    login(user)
    before = _snapshot(user)
    mailbox.clear()
    for url, data in [
        ("/account/profile", {"pseudonym": "Mallory", "locale": "en"}),
        ("/account/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}),
        ("/account/email", {"new_email": "evil@example.org", "current_password": PASSWORD}),
        ("/account/delete", {"current_password": PASSWORD, "confirm": "y"}),
        ("/account/language", {"locale": "en"}),
        ("/account/verify/resend", {}),
        ("/account/logout", {}),
    ]:
        _csrf_refused(client.http.post(url, data=data))
    assert _snapshot(user) == before and mailbox.messages() == []
    assert logged_in(client)


def test_a_token_from_another_session_is_refused(app, client, make_user):
    user = make_user(email="anna@example.org")
    attacker = app.test_client()
    page = attacker.get("/account/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = client.http.post(
        "/account/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    _csrf_refused(response)
    assert not logged_in(client)


def test_the_csrf_message_speaks_english_to_english_visitors(client, mailbox):
    response = client.http.post(
        "/account/register", data=registration(), headers={"Accept-Language": "en"}
    )
    assert response.status_code == 400
    assert shows(response, CSRF_MESSAGE, "en")
    _nothing_registered(mailbox)


# --- redirects after login ----------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "https://evil.example",
        "http://evil.example/account/profile",
        "/\\evil.example",
        "\\\\evil.example",
        "///evil.example",
        "https:evil.example",
        "javascript:alert(1)",
        "evil.example",
        " //evil.example",
        "/\t/evil.example",
    ],
)
def test_login_never_redirects_to_another_site(client, make_user, target):
    user = make_user()
    response = client.post_form(
        f"/account/login?next={quote(target, safe='')}",
        {"email": user.email, "password": PASSWORD},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    # The form on the page does not carry it on either.
    client.forget_csrf()


def test_the_language_switch_never_redirects_to_another_site(client, make_user, login):
    login(make_user())
    for target in ("//evil.example", "https://evil.example", "/\\evil.example"):
        response = client.post_form("/account/language", {"locale": "en", "next": target})
        assert response.status_code == 303 and response.headers["Location"] == "/"


# --- roles and the e-mail confirmation ---------------------------------------------------


@pytest.fixture
def citizen_page(app):
    """A page for verified citizens only, registered before the first request."""
    probe = Blueprint("citizen_probe", __name__)

    @probe.get("/test/citizen-action")
    @role_required("citizen")
    def citizen_action():
        return "citizen action done"

    app.register_blueprint(probe)
    return "/test/citizen-action"


CONFIRM_FIRST = (
    "Please confirm your e-mail address first: open the link we sent you. "
    "You can request a new link on your profile page."
)


def test_an_unverified_account_cannot_act_as_a_citizen(citizen_page, client, mailbox, login):
    register(client)
    user = user_by_email("anna@example.org")
    link = mail_link(mailbox, "anna@example.org", "/account/verify/")
    login(user)
    response = client.get(citizen_page)
    assert response.status_code == 403
    assert shows(response, CONFIRM_FIRST)
    assert "citizen action done" not in html(response)
    assert fresh(user).roles == set()
    # After confirming, the same page works.
    client.post_form(link)
    assert client.get(citizen_page).status_code == 200


def test_a_citizen_role_without_verification_is_not_enough(citizen_page, client, make_user, login):
    user = make_user(verified=False, roles=("citizen",), locale="en")
    login(user)
    response = client.get(citizen_page)
    assert response.status_code == 403
    assert shows(response, CONFIRM_FIRST, "en")  # the user's own language


def test_a_visitor_is_sent_to_log_in_first(citizen_page, client):
    response = client.get(citizen_page)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/account/login?next={citizen_page}"


def test_a_verified_account_without_the_citizen_role_is_refused(
    citizen_page, client, make_user, login
):
    login(make_user(roles=("press",)))
    response = client.get(citizen_page)
    assert response.status_code == 403
    # The true reason, and whom to ask (see tests/accounts/test_participation_refusal.py).
    assert shows(
        response,
        "Your account may not take part at the moment: it does not have the citizen role. "
        "If you think this is a mistake, please write to %(email)s.",
        email="beteiligung@example.org",
    )
    assert not shows(response, CONFIRM_FIRST)


# --- sizes, languages, sessions -----------------------------------------------------------


def test_a_body_over_the_size_limit_is_refused(client, mailbox):
    response = register(client, pseudonym="x" * (10 * 1024 * 1024 + 1))
    assert response.status_code == 413
    assert shows(
        response, "The data you sent is larger than we accept. Please send a smaller file."
    )
    _nothing_registered(mailbox)


def test_an_unknown_language_is_ignored(client):
    response = client.get("/account/login?lang=xx&next=/account/profile")
    assert response.status_code == 303
    assert response.headers["Location"] == "/account/login?next=%2Faccount%2Fprofile"
    assert "consult_lang" not in response.headers.get("Set-Cookie", "")
    assert client.http.get_cookie("consult_lang") is None
    page = client.get(response.headers["Location"])
    assert '<html lang="de">' in html(page)


def test_an_unknown_language_keeps_the_visitors_own_choice(client):
    client.get("/?lang=en")
    response = client.get("/?lang=xx")
    assert response.status_code == 303
    assert client.http.get_cookie("consult_lang").value == "en"
    assert '<html lang="en">' in html(client.get("/"))


def test_a_stale_or_forged_login_id_logs_nobody_in(client, make_user):
    user = make_user()
    for login_id in (f"{user.id}:2", f"{user.id}", f"{user.id}:x", "x:1", f"-{user.id}:1", ""):
        with client.http.session_transaction() as session:
            session["_user_id"] = login_id
            session["_fresh"] = True
        assert not logged_in(client), login_id


# --- logging in ---------------------------------------------------------------------------


def test_a_deleted_account_cannot_log_in(client, make_user, login):
    user = make_user(email="anna@example.org")
    login(user)
    client.post_form("/account/delete", {"current_password": PASSWORD, "confirm": "y"})
    client.forget_csrf()
    before = _snapshot(user)
    response = client.post_form(
        "/account/login", {"email": "anna@example.org", "password": PASSWORD}
    )
    assert response.status_code == 401
    assert shows(response, WRONG_LOGIN)
    assert not logged_in(client)
    assert _snapshot(user) == before


def test_a_deleted_account_loses_its_remember_me_cookie_and_sessions(app, client, make_user):
    user = make_user(email="anna@example.org")
    other = app.test_client()
    page = other.get("/account/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    other.post(
        "/account/login",
        data={"email": user.email, "password": PASSWORD, "remember": "y", "csrf_token": token},
    )
    client.post_form("/account/login", {"email": user.email, "password": PASSWORD, "remember": "y"})
    client.forget_csrf()
    client.post_form("/account/delete", {"current_password": PASSWORD, "confirm": "y"})
    assert client.http.get_cookie("remember_token") is None
    assert not logged_in(client)
    other.delete_cookie("consult_session")
    assert other.get("/account/profile").status_code == 302


def test_twenty_wrong_passwords_in_a_row(client, make_user):
    user = make_user(email="anna@example.org")
    for attempt in range(10):
        response = client.post_form(
            "/account/login", {"email": "anna@example.org", "password": f"wrong guess {attempt}"}
        )
        assert response.status_code == 401, attempt
        assert shows(response, WRONG_LOGIN)
    for attempt in range(10, 20):
        response = client.post_form(
            "/account/login", {"email": "anna@example.org", "password": f"wrong guess {attempt}"}
        )
        assert response.status_code == 429, attempt
        assert 0 < int(response.headers["Retry-After"]) <= 15 * 60
        assert shows(
            response,
            "Too many failed attempts. Please wait %(minutes)d minutes or reset your password.",
            minutes=15,
        )
    # While throttled, even the right password is refused.
    response = client.post_form(
        "/account/login", {"email": "anna@example.org", "password": PASSWORD}
    )
    assert response.status_code == 429
    assert not logged_in(client)
    # Another account from the same address is not affected.
    other = make_user(email="bert@example.org")
    assert (
        client.post_form("/account/login", {"email": other.email, "password": PASSWORD}).status_code
        == 302
    )
    client.forget_csrf()
    client.post_form("/account/logout")
    client.forget_csrf()
    # The window passes, and the owner gets in.
    with clock.travel(timedelta(minutes=16)):
        response = client.post_form(
            "/account/login", {"email": "anna@example.org", "password": PASSWORD}
        )
    assert response.status_code == 302
    assert fresh(user).session_version == 1


def test_the_throttle_message_speaks_english_to_english_visitors(client, make_user):
    make_user(email="anna@example.org")
    headers = {"Accept-Language": "en"}
    for attempt in range(11):
        response = client.post_form(
            "/account/login",
            {"email": "anna@example.org", "password": f"wrong {attempt}"},
            headers=headers,
        )
    assert response.status_code == 429
    assert shows(
        response,
        "Too many failed attempts. Please wait %(minutes)d minutes or reset your password.",
        "en",
        minutes=15,
    )


def test_other_spellings_of_the_address_do_not_escape_the_throttle(client, make_user):
    make_user(email="anna@example.org")
    for attempt in range(10):
        spelling = ["anna@example.org", "ANNA@EXAMPLE.ORG", "anna@ＥＸＡＭＰＬＥ.org"][attempt % 3]
        client.post_form("/account/login", {"email": spelling, "password": f"wrong {attempt}"})
    response = client.post_form(
        "/account/login", {"email": "Anna@Ｅxample.org", "password": "wrong again"}
    )
    assert response.status_code == 429


def test_odd_logins_are_answered_without_error(client, make_user):
    user = make_user(email="anna@example.org")
    cases = [
        ({"email": "anna@example.org", "password": "y" * 10_000}, 401),
        ({"email": "x" * 254, "password": PASSWORD}, 401),
        ({"email": "a" * 59 + "@" + ("b" * 60 + ".") * 3 + "example.org", "password": "z"}, 401),
        ({"email": "a" * 300 + "@example.org", "password": PASSWORD}, 400),
        ({"email": "", "password": PASSWORD}, 400),
        ({"email": "anna@example.org", "password": ""}, 400),
    ]
    for data, status in cases:
        response = client.post_form("/account/login", data)
        assert response.status_code == status, data["email"][:20]
        if status == 401:
            assert shows(response, WRONG_LOGIN)
    assert not logged_in(client)
    assert fresh(user).session_version == 1


def test_resending_links_is_limited(client, make_user, login, mailbox):
    user = make_user(email="anna@example.org", verified=False, roles=())
    login(user)
    for _ in range(5):
        assert client.post_form("/account/verify/resend").status_code == 302
    response = client.post_form("/account/verify/resend")
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert shows(
        response,
        "We have sent several links already. Please check your inbox and spam folder, "
        "or try again later.",
    )
    assert len(mailbox.to("anna@example.org")) == 5


def test_registering_someone_elses_address_again_and_again_does_not_flood_them(
    client, make_user, mailbox
):
    make_user(email="victim@example.org")
    for n in range(10):
        response = register(client, email="victim@example.org", pseudonym=f"Spam {n}")
        assert response.status_code == 200
    assert len(mailbox.to("victim@example.org")) == 5
    assert count(User) == 1


# --- profile, password and deletion -------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message", "values"),
    [
        (
            {"pseudonym": "x" * 10_000, "locale": "de"},
            "Please use between %(min)d and %(max)d characters.",
            {"min": 3, "max": 40},
        ),
        (
            {"pseudonym": "Bert", "locale": "de"},
            "This public name is already taken. Please choose another.",
            {},
        ),
        (
            {"pseudonym": "BERT", "locale": "de"},
            "This public name is already taken. Please choose another.",
            {},
        ),
        (
            {"pseudonym": "Anna\u202e", "locale": "de"},
            "Please use only letters, digits, spaces and . - _ ' in your public name.",
            {},
        ),
        (
            {"pseudonym": "Ann\u200ca", "locale": "de"},
            "Please use only letters, digits, spaces and . - _ ' in your public name.",
            {},
        ),
        ({"pseudonym": "Anna", "locale": "xx"}, None, {}),
    ],
    ids=["10000-characters", "taken", "taken-other-case", "rtl-override", "zero-width", "language"],
)
def test_refused_profile_changes(client, make_user, login, data, message, values):
    make_user(pseudonym="Bert")
    user = make_user(pseudonym="Anna Alt")
    login(user)
    before = _snapshot(user)
    response = client.post_form("/account/profile", data)
    assert response.status_code == 400
    if message:
        assert shows(response, message, **values)
    assert _snapshot(user) == before
    assert "consult_lang" not in response.headers.get("Set-Cookie", "")


@pytest.mark.parametrize(
    ("current", "new", "message", "values"),
    [
        ("wrong password", NEW_PASSWORD, "The current password is not correct.", {}),
        (PASSWORD, "kurz", "The password must have at least %(min)d characters.", {"min": 8}),
        (
            PASSWORD,
            "dortmund09",
            "This password is too common. Please choose one that is harder to guess.",
            {},
        ),
        (PASSWORD, "z" * 10_000, "The password may have at most %(max)d characters.", {"max": 256}),
    ],
    ids=["wrong-current", "short", "common", "10000-characters"],
)
def test_refused_password_changes(client, make_user, login, mailbox, current, new, message, values):
    user = make_user()
    login(user)
    before = _snapshot(user)
    mailbox.clear()
    response = client.post_form(
        "/account/password", {"current_password": current, "new_password": new}
    )
    assert response.status_code == 400
    assert shows(response, message, **values)
    assert _snapshot(user) == before and mailbox.messages() == []
    assert logged_in(client)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"current_password": "wrong password", "confirm": "y"},
            "The current password is not correct.",
        ),
        ({"current_password": PASSWORD}, "Please agree to continue."),
    ],
    ids=["wrong-password", "no-confirmation"],
)
def test_refused_deletions(client, make_user, login, mailbox, data, message):
    user = make_user()
    login(user)
    before = _snapshot(user)
    mailbox.clear()
    response = client.post_form("/account/delete", data)
    assert response.status_code == 400
    assert shows(response, message)
    assert _snapshot(user) == before and mailbox.messages() == []
    assert logged_in(client)


def test_account_pages_need_a_login(client):
    for url in ("/account/profile", "/account/data.json", "/account/delete"):
        response = client.get(url)
        assert response.status_code == 302
        assert response.headers["Location"] == f"/account/login?next={url}"
    for url in ("/account/profile", "/account/password", "/account/email", "/account/delete"):
        response = client.post_form(url, {})
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/account/login")
