"""The account use cases, called directly: register, verify, log in, reset, change, export, delete.

Each test runs inside a German request context, so the services' messages are German,
as a visitor without other preferences would see them.
"""

import json
from datetime import timedelta

import pytest
from account_helpers import NEW_PASSWORD, PASSWORD, count, fresh, plain
from flask_babel import gettext
from werkzeug.exceptions import TooManyRequests

from consult import clock
from consult.accounts import services
from consult.accounts.models import RoleGrant, UsedToken, User
from consult.accounts.passwords import (
    MAX_LENGTH,
    MIN_LENGTH,
    hash_password,
    password_problem,
    verify_password,
)
from consult.accounts.tokens import TokenError, consume_token, make_token, read_token
from consult.audit.models import AuditEntry
from consult.errors import UserError
from consult.extensions import db


@pytest.fixture(autouse=True)
def german_request(app):
    with app.test_request_context("/"):
        yield


def _register(email="anna@example.org", password=PASSWORD, pseudonym="Anna", locale="de"):
    return services.register_user(email, password, pseudonym, locale)


def _token_in(mailbox, address, part):
    link = mailbox.link(mailbox.last_to(address), part)
    return link.rsplit("/", 1)[1]


# --- e-mail addresses and pseudonyms ------------------------------------------------------


def test_email_addresses_are_trimmed_and_lower_cased():
    assert services.normalize_email("  Anna.Muster@Example.ORG ") == "anna.muster@example.org"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "anna",
        "anna@",
        "@example.org",
        "anna@example",
        "anna@@example.org",
        "anna muster@example.org",
        "anna@example..org",
        "anna@example.org.",
        "<script>@example.org",
        "anna@-example.org",
    ],
)
def test_malformed_email_addresses_are_refused(raw):
    with pytest.raises(UserError) as caught:
        services.normalize_email(raw)
    assert caught.value.field == "email"
    assert caught.value.message == gettext("Please enter a valid e-mail address.")


def test_pseudonyms_are_tidied_and_folded_for_comparison():
    assert services.clean_pseudonym("  Anna   Bauer ") == ("Anna Bauer", "anna bauer")
    name, key = services.clean_pseudonym("ＡＮＮＡ")  # full width
    assert key == "anna"
    # Decomposed and composed umlauts are the same name.
    assert services.clean_pseudonym("Zoe\u0308")[0] == "Zoë"


@pytest.mark.parametrize(
    "name", ["Zoë", "Ünal-Çelik", "李小龙", "O'Brien", "anna_b.", "Иван", "Ali 99", "ßtraße"]
)
def test_pseudonyms_in_any_script_are_welcome(name):
    shown, _key = services.clean_pseudonym(name)
    assert shown == name


@pytest.mark.parametrize(
    "name",
    [
        "Anna\u202eetsil",  # right-to-left override
        "An\u200bna",  # zero-width space
        "An\u200dna",  # zero-width joiner
        "Anna\u2066x",  # bidi isolate
        "Anna\x07",  # control character
        "Anna\u00ad",  # soft hyphen
        "<script>",
        "@staff",
        "Anna 🌻",
        "Staff ✔",
    ],
)
def test_pseudonyms_with_invisible_or_symbol_characters_are_refused(name):
    with pytest.raises(UserError) as caught:
        services.clean_pseudonym(name)
    assert caught.value.field == "pseudonym"
    assert caught.value.message == gettext(
        "Please use only letters, digits, spaces and . - _ ' in your public name."
    )


def test_a_pseudonym_needs_a_letter_or_digit():
    with pytest.raises(UserError) as caught:
        services.clean_pseudonym("._-'")
    assert caught.value.message == gettext("Your public name needs at least one letter or digit.")


@pytest.mark.parametrize(
    "name",
    [
        "ab",
        "   a   ",
        "x" * 41,
        "x" * 10_000,
        # One ligature that NFKC expands to 18 letters: 40 of them used to overflow the
        # folded key column (a server error on PostgreSQL).
        "\ufdfa" * 40,
        "\ufdfa" * 3,
    ],
)
def test_pseudonyms_of_the_wrong_length_are_refused(name):
    with pytest.raises(UserError) as caught:
        services.clean_pseudonym(name)
    assert caught.value.message == gettext(
        "Please use between %(min)d and %(max)d characters.", min=3, max=40
    )


