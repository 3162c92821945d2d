"""Signing on through a real OpenID provider (oidc-provider on loopback): the account, its
roles, the MFA rule, and every forged or replayed answer refused with nothing written."""

import logging
import re
from datetime import timedelta
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from sqlalchemy import func, select
from sso_provider import CLIENT_ID, CLIENT_SECRET, OTHER_ID, OTHER_SECRET
from testdata import html, shows

from consult.accounts.models import RoleGrant, SsoIdentity, User
from consult.audit.models import AuditEntry
from consult.clock import travel
from consult.extensions import db


def start(client, path="/account/sso/login") -> str:
    """Press the button on the login page: the provider's authorization URL."""
    response = client.get(path)
    assert response.status_code == 302, html(response)
    return response.headers["Location"]


def back(client, url: str):
    """The browser arriving back at consult with the provider's answer."""
    parts = urlsplit(url)
    return client.get(f"{parts.path}?{parts.query}")


def sign_in(client, provider, person: str):
    response = back(client, provider.authorize(start(client), person))
    client.forget_csrf()  # a sign-on starts a new session, so a new token
    return response


def log_out(client) -> None:
    assert client.post_form("/account/logout").status_code == 302
    client.forget_csrf()


def session_of(client) -> dict:
    with client.http.session_transaction() as session:
        return dict(session)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def nothing_written() -> bool:
    return count(User) == 0 and count(SsoIdentity) == 0 and count(AuditEntry) == 0


def actions() -> list[tuple[str, dict]]:
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))
    return [(e.action, e.details) for e in entries]


def test_first_sign_on_creates_the_account_maps_roles_and_takes_the_providers_mfa(client, provider):
    authorize_url = start(client)
    assert authorize_url.startswith(provider.issuer + "/auth?")
    query = parse_qs(urlsplit(authorize_url).query)
    assert query["code_challenge_method"] == ["S256"] and query["nonce"] and query["state"]
    assert query["redirect_uri"] == ["http://localhost/account/sso/callback"]

    response = back(client, provider.authorize(authorize_url, "anna"))

    assert response.status_code == 302 and response.headers["Location"] == "/"
    user = db.session.scalar(select(User))
    assert (user.email, user.pseudonym, user.is_verified) == (
        "anna.amt@stadt.example",
        "Anna Amt",
        True,
    )
    # A work account from the city's directory: staff from the claim, no citizen role;
    # "other-app-admin" maps to nothing.
    assert {(g.role, g.source) for g in user.role_grants} == {("staff", "sso")}
    identity = db.session.scalar(select(SsoIdentity))
    assert (identity.user_id, identity.issuer, identity.subject) == (
        user.id,
        provider.issuer,
        "anna",
    )
    assert identity.last_login_at is not None
    assert actions() == [("sso.account_create", {}), ("sso.role_grant", {"role": "staff"})]
    session = session_of(client)
    assert session["_user_id"] == user.get_id()
    assert session["second_factor"] == "sso"  # amr contains "mfa" and the setting allows it
    assert not any(key.startswith("_state_") for key in session)
    # The person's data download names the identity at the city's provider.
    data = client.get("/account/data.json").get_json()
    assert [(i["issuer"], i["subject"]) for i in data["sso_identities"]] == [
        (provider.issuer, "anna")
    ]


def test_without_mfa_at_the_provider_the_session_needs_consults_second_factor(client, provider):
    assert sign_in(client, provider, "bernd").status_code == 302
    user = db.session.scalar(select(User))
    assert {(g.role, g.source) for g in user.role_grants} == {("press", "sso")}
    session = session_of(client)
    assert session["_user_id"] == user.get_id()
    assert "second_factor" not in session


