"""The account pages through the test client, as a browser uses them."""

import json
import re
from datetime import timedelta

from account_helpers import (
    NEW_PASSWORD,
    PASSWORD,
    count,
    fresh,
    html,
    logged_in,
    mail_link,
    plain,
    register,
    says,
    shows,
    user_by_email,
    without_csrf,
)

from consult import clock
from consult.accounts.models import User
from consult.accounts.passwords import verify_password

# --- registration -------------------------------------------------------------------------


def test_registration_form_has_every_field_and_an_unticked_consent(client):
    response = client.get("/account/register")
    assert response.status_code == 200
    page = html(response)
    for name in ("email", "password", "pseudonym", "locale", "consent", "csrf_token"):
        assert f'name="{name}"' in page, name
    consent = re.search(r"<input[^>]*name=\"consent\"[^>]*>", page).group(0)
    assert 'type="checkbox"' in consent and "checked" not in consent
    assert 'href="/privacy"' in page
    assert says("I have read the privacy policy and agree to it.") in page


def test_the_language_preselected_on_registration_follows_the_visitor(client):
    page = html(client.get("/account/register", headers={"Accept-Language": "en"}))
    assert re.search(
        r'<option[^>]*selected[^>]*value="en"|<option[^>]*value="en"[^>]*selected', page
    )


def test_register_verify_and_log_in(client, mailbox):
    response = register(client, email="Anna@Example.org", locale="en")
    assert response.status_code == 200
    assert shows(
        response,
        "We have sent a message to %(email)s. Please open the link in it to confirm your address.",
        email="Anna@Example.org",
    )
    user = user_by_email("anna@example.org")
    assert user is not None and not user.is_verified and user.roles == set()
    message = mailbox.last_to("anna@example.org")
    assert message["Subject"] == plain("Please confirm your e-mail address", "en")
    link = mail_link(mailbox, "anna@example.org", "/account/verify/")

    # GET only shows a button, so that mail scanners do not use the link up.
    for _ in range(2):
        page = client.get(link)
        assert page.status_code == 200
        assert shows(page, "Confirm my e-mail address")
        assert not fresh(user).is_verified

    response = client.post_form(link)
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/login"
    user = fresh(user)
    assert user.is_verified and user.has_role("citizen")

    response = client.post_form(
        "/account/login", {"email": "anna@example.org", "password": PASSWORD}
    )
    assert response.status_code == 302
    client.forget_csrf()
    profile = client.get("/account/profile")
    assert profile.status_code == 200
    # The user's language now wins over the browser's.
    assert '<html lang="en">' in html(profile)


def test_verifying_while_logged_in_leads_to_the_profile(client, mailbox, login):
    register(client)
    user = user_by_email("anna@example.org")
    link = mail_link(mailbox, "anna@example.org", "/account/verify/")
    login(user)
    response = client.post_form(link)
    assert response.headers["Location"] == "/account/profile"
    page = client.get("/account/profile")
    assert shows(page, "Thank you, your e-mail address is confirmed. You can now take part.")
    assert says("Citizen") in html(page)


def test_an_unverified_user_can_ask_for_a_new_link(client, mailbox, make_user, login):
    user = make_user(email="anna@example.org", verified=False, roles=())
    login(user)
    page = client.get("/account/profile")
    assert shows(page, "Send the link again")
    response = client.post_form("/account/verify/resend")
    assert response.status_code == 302
    link = mail_link(mailbox, "anna@example.org", "/account/verify/")
    assert client.post_form(link).status_code == 302
    assert fresh(user).is_verified
    # Once verified, no further links are sent.
    before = len(mailbox.messages())
    client.post_form("/account/verify/resend")
    assert shows(client.get("/account/profile"), "Your e-mail address is already confirmed.")
    assert len(mailbox.messages()) == before


# --- logging in and out -------------------------------------------------------------------