# --- passwords ----------------------------------------------------------------------------


def test_passwords_are_hashed_with_argon2id(make_user):
    user = make_user()
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    assert verify_password(user.password_hash, PASSWORD)
    assert not verify_password(user.password_hash, PASSWORD.upper())
    assert not verify_password(None, PASSWORD)
    assert not verify_password("not a hash", PASSWORD)
    # A fresh salt each time.
    assert hash_password(PASSWORD) != hash_password(PASSWORD)


def test_password_length_bounds():
    assert MIN_LENGTH == 8 and MAX_LENGTH == 256
    assert password_problem("x7!kq2Lm") is None
    assert password_problem("Ab3$efgh" * 32) is None  # 256 characters are fine
    assert password_problem("kurz7!a") == gettext(
        "The password must have at least %(min)d characters.", min=8
    )
    for too_long in ("Ab3$efgh" * 32 + "x", "y" * 10_000):
        assert password_problem(too_long) == gettext(
            "The password may have at most %(max)d characters.", max=256
        )


@pytest.mark.parametrize(
    "password",
    ["password", "Passwort123", "PASSWORT123", "ｐａｓｓｗｏｒｄ", "12345678", "aaaaaaaaaa"],
)
def test_common_passwords_are_refused(password):
    assert password_problem(password) == gettext(
        "This password is too common. Please choose one that is harder to guess."
    )


def test_the_password_must_not_be_the_address_or_the_pseudonym():
    message = gettext("The password must not be your e-mail address or pseudonym.")
    assert password_problem("Anna@Example.org", "anna@example.org", "Anna") == message
    assert password_problem("annabauer", "a@example.org", "AnnaBauer") == message


# --- registration and verification --------------------------------------------------------


def test_registration_creates_an_unverified_account_without_roles(mailbox):
    user = _register(email=" Anna@Example.org ", locale="en")
    user = fresh(user)
    assert user.email == "anna@example.org"
    assert user.pseudonym == "Anna" and user.pseudonym_key == "anna"
    assert user.locale == "en"
    assert user.password_hash.startswith("$argon2id$")
    assert user.privacy_consent_at is not None
    assert user.email_verified_at is None and user.roles == set()
    assert not user.has_role("citizen")
    message = mailbox.last_to("anna@example.org")
    assert message["Subject"] == plain("Please confirm your e-mail address", "en")
    assert message["Content-Language"] == "en"
    assert "/account/verify/" in mailbox.text(message)


def test_an_unknown_language_falls_back_to_german():
    user = _register(locale="xx")
    assert fresh(user).locale == "de"


def test_registering_an_existing_address_creates_nothing_and_tells_the_owner(make_user, mailbox):
    owner = make_user(email="anna@example.org", locale="en")
    assert _register(email="ANNA@example.org", pseudonym="Somebody Else") is None
    assert count(User) == 1
    message = mailbox.last_to("anna@example.org")
    assert "/account/login" in mailbox.text(message)
    assert "/account/forgot-password" in mailbox.text(message)
    assert message["Content-Language"] == "en"
    assert fresh(owner).pseudonym != "Somebody Else"


def test_account_exists_mails_are_throttled_silently(make_user, mailbox):
    make_user(email="anna@example.org")
    for n in range(8):
        assert _register(pseudonym=f"Someone {n}") is None
    assert len(mailbox.to("anna@example.org")) == 5
    assert count(User) == 1


def test_a_taken_pseudonym_is_refused_whatever_its_case(make_user):
    make_user(pseudonym="Anna Bauer")
    for variant in ("anna bauer", "ANNA  BAUER", "Ａｎｎａ Ｂａｕｅｒ"):
        with pytest.raises(UserError) as caught:
            _register(email="other@example.org", pseudonym=variant)
        assert caught.value.field == "pseudonym"
        assert caught.value.message == gettext(
            "This public name is already taken. Please choose another."
        )
    assert count(User) == 1