@pytest.mark.parametrize(
    ("replaces", "accepted_acr", "amr", "acr", "vouched"),
    [
        (False, [], ["pwd", "mfa"], None, False),  # the city did not say the provider's MFA counts
        (True, [], ["pwd"], "urn:city:mfa", False),  # an acr nobody configured
        (True, ["urn:city:mfa"], ["pwd"], "urn:city:mfa", True),
        (True, [], ["pwd", "hwk"], None, True),
        (True, [], "mfa", None, True),  # a provider that sends one string
    ],
)
def test_the_mfa_rule(app, replaces, accepted_acr, amr, acr, vouched):
    from consult.sso.services import vouches_for_mfa

    app.config.update(SSO_MFA_REPLACES_TOTP=replaces, SSO_MFA_ACR=accepted_acr)
    assert vouches_for_mfa({"amr": amr, "acr": acr}) is vouched


def test_a_callback_without_state_is_refused(client, provider):
    start(client)
    response = client.get("/account/sso/callback?code=abc")
    assert response.status_code == 400
    assert shows(response, "This sign-in has expired or was already used. Please start it again.")
    assert nothing_written()


def test_a_replayed_callback_is_refused(client, provider, app):
    authorize_url = start(client)
    cookie = client.http.get_cookie("consult_session").value  # as it was before the callback
    url = provider.authorize(authorize_url, "anna")
    assert back(client, url).status_code == 302
    # The same browser again: the state was used up by the first callback.
    assert back(client, url).status_code == 400
    # A replay with the old session cookie (which still holds the state): the provider
    # refuses the used code, so nothing more happens.
    thief = app.test_client()
    thief.set_cookie("consult_session", cookie, domain="localhost")
    replay = thief.get(f"{urlsplit(url).path}?{urlsplit(url).query}")
    assert replay.status_code == 400
    assert count(User) == 1 and count(SsoIdentity) == 1
    with thief.session_transaction() as session:
        assert "_user_id" not in session


def test_a_foreign_state_is_refused(client, provider, app):
    victim_url = provider.authorize(start(client), "anna")
    attacker = type(client)(app.test_client())  # tests/conftest.py's CSRF-handling client
    start(attacker)  # the attacker's own sign-in, with a state of its own
    response = back(attacker, victim_url)
    assert response.status_code == 400
    assert nothing_written()


def _swap_token(provider, client_id, secret, nonce_of):
    """Make the proxy hand consult a real token of another flow instead of its own."""

    def tamper(answer):
        return provider.token_for(client_id, secret, "anna", nonce_of(answer))

    provider.tamper = tamper


def test_an_id_token_with_another_nonce_is_refused(client, provider, caplog):
    _swap_token(provider, CLIENT_ID, CLIENT_SECRET, lambda answer: "a-nonce-of-another-login")
    with caplog.at_level(logging.WARNING, logger="consult.sso.services"):
        response = sign_in(client, provider, "anna")
    assert response.status_code == 400
    assert shows(
        response,
        "The answer of the city's sign-in service could not be verified. Please try again.",
    )
    assert "nonce" in caplog.text
    assert nothing_written()


def test_an_id_token_for_another_client_is_refused(client, provider, caplog):
    authorize_url = start(client)
    nonce = parse_qs(urlsplit(authorize_url).query)["nonce"][0]
    # A genuine token, signed by the provider, with the right nonce, for another client.
    _swap_token(provider, OTHER_ID, OTHER_SECRET, lambda answer: nonce)
    with caplog.at_level(logging.WARNING, logger="consult.sso.services"):
        response = back(client, provider.authorize(authorize_url, "anna"))
    assert response.status_code == 400
    assert "aud" in caplog.text
    assert nothing_written()


def test_a_forged_signature_is_refused(client, provider, caplog):
    def flip(answer):
        header, payload, signature = answer["id_token"].split(".")
        flipped = "A" if signature[5] != "A" else "B"
        answer["id_token"] = ".".join((header, payload, signature[:5] + flipped + signature[6:]))
        return answer

    provider.tamper = flip
    with caplog.at_level(logging.WARNING, logger="consult.sso.services"):
        response = sign_in(client, provider, "anna")
    assert response.status_code == 400
    assert "signature" in caplog.text.lower()
    assert nothing_written()