def test_login_and_logout(client, make_user):
    user = make_user(email="anna@example.org", pseudonym="Anna")
    response = client.post_form(
        "/account/login", {"email": " ANNA@example.org ", "password": PASSWORD}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/"
    client.forget_csrf()
    home = client.get("/")
    assert shows(home, "Welcome back, %(name)s!", name="Anna")
    assert logged_in(client)
    assert client.http.get_cookie("remember_token") is None  # not asked for

    # Logging out needs a POST with a token: a link cannot log anybody out.
    assert client.get("/account/logout").status_code == 405
    assert logged_in(client)
    response = client.post_form("/account/logout")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert not logged_in(client)
    assert shows(client.get("/"), "You have been logged out.")
    assert fresh(user).session_version == 1  # logging out ends only this session


def test_login_page_brings_the_visitor_back(client, make_user):
    user = make_user()
    response = client.get("/account/profile")
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/login?next=/account/profile"
    response = client.post_form(
        "/account/login?next=/account/profile", {"email": user.email, "password": PASSWORD}
    )
    assert response.headers["Location"] == "/account/profile"


def test_remember_me_keeps_the_login_after_the_browser_closes(client, make_user):
    user = make_user()
    response = client.post_form(
        "/account/login", {"email": user.email, "password": PASSWORD, "remember": "y"}
    )
    assert response.status_code == 302
    cookie = client.http.get_cookie("remember_token")
    assert cookie is not None and cookie.http_only
    assert cookie.expires is not None
    assert cookie.expires - clock.now() > timedelta(days=29)
    client.http.delete_cookie("consult_session")  # the browser was closed
    assert logged_in(client)
    # Logging out forgets the device: the remember-me cookie used to survive it and
    # log the user straight back in.
    client.forget_csrf()
    response = client.post_form("/account/logout")
    assert any(c.startswith("remember_token=;") for c in response.headers.getlist("Set-Cookie"))
    assert client.http.get_cookie("remember_token") is None
    assert not logged_in(client)
    client.http.delete_cookie("consult_session")
    assert not logged_in(client)


def test_without_remember_me_closing_the_browser_logs_out(client, make_user, login):
    login(make_user())
    client.http.delete_cookie("consult_session")
    assert not logged_in(client)


def test_the_login_page_redirects_logged_in_users(client, make_user, login):
    login(make_user())
    response = client.get("/account/login?next=/account/profile")
    assert response.status_code == 302 and response.headers["Location"] == "/account/profile"
    response = client.get("/account/register")
    assert response.headers["Location"] == "/account/profile"


def test_the_login_id_carries_the_session_version(client, make_user, login):
    user = make_user()
    assert user.get_id() == f"{user.id}:1"
    login(user)
    with client.http.session_transaction() as session:
        assert session["_user_id"] == f"{user.id}:1"


def test_changing_the_password_ends_the_other_sessions(app, client, make_user, login, mailbox):
    user = make_user(email="anna@example.org")
    login(user)
    other = app.test_client()  # the same person on another device, with "remember me"
    response = other.post(
        "/account/login",
        data={
            "email": "anna@example.org",
            "password": PASSWORD,
            "remember": "y",
            "csrf_token": _token(other),
        },
    )
    assert response.status_code == 302
    assert other.get("/account/profile").status_code == 200

    response = client.post_form(
        "/account/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 302
    assert shows(client.get("/account/profile"), "Your password has been changed.")
    assert fresh(user).session_version == 2

    # This session stays; the other one and its remember-me cookie do not.
    assert logged_in(client)
    assert other.get("/account/profile").status_code == 302
    other.delete_cookie("consult_session")
    assert other.get("/account/profile").status_code == 302
    assert mailbox.last_to("anna@example.org")["Subject"] == plain("Your password was changed")


def test_changing_the_password_keeps_remember_me_on_this_device(client, make_user):
    user = make_user()
    client.post_form("/account/login", {"email": user.email, "password": PASSWORD, "remember": "y"})
    client.forget_csrf()
    response = client.post_form(
        "/account/password", {"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert response.status_code == 302
    client.http.delete_cookie("consult_session")  # the browser was closed
    assert logged_in(client)


def _token(test_client) -> str:
    page = test_client.get("/account/login").get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


# --- password reset -----------------------------------------------------------------------


def test_password_reset_by_mail(client, make_user, mailbox, app):
    user = make_user(email="anna@example.org")
    other = app.test_client()
    other.post(
        "/account/login",
        data={"email": "anna@example.org", "password": PASSWORD, "csrf_token": _token(other)},
    )
    assert other.get("/account/profile").status_code == 200

    response = client.post_form("/account/forgot-password", {"email": "Anna@example.org"})
    assert response.status_code == 200
    assert shows(
        response,
        "If an account exists for %(email)s, we have sent it a link to set a new password. "
        "The link is valid for one hour.",
        email="Anna@example.org",
    )
    link = mail_link(mailbox, "anna@example.org", "/account/reset/")
    assert client.get(link).status_code == 200
    response = client.post_form(link, {"password": NEW_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/account/login"
    assert shows(client.get("/account/login"), "Your new password is set. Please log in.")
    assert verify_password(fresh(user).password_hash, NEW_PASSWORD)
    # Every session ends, including one on another device.
    assert other.get("/account/profile").status_code == 302
    # The old password no longer works, the new one does.
    wrong = client.post_form("/account/login", {"email": user.email, "password": PASSWORD})
    assert wrong.status_code == 401
    right = client.post_form("/account/login", {"email": user.email, "password": NEW_PASSWORD})
    assert right.status_code == 302


def test_the_reset_form_explains_a_weak_password_and_keeps_the_link(client, make_user, mailbox):
    user = make_user(email="anna@example.org")
    client.post_form("/account/forgot-password", {"email": "anna@example.org"})
    link = mail_link(mailbox, "anna@example.org", "/account/reset/")
    response = client.post_form(link, {"password": "kurz"})
    assert response.status_code == 400
    assert shows(response, "The password must have at least %(min)d characters.", min=8)
    assert verify_password(fresh(user).password_hash, PASSWORD)
    assert client.post_form(link, {"password": NEW_PASSWORD}).status_code == 302


# --- enumeration --------------------------------------------------------------------------


def _same_answer(first, second, first_address, second_address):
    assert first.status_code == second.status_code
    one = without_csrf(html(first)).replace(first_address, "ADDRESS")
    two = without_csrf(html(second)).replace(second_address, "ADDRESS")
    assert one == two


def test_password_reset_answers_the_same_for_known_and_unknown_addresses(
    client, make_user, mailbox
):
    make_user(email="known@example.org")
    known = client.post_form("/account/forgot-password", {"email": "known@example.org"})
    unknown = client.post_form("/account/forgot-password", {"email": "nobody@example.org"})
    _same_answer(known, unknown, "known@example.org", "nobody@example.org")
    assert known.status_code == 200
    assert len(mailbox.to("known@example.org")) == 1
    assert mailbox.to("nobody@example.org") == []


def test_registration_answers_the_same_for_known_and_unknown_addresses(client, make_user, mailbox):
    make_user(email="known@example.org", pseudonym="Owner", locale="en")
    known = register(client, email="known@example.org", pseudonym="Somebody")
    fresh_one = register(client, email="nobody@example.org", pseudonym="Anybody")
    _same_answer(known, fresh_one, "known@example.org", "nobody@example.org")
    assert known.status_code == 200
    assert count(User) == 2
    # The owner learns about it, in their language; the newcomer gets a verification link.
    owner_mail = mailbox.last_to("known@example.org")
    assert owner_mail["Subject"] == plain(
        "Someone tried to register with your e-mail address", "en"
    )
    assert "/account/verify/" not in mailbox.text(owner_mail)
    assert "/account/verify/" in mailbox.text(mailbox.last_to("nobody@example.org"))


def test_login_answers_the_same_for_unknown_address_and_wrong_password(client, make_user):
    make_user(email="known@example.org")
    known = client.post_form(
        "/account/login", {"email": "known@example.org", "password": "not the password"}
    )
    unknown = client.post_form(
        "/account/login", {"email": "nobody@example.org", "password": "not the password"}
    )
    _same_answer(known, unknown, "known@example.org", "nobody@example.org")
    assert known.status_code == 401
    assert shows(known, "The e-mail address or the password is not correct.")


# --- profile ------------------------------------------------------------------------------


def test_the_profile_page(client, make_user, login):
    user = make_user(email="anna@example.org", pseudonym="Anna", roles=("citizen", "juror"))
    login(user)
    page = html(client.get("/account/profile"))
    assert "anna@example.org" in page and 'value="Anna"' in page
    assert says("Citizen") in page and says("Juror") in page
    assert 'href="/account/data.json"' in page and 'href="/account/delete"' in page
    for action in ("/account/profile", "/account/password", "/account/email"):
        assert f'action="{action}"' in page


def test_changing_pseudonym_and_language(client, make_user, login):
    user = make_user(pseudonym="Anna")
    login(user)
    response = client.post_form("/account/profile", {"pseudonym": " Anna  Neu ", "locale": "en"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/profile"
    assert "consult_lang=en" in response.headers["Set-Cookie"]
    user = fresh(user)
    assert (user.pseudonym, user.locale) == ("Anna Neu", "en")
    page = client.get("/account/profile")
    assert '<html lang="en">' in html(page)
    # Confirmed in the language the change was made in.
    assert shows(page, "Your profile has been saved.", "de")


def test_the_language_switcher_changes_the_setting_of_a_logged_in_user(client, make_user, login):
    user = make_user(locale="de")
    login(user)
    response = client.post_form("/account/language", {"locale": "en", "next": "/account/profile"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/account/profile"
    assert fresh(user).locale == "en"


def test_the_language_switcher_for_visitors_sets_a_cookie(client):
    response = client.get("/account/login?lang=en")
    assert response.status_code == 303
    assert response.headers["Location"] == "/account/login"
    assert "consult_lang=en" in response.headers["Set-Cookie"]
    assert '<html lang="en">' in html(client.get("/account/login"))


def test_changing_the_address_with_confirmation(client, make_user, login, mailbox):
    user = make_user(email="anna@example.org")
    login(user)
    response = client.post_form(
        "/account/email", {"new_email": "Anna.Neu@example.org", "current_password": PASSWORD}
    )
    assert response.status_code == 302
    assert shows(
        client.get("/account/profile"),
        "We have sent a confirmation link to the new address. "
        "Your address changes once you open it.",
    )
    assert fresh(user).email == "anna@example.org"  # not before the link is used
    assert mailbox.last_to("anna@example.org")["Subject"] == plain(
        "Your e-mail address is being changed"
    )
    link = mail_link(mailbox, "anna.neu@example.org", "/account/email/confirm/")
    page = client.get(link)
    assert page.status_code == 200 and shows(page, "Confirm my new e-mail address")
    assert fresh(user).email == "anna@example.org"
    response = client.post_form(link)
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/profile"
    user = fresh(user)
    assert user.email == "anna.neu@example.org" and user.is_verified
    client.post_form("/account/logout")
    client.forget_csrf()
    old = client.post_form("/account/login", {"email": "anna@example.org", "password": PASSWORD})
    assert old.status_code == 401
    new = client.post_form(
        "/account/login", {"email": "anna.neu@example.org", "password": PASSWORD}
    )
    assert new.status_code == 302


# --- your data and deletion ---------------------------------------------------------------


def test_download_my_data(client, make_user, login):
    user = make_user(email="anna@example.org", pseudonym="Anna Müller", locale="en")
    login(user)
    response = client.get("/account/data.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    assert ".json" in response.headers["Content-Disposition"]
    data = json.loads(response.get_data(as_text=True))
    assert data["account"]["email"] == "anna@example.org"
    assert data["account"]["pseudonym"] == "Anna Müller"
    assert data["account"]["language"] == "en"
    assert data["account"]["roles"] == ["citizen"]
    assert "Anna Müller" in response.get_data(as_text=True)  # readable, not \u-escaped
    assert "argon2" not in response.get_data(as_text=True)


def test_download_needs_a_login(client):
    response = client.get("/account/data.json")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/login")


def test_delete_my_account(client, make_user, login, mailbox):
    user = make_user(email="anna@example.org", pseudonym="Anna")
    login(user)
    page = client.get("/account/delete")
    assert page.status_code == 200
    consent = re.search(r"<input[^>]*name=\"confirm\"[^>]*>", html(page)).group(0)
    assert "checked" not in consent
    response = client.post_form("/account/delete", {"current_password": PASSWORD, "confirm": "y"})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert shows(client.get("/"), "Your account has been deleted. Thank you for taking part.")
    assert not logged_in(client)
    user = fresh(user)
    assert count(User) == 1  # the row stays for the content and the vote counts
    assert user.email is None and user.pseudonym is None and user.password_hash is None
    assert user.deleted_at is not None and user.roles == set()
    assert mailbox.last_to("anna@example.org")["Subject"] == plain("Your account has been deleted")
    client.forget_csrf()
    response = client.post_form(
        "/account/login", {"email": "anna@example.org", "password": PASSWORD}
    )
    assert response.status_code == 401