def test_verification_makes_a_citizen_once(mailbox):
    user = _register()
    token = _token_in(mailbox, "anna@example.org", "/account/verify/")
    read_token("verify", token, 3600)  # looking does not use the link up
    services.verify_email(token)
    user = fresh(user)
    assert user.is_verified and user.has_role("citizen")
    with pytest.raises(TokenError) as caught:
        services.verify_email(token)
    assert caught.value.message == gettext("This link has already been used.")
    assert count(UsedToken) == 1


def test_a_leftover_verification_link_does_not_undo_a_revoked_citizen_role(make_user, mailbox):
    staff = make_user(roles=("citizen", "staff"))
    user = _register()
    services.resend_verification(fresh(user))
    first = _token_in(mailbox, "anna@example.org", "/account/verify/")
    services.verify_email(first)
    # An older link of the same kind is still around.
    older = make_token("verify", user.id, e="anna@example.org")
    services.revoke_role(fresh(staff), fresh(user), "citizen")
    services.verify_email(older)
    assert not fresh(user).has_role("citizen")


def test_verification_link_expires_after_48_hours(mailbox):
    user = _register()
    token = _token_in(mailbox, "anna@example.org", "/account/verify/")
    with clock.travel(timedelta(hours=48, minutes=1)), pytest.raises(TokenError) as caught:
        services.verify_email(token)
    assert caught.value.message == gettext("This link has expired. Please request a new one.")
    with clock.travel(timedelta(hours=47)):
        services.verify_email(token)
    assert fresh(user).is_verified


def test_forged_links_are_refused(mailbox):
    _register()
    token = _token_in(mailbox, "anna@example.org", "/account/verify/")
    invalid = gettext("This link is not valid. Please copy it completely from the e-mail.")
    # Any change to the signed part breaks the signature.
    tampered = token[:3] + ("A" if token[3] != "A" else "B") + token[4:]
    for bad in (tampered, token[:-10], "", "nonsense", token + "x"):
        with pytest.raises(TokenError) as caught:
            services.verify_email(bad)
        assert caught.value.message == invalid
    # A link made for another purpose (or with another secret) is no verification link.
    user = User.query.one()
    with pytest.raises(TokenError):
        services.verify_email(make_token("reset", user.id, s=1))
    assert not fresh(user).is_verified


def test_a_verification_link_for_an_old_address_is_refused(mailbox):
    user = _register()
    token = _token_in(mailbox, "anna@example.org", "/account/verify/")
    user.email = "new@example.org"
    db.session.commit()
    with pytest.raises(UserError):
        services.verify_email(token)
    assert not fresh(user).is_verified
    assert count(UsedToken) == 0


def test_resending_the_verification_link_is_throttled(mailbox):
    user = _register()
    for _ in range(5):
        services.resend_verification(fresh(user))
    with pytest.raises(TooManyRequests) as caught:
        services.resend_verification(fresh(user))
    assert caught.value.retry_after > 0
    assert len(mailbox.to("anna@example.org")) == 6  # the first link and five more


def test_a_consumed_token_cannot_be_consumed_again():
    token = make_token("verify", 1, e="a@example.org")
    consume_token("verify", token, 60)
    db.session.commit()
    with pytest.raises(TokenError):
        consume_token("verify", token, 60)


# --- logging in ---------------------------------------------------------------------------


def test_authenticate_with_the_right_and_wrong_password(make_user):
    user = make_user(email="anna@example.org")
    assert services.authenticate(" ANNA@example.org", PASSWORD, "10.0.0.1").id == user.id
    wrong = gettext("The e-mail address or the password is not correct.")
    for email, password in [
        ("anna@example.org", "not the password"),
        ("nobody@example.org", PASSWORD),
        ("not an address", PASSWORD),
    ]:
        with pytest.raises(UserError) as caught:
            services.authenticate(email, password, "10.0.0.1")
        assert caught.value.status == 401 and caught.value.message == wrong


def test_a_deleted_account_cannot_log_in(make_user):
    user = make_user(email="anna@example.org")
    services.delete_account(user, PASSWORD)
    with pytest.raises(UserError) as caught:
        services.authenticate("anna@example.org", PASSWORD, "10.0.0.1")
    assert caught.value.status == 401