def test_an_expired_id_token_is_refused(client, provider, caplog):
    url = provider.authorize(start(client), "anna")
    # The provider's ID tokens live an hour; consult's clock (which every expiry uses)
    # reads two hours later when the answer arrives.
    with (
        travel(timedelta(hours=2)),
        caplog.at_level(logging.WARNING, logger="consult.sso.services"),
    ):
        response = back(client, url)
    assert response.status_code == 400
    assert "exp" in caplog.text
    assert nothing_written()


def test_a_removed_claim_takes_the_role_away_at_the_next_sign_on(client, provider, make_user):
    # A citizen whose address the city's directory vouches for: linked, not duplicated.
    citizen = make_user(email="anna.amt@stadt.example", pseudonym="Anna")
    assert sign_in(client, provider, "anna").status_code == 302
    user = db.session.get(User, citizen.id)
    assert count(User) == 1
    assert {(g.role, g.source) for g in user.role_grants} == {
        ("citizen", "local"),
        ("staff", "sso"),
    }

    provider.set_account("anna", claims={"roles": ["other-app-admin"]}, amr=["pwd"])
    log_out(client)
    assert sign_in(client, provider, "anna").status_code == 302

    user = db.session.get(User, citizen.id)
    assert {(g.role, g.source) for g in user.role_grants} == {("citizen", "local")}
    assert [a for a, _d in actions()] == ["sso.account_link", "sso.role_grant", "sso.role_revoke"]
    assert "second_factor" not in session_of(client)


def test_a_local_grant_is_never_taken_away_by_the_provider(client, provider, make_user):
    make_user(email="anna.amt@stadt.example", roles=("citizen", "press"))
    provider.set_account("anna", claims={"roles": ["consult-press"]})
    assert sign_in(client, provider, "anna").status_code == 302
    provider.set_account("anna", claims={"roles": []})
    log_out(client)
    assert sign_in(client, provider, "anna").status_code == 302
    user = db.session.scalar(select(User))
    assert {(g.role, g.source) for g in user.role_grants} == {
        ("citizen", "local"),
        ("press", "local"),
    }


def test_an_address_the_provider_does_not_vouch_for_is_not_linked(client, provider, make_user):
    make_user(email="anna.amt@stadt.example")
    provider.set_account("anna", claims={"email_verified": False})
    response = sign_in(client, provider, "anna")
    assert response.status_code == 409
    assert count(User) == 1 and count(SsoIdentity) == 0 and count(RoleGrant) == 1


def test_a_deleted_account_cannot_sign_on(client, provider):
    assert sign_in(client, provider, "anna").status_code == 302
    user = db.session.scalar(select(User))
    from consult.clock import now

    user.deleted_at, user.email = now(), None
    db.session.commit()
    log_out(client)
    response = sign_in(client, provider, "anna")
    assert response.status_code == 403
    assert "_user_id" not in session_of(client)


def test_an_unsigned_id_token_is_refused(client, provider, caplog):
    def strip(answer):
        _header, payload, _signature = answer["id_token"].split(".")
        answer["id_token"] = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + payload + "."  # alg none
        return answer

    provider.tamper = strip
    response = sign_in(client, provider, "anna")
    assert response.status_code == 400
    assert nothing_written()


def test_an_answer_naming_another_issuer_is_refused(client, provider):
    url = provider.authorize(start(client), "anna")
    assert f"iss={quote(provider.issuer, safe='')}" in url  # RFC 9207: the provider names itself
    forged = url.replace(quote(provider.issuer, safe=""), quote("https://evil.example", safe=""))
    assert back(client, forged).status_code == 400
    assert back(client, url).status_code == 400  # the state is used up by the refusal
    # Without the iss the provider promises in its discovery document: refused as well.
    url = provider.authorize(start(client), "anna")
    unnamed = re.sub(r"&?iss=[^&]*", "", url)
    assert back(client, unnamed).status_code == 400
    assert nothing_written()