def test_login_throttling_per_account_and_its_window(make_user):
    make_user(email="anna@example.org")
    for _ in range(10):
        with pytest.raises(UserError):
            services.authenticate("anna@example.org", "wrong password", "10.0.0.1")
    with pytest.raises(TooManyRequests) as caught:
        services.authenticate("anna@example.org", PASSWORD, "10.0.0.2")
    assert 0 < caught.value.retry_after <= 15 * 60
    assert caught.value.description == gettext(
        "Too many failed attempts. Please wait %(minutes)d minutes or reset your password.",
        minutes=15,
    )
    with clock.travel(timedelta(minutes=15, seconds=1)):
        assert services.authenticate("anna@example.org", PASSWORD, "10.0.0.1")


def test_other_spellings_of_an_address_share_its_throttle(make_user):
    make_user(email="anna@example.org")
    spellings = ["anna@example.org", "ANNA@example.org", " anna@example.org", "anna@ＥXAMPLE.org"]
    for n in range(10):
        with pytest.raises(UserError):
            services.authenticate(spellings[n % len(spellings)], "wrong password", "10.0.0.1")
    for spelling in spellings + ["anna@ｅｘａｍｐｌｅ.ｏｒｇ"]:
        with pytest.raises(TooManyRequests):
            services.authenticate(spelling, PASSWORD, "10.0.0.1")


def test_a_successful_login_forgives_earlier_failures(make_user):
    make_user(email="anna@example.org")
    for _ in range(9):
        with pytest.raises(UserError):
            services.authenticate("anna@example.org", "wrong password", "10.0.0.1")
    services.authenticate("anna@example.org", PASSWORD, "10.0.0.1")
    for _ in range(9):
        with pytest.raises(UserError):
            services.authenticate("anna@example.org", "wrong password", "10.0.0.1")
    assert services.authenticate("anna@example.org", PASSWORD, "10.0.0.1")


def test_very_long_addresses_are_throttled_without_error(make_user):
    # The counter key holds the address; keys longer than the column are digested.
    long_invalid = "x" * 254
    long_valid = "a" * 59 + "@" + ("b" * 60 + ".") * 3 + "example.org"
    for address in (long_invalid, long_valid):
        for _ in range(10):
            with pytest.raises(UserError):
                services.authenticate(address, "wrong password", "10.0.0.1")
        with pytest.raises(TooManyRequests):
            services.authenticate(address, "wrong password", "10.0.0.1")


# --- password reset and change -----------------------------------------------------------


def test_password_reset_mails_a_link_only_to_known_active_accounts(make_user, mailbox):
    user = make_user(email="anna@example.org", locale="en")
    gone = make_user(email="gone@example.org")
    services.delete_account(gone, PASSWORD)
    mailbox.clear()
    services.request_password_reset("nobody@example.org")
    services.request_password_reset("not an address")
    services.request_password_reset("gone@example.org")
    assert mailbox.messages() == []
    services.request_password_reset("Anna@Example.org")
    message = mailbox.last_to(user.email)
    assert message["Subject"] == plain("Reset your password", "en")
    assert "/account/reset/" in mailbox.text(message)


def test_reset_mails_are_throttled_silently(make_user, mailbox):
    make_user(email="anna@example.org")
    for _ in range(7):
        services.request_password_reset("anna@example.org")
    assert len(mailbox.to("anna@example.org")) == 5


def test_resetting_sets_the_password_and_ends_sessions(make_user, mailbox):
    user = make_user(email="anna@example.org")
    version = user.session_version
    services.request_password_reset("anna@example.org")
    token = _token_in(mailbox, "anna@example.org", "/account/reset/")
    services.reset_password(token, NEW_PASSWORD)
    user = fresh(user)
    assert verify_password(user.password_hash, NEW_PASSWORD)
    assert user.session_version == version + 1
    assert mailbox.last_to("anna@example.org")["Subject"] == plain("Your password was changed")
    with pytest.raises(TokenError):
        services.reset_password(token, "yet another passphrase")


def test_a_weak_password_keeps_the_reset_link_usable(make_user, mailbox):
    user = make_user(email="anna@example.org")
    services.request_password_reset("anna@example.org")
    token = _token_in(mailbox, "anna@example.org", "/account/reset/")
    with pytest.raises(UserError) as caught:
        services.reset_password(token, "passwort")
    assert caught.value.field == "password"
    assert verify_password(fresh(user).password_hash, PASSWORD)
    services.reset_password(token, NEW_PASSWORD)


def test_a_reset_link_expires_after_an_hour(make_user, mailbox):
    make_user(email="anna@example.org")
    services.request_password_reset("anna@example.org")
    token = _token_in(mailbox, "anna@example.org", "/account/reset/")
    with clock.travel(timedelta(minutes=61)), pytest.raises(TokenError) as caught:
        services.reset_password(token, NEW_PASSWORD)
    assert caught.value.message == gettext("This link has expired. Please request a new one.")


def test_a_reset_link_dies_when_the_password_changes_otherwise(make_user, mailbox):
    user = make_user(email="anna@example.org")
    services.request_password_reset("anna@example.org")
    token = _token_in(mailbox, "anna@example.org", "/account/reset/")
    services.change_password(user, PASSWORD, NEW_PASSWORD)
    with pytest.raises(UserError) as caught:
        services.reset_password(token, "yet another passphrase")
    assert caught.value.message == gettext(
        "This link is no longer valid. Please request a new one."
    )
    assert verify_password(fresh(user).password_hash, NEW_PASSWORD)


def test_resetting_verifies_the_address(make_user, mailbox):
    user = make_user(email="anna@example.org", verified=False, roles=())
    services.request_password_reset("anna@example.org")
    services.reset_password(_token_in(mailbox, "anna@example.org", "/account/reset/"), NEW_PASSWORD)
    user = fresh(user)
    assert user.is_verified and user.has_role("citizen")


def test_resetting_after_staff_granted_citizen_early_does_not_fail(make_user, mailbox):
    # Staff may grant "citizen" to an unconfirmed account; the reset used to add a second
    # grant and fail on the primary key.
    user = make_user(email="anna@example.org", verified=False, roles=("citizen",))
    services.request_password_reset("anna@example.org")
    services.reset_password(_token_in(mailbox, "anna@example.org", "/account/reset/"), NEW_PASSWORD)
    user = fresh(user)
    assert user.is_verified and user.has_role("citizen")
    assert count(RoleGrant) == 1


def test_resetting_does_not_restore_a_revoked_citizen_role(make_user, mailbox):
    staff = make_user(roles=("citizen", "staff"))
    user = make_user(email="anna@example.org")
    services.revoke_role(staff, user, "citizen")
    services.request_password_reset("anna@example.org")
    services.reset_password(_token_in(mailbox, "anna@example.org", "/account/reset/"), NEW_PASSWORD)
    assert "citizen" not in fresh(user).roles


def test_changing_the_password(make_user, mailbox):
    user = make_user()
    with pytest.raises(UserError) as caught:
        services.change_password(user, "not my password", NEW_PASSWORD)
    assert caught.value.field == "current_password"
    with pytest.raises(UserError) as caught:
        services.change_password(user, PASSWORD, "kurz")
    assert caught.value.field == "new_password"
    assert fresh(user).session_version == 1
    services.change_password(fresh(user), PASSWORD, NEW_PASSWORD)
    user = fresh(user)
    assert user.session_version == 2 and user.get_id() == f"{user.id}:2"
    assert verify_password(user.password_hash, NEW_PASSWORD)
    assert mailbox.last_to(user.email)["Subject"] == plain("Your password was changed")


# --- profile and e-mail change ----------------------------------------------------------


def test_updating_the_profile(make_user):
    make_user(pseudonym="Bert")
    user = make_user(pseudonym="Anna")
    services.update_profile(user, "  Anna  Neu ", "en")
    assert (fresh(user).pseudonym, fresh(user).locale) == ("Anna Neu", "en")
    services.update_profile(fresh(user), "ANNA NEU", "xx")  # own name in other case is fine
    assert (fresh(user).pseudonym, fresh(user).locale) == ("ANNA NEU", "de")
    with pytest.raises(UserError):
        services.update_profile(fresh(user), "bert", "de")
    assert fresh(user).pseudonym == "ANNA NEU"