def test_a_password_login_ends_the_roles_from_the_directory(client, provider, make_user, login):
    citizen = make_user(email="anna.amt@stadt.example", pseudonym="Anna")
    assert sign_in(client, provider, "anna").status_code == 302
    log_out(client)
    # The directory may have taken the staff role away since; a password cannot tell.
    login(citizen)
    user = db.session.get(User, citizen.id)
    assert {(g.role, g.source) for g in user.role_grants} == {("citizen", "local")}
    assert actions()[-1] == ("sso.role_revoke_password", {"role": "staff"})
    log_out(client)
    assert sign_in(client, provider, "anna").status_code == 302  # and back with the claim
    assert db.session.get(User, citizen.id).roles == {"citizen", "staff"}


def test_an_overlong_subject_is_refused(app, provider):
    from consult.errors import UserError
    from consult.sso.services import sign_on_account

    with pytest.raises(UserError) as refused:
        sign_on_account(provider.issuer, {"sub": "x" * 256, "email": "a@stadt.example"})
    assert refused.value.status == 400
    assert nothing_written()


@pytest.mark.parametrize(
    ("claim", "claims", "roles"),
    [
        ("realm_access.roles", {"realm_access": {"roles": ["consult-staff"]}}, {"staff"}),
        ("groups", {"groups": "consult-press"}, {"press"}),  # one string, not a list
        ("groups", {"groups": {"consult-press": True}}, set()),  # neither: no role
        ("realm_access.roles", {"realm_access": ["consult-staff"]}, set()),
    ],
)
def test_the_role_claim(app, make_user, claim, claims, roles):
    from consult.sso.services import sync_sso_roles

    app.config["SSO_ROLE_CLAIM"] = claim
    user = make_user(roles=())
    sync_sso_roles(user, claims)
    assert user.roles == roles


def test_a_directory_account_confirms_it_is_them_at_the_provider(client, provider, make_user):
    """No consult password, no TOTP: before granting a role the person signs in at the
    provider again (max_age=0), and only a sign-in of just now with MFA counts."""
    citizen = make_user(email="carla@example.org")
    sign_in(client, provider, "anna")  # staff from the directory, MFA at the provider
    assert session_of(client)["second_factor"] == "sso"
    url = f"/staff/users/{citizen.id}/roles"
    with client.http.session_transaction() as session:
        session["reauth_at"] = 0  # the sign-in was long ago
    client.csrf_token("/staff/users")
    response = client.post_form(url, {"role": "juror", "change": "grant"})
    confirm = response.headers["Location"]
    assert confirm.startswith("/account/two-factor/confirm?next=")
    page = client.get(confirm)
    assert page.status_code == 200
    link = re.search(r'href="(/account/sso/login\?[^"]+)"', html(page)).group(1)
    assert "fresh=1" in link and 'name="password"' not in html(page)  # nothing to type here
    authorize_url = start(client, link.replace("&amp;", "&"))
    assert parse_qs(urlsplit(authorize_url).query)["max_age"] == ["0"]
    returned = back(client, provider.authorize(authorize_url, "anna"))
    assert returned.headers["Location"].startswith("/staff/users")
    client.forget_csrf()
    client.csrf_token("/staff/users")
    assert client.post_form(url, {"role": "juror", "change": "grant"}).status_code == 302
    assert "juror" in db.session.get(User, citizen.id).roles

    # A sign-in at the provider that lies further back does not confirm anything.
    with travel(timedelta(minutes=10)):
        log_out(client)
        sign_in(client, provider, "anna")
        assert session_of(client)["second_factor"] == "sso"
        assert "reauth_at" not in session_of(client)