def test_changing_the_address_needs_the_new_one_confirmed(make_user, mailbox):
    user = make_user(email="anna@example.org")
    services.request_email_change(user, PASSWORD, " Anna.Neu@Example.org")
    assert fresh(user).email == "anna@example.org"
    assert mailbox.last_to("anna@example.org")["Subject"] == plain(
        "Your e-mail address is being changed"
    )
    token = _token_in(mailbox, "anna.neu@example.org", "/account/email/confirm/")
    services.confirm_email_change(token)
    assert fresh(user).email == "anna.neu@example.org"
    with pytest.raises(TokenError):
        services.confirm_email_change(token)


def test_an_address_change_is_refused_for_wrong_input(make_user, mailbox):
    user = make_user(email="anna@example.org")
    mailbox.clear()
    cases = [
        ("wrong password", "new@example.org", "current_password"),
        (PASSWORD, "not an address", "new_email"),
        (PASSWORD, "ANNA@example.org", "new_email"),
    ]
    for password, address, field in cases:
        with pytest.raises(UserError) as caught:
            services.request_email_change(fresh(user), password, address)
        assert caught.value.field == field
    assert mailbox.messages() == []


def test_an_address_taken_meanwhile_cannot_be_confirmed(make_user, mailbox):
    user = make_user(email="anna@example.org")
    services.request_email_change(user, PASSWORD, "new@example.org")
    token = _token_in(mailbox, "new@example.org", "/account/email/confirm/")
    make_user(email="new@example.org")
    with pytest.raises(UserError) as caught:
        services.confirm_email_change(token)
    assert caught.value.message == gettext(
        "This e-mail address already belongs to another account."
    )
    assert fresh(user).email == "anna@example.org"


def test_an_older_address_change_link_dies_with_a_newer_change(make_user, mailbox):
    user = make_user(email="anna@example.org")
    services.request_email_change(user, PASSWORD, "first@example.org")
    first = _token_in(mailbox, "first@example.org", "/account/email/confirm/")
    services.request_email_change(fresh(user), PASSWORD, "second@example.org")
    services.confirm_email_change(_token_in(mailbox, "second@example.org", "/account/email/"))
    with pytest.raises(UserError):
        services.confirm_email_change(first)
    assert fresh(user).email == "second@example.org"


# --- your data and deletion ---------------------------------------------------------------


def test_the_data_export_holds_the_account_and_no_secrets(make_user):
    user = make_user(email="anna@example.org", pseudonym="Anna", locale="en")
    data = services.export_user_data(user)
    text = json.dumps(data)
    assert data["format"] == "consult-personal-data/1"
    account = data["account"]
    assert account["id"] == user.id
    assert account["email"] == "anna@example.org"
    assert account["pseudonym"] == "Anna" and account["language"] == "en"
    assert account["roles"] == ["citizen"]
    assert account["email_verified_at"] and account["privacy_consent_at"]
    assert "argon2" not in text and PASSWORD not in text


def test_features_add_their_part_to_the_export_and_the_deletion(make_user, monkeypatch):
    seen = []
    monkeypatch.setattr(services, "DATA_EXPORTERS", [lambda user: {"ideas": [user.id]}])
    monkeypatch.setattr(services, "DELETION_HOOKS", [lambda user: seen.append(user.email)])
    user = make_user(email="anna@example.org")
    assert services.export_user_data(user)["ideas"] == [user.id]
    services.delete_account(user, PASSWORD)
    assert seen == ["anna@example.org"]  # the hook ran while the data was still there


def test_deleting_anonymises_and_keeps_the_row(make_user, mailbox):
    user = make_user(email="anna@example.org", pseudonym="Anna", roles=("citizen", "juror"))
    with pytest.raises(UserError):
        services.delete_account(user, "not my password")
    assert fresh(user).email == "anna@example.org"
    services.delete_account(fresh(user), PASSWORD)
    user = fresh(user)
    assert count(User) == 1
    assert user.email is None and user.pseudonym is None and user.pseudonym_key is None
    assert user.password_hash is None and user.deleted_at is not None
    assert user.roles == set() and count(RoleGrant) == 0
    assert not user.is_active and not user.has_role("citizen")
    assert user.session_version == 2
    assert mailbox.last_to("anna@example.org")["Subject"] == plain("Your account has been deleted")
    # The address and the name are free again.
    assert _register(email="anna@example.org", pseudonym="anna") is not None


# --- roles --------------------------------------------------------------------------------


def test_granting_and_revoking_roles_is_audited(make_user):
    staff = make_user(roles=("citizen", "staff"))
    user = make_user()
    services.grant_role(staff, user, "moderator")
    services.grant_role(staff, fresh(user), "moderator")  # again: nothing new
    services.revoke_role(fresh(staff), fresh(user), "moderator")
    services.revoke_role(fresh(staff), fresh(user), "moderator")
    entries = AuditEntry.query.order_by(AuditEntry.id).all()
    assert [(e.action, e.actor_id, e.object_type, e.object_id, e.details) for e in entries] == [
        ("role.grant", staff.id, "user", user.id, {"role": "moderator"}),
        ("role.revoke", staff.id, "user", user.id, {"role": "moderator"}),
    ]
    grant_time = entries[0].created_at
    assert abs(clock.now() - grant_time) < timedelta(minutes=1)


def test_role_changes_that_are_refused(make_user):
    staff = make_user(roles=("citizen", "staff"))
    user = make_user()
    with pytest.raises(UserError):
        services.grant_role(staff, user, "superuser")
    with pytest.raises(UserError):
        services.revoke_role(staff, user, "superuser")
    with pytest.raises(UserError) as caught:
        services.revoke_role(staff, staff, "staff")
    assert caught.value.message == gettext(
        "You cannot remove your own staff role. Ask another staff member."
    )
    services.delete_account(fresh(user), PASSWORD)
    with pytest.raises(UserError) as caught:
        services.grant_role(fresh(staff), fresh(user), "juror")
    assert caught.value.message == gettext("This account has been deleted.")
    assert fresh(staff).has_role("staff")
    assert count(AuditEntry) == 0


def test_searching_accounts_for_the_role_page(make_user):
    anna = make_user(email="anna@example.org", pseudonym="Anna Bauer")
    bert = make_user(email="bert@example.org", pseudonym="Bert_100")
    gone = make_user(email="gone@example.org", pseudonym="Gone")
    services.delete_account(gone, PASSWORD)
    assert [u.id for u in services.search_users("").items] == [bert.id, anna.id]
    assert [u.id for u in services.search_users("ANNA").items] == [anna.id]
    assert [u.id for u in services.search_users("bert@").items] == [bert.id]
    # LIKE wildcards are taken literally.
    assert [u.id for u in services.search_users("_1").items] == [bert.id]
    assert [u.id for u in services.search_users("t_").items] == [bert.id]
    assert services.search_users("%").items == []
    assert services.search_users("a_n").items == []
    assert services.search_users("gone").items == []


def test_create_admin_makes_a_verified_staff_citizen(make_user):
    admin = services.create_admin("Boss@Stadt.example", PASSWORD)
    assert admin.email == "boss@stadt.example" and admin.pseudonym == "boss"
    assert admin.has_role("staff") and admin.has_role("citizen") and admin.is_verified
    # A second admin with the same local part gets a pseudonym of its own.
    other = services.create_admin("boss@other.example", PASSWORD)
    assert other.pseudonym == "boss-2"
    # An existing account is promoted, keeping its name.
    user = make_user(email="anna@example.org", pseudonym="Anna", verified=False, roles=())
    services.create_admin("anna@example.org", NEW_PASSWORD)
    user = fresh(user)
    assert user.pseudonym == "Anna" and user.roles == {"citizen", "staff"} and user.is_verified
    assert verify_password(user.password_hash, NEW_PASSWORD)
    actions = [e.action for e in AuditEntry.query.all()]
    assert actions == ["account.create_admin"] * 3
    assert all(e.actor_id is None for e in AuditEntry.query.all())
