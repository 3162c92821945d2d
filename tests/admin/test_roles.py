"""Roles: granted on verification, from the command line, and by staff on /staff/users."""

import re

import pytest
from flask_babel import force_locale, gettext
from markupsafe import escape
from sqlalchemy import func, select
from testdata import PASSWORD, set_up_totp

from consult.accounts import services
from consult.accounts.models import ROLES, RoleGrant, User
from consult.audit.models import AuditEntry
from consult.extensions import db
from consult.permissions import ROLE_ABILITIES, ROLE_LABELS


def says(text: str, locale: str = "de", **kwargs) -> str:
    with force_locale(locale):
        return str(escape(gettext(text, **kwargs)))


def shows(response, text: str, locale: str = "de", **kwargs) -> bool:
    return says(text, locale, **kwargs) in response.get_data(as_text=True)


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def roles_of(user) -> set[str]:
    db.session.expire_all()
    return db.session.get(User, user.id).roles


def change(client, user, role, how, confirm=True):
    """Grant, or revoke as confirmed on the confirmation page (``confirm=False``: first step)."""
    data = {"role": role, "change": how}
    if how == "revoke" and confirm:
        data["confirm"] = "1"
    return client.post_form(f"/staff/users/{user.id}/roles", data)


@pytest.fixture
def staff(make_user, login):
    """A logged-in staff member."""
    user = make_user(email="staff@stadt.example", pseudonym="Chefin", roles=("citizen", "staff"))
    login(user)
    return user


# --- the role names -----------------------------------------------------------------------


def test_the_five_roles():
    assert ROLES == ("citizen", "moderator", "juror", "staff", "press")


def test_one_account_can_hold_several_roles(make_user):
    user = make_user(roles=("citizen", "juror", "press"))
    assert user.roles == {"citizen", "juror", "press"}
    assert user.has_role("juror") and user.has_role("press") and not user.has_role("staff")


def test_roles_other_than_citizen_do_not_need_verification(make_user):
    # Staff grant these deliberately, e.g. to an invited juror who has not clicked yet.
    user = make_user(verified=False, roles=("citizen", "juror"))
    assert user.has_role("juror") and not user.has_role("citizen")


# --- the command line ---------------------------------------------------------------------


def _create_admin(app, address, password=PASSWORD):
    return app.test_cli_runner().invoke(
        args=["users", "create-admin", address, "--password-stdin"], input=password + "\n"
    )


def test_create_admin_from_the_command_line(app, client):
    result = _create_admin(app, "Chefin@Stadt.example")
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    user = db.session.scalar(select(User).where(User.email == "chefin@stadt.example"))
    assert "chefin@stadt.example" in result.output and f"id {user.id}" in result.output
    assert user.roles == {"citizen", "staff"} and user.is_verified
    assert user.password_hash.startswith("$argon2id$")
    entry = db.session.scalar(select(AuditEntry))
    assert (entry.action, entry.actor_id, entry.object_id) == (
        "account.create_admin",
        None,
        user.id,
    )
    # The new account can log in and open the staff pages once it set up two factors.
    response = client.post_form(
        "/account/login", {"email": "chefin@stadt.example", "password": PASSWORD}
    )
    assert response.status_code == 302
    response = client.get("/staff/users")
    assert response.headers["Location"].startswith("/account/two-factor/setup")
    set_up_totp(client, user)
    assert client.get("/staff/users").status_code == 200


def test_create_admin_twice_changes_nothing_but_the_password(app):
    assert _create_admin(app, "chefin@stadt.example").exit_code == 0
    assert _create_admin(app, "chefin@stadt.example", "ein ganz anderes Passwort").exit_code == 0
    assert count(User) == 1
    assert count(RoleGrant) == 2


def test_create_admin_promotes_an_existing_account(app, make_user):
    user = make_user(email="anna@example.org", pseudonym="Anna", verified=False, roles=())
    assert _create_admin(app, "ANNA@example.org").exit_code == 0
    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert user.roles == {"citizen", "staff"} and user.is_verified and user.pseudonym == "Anna"
    assert count(User) == 1


@pytest.mark.parametrize(
    ("address", "password"),
    [("chefin@stadt.example", "password"), ("not an address", PASSWORD)],
    ids=["common-password", "malformed-address"],
)
def test_create_admin_refuses_bad_input_with_a_message(app, address, password):
    result = _create_admin(app, address, password)
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Error:" in result.output
    assert count(User) == 0 and count(AuditEntry) == 0


# --- the staff page -----------------------------------------------------------------------


def test_the_staff_page_lists_accounts_with_their_roles(client, staff, make_user):
    make_user(email="anna@example.org", pseudonym="Anna", roles=("citizen", "juror"))
    make_user(email="bert@example.org", pseudonym="Bert", verified=False, roles=())
    gone = make_user(email="gone@example.org", pseudonym="Gone")
    services.delete_account(gone, PASSWORD)
    response = client.get("/staff/users")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "anna@example.org" in page and "bert@example.org" in page
    assert "gone@example.org" not in page and "Gone" not in page
    assert says("not confirmed") in page
    assert says("Revoke role %(role)s from %(name)s", role=says("Juror"), name="Anna") in page
    assert says("Grant role %(role)s to %(name)s", role=says("Press"), name="Anna") in page
    # Every button is a POST form with its own CSRF token.
    assert page.count('name="csrf_token"') >= 3 * len(ROLES)


def test_the_staff_page_finds_accounts(client, staff, make_user):
    make_user(email="anna@example.org", pseudonym="Anna")
    make_user(email="bert@example.org", pseudonym="Bert")
    page = client.get("/staff/users?q=ANNA").get_data(as_text=True)
    assert "anna@example.org" in page and "bert@example.org" not in page
    page = client.get("/staff/users?q=bert%40").get_data(as_text=True)
    assert "bert@example.org" in page and "anna@example.org" not in page
    response = client.get("/staff/users?q=nobody")
    assert shows(response, "No accounts found.")


@pytest.mark.parametrize(
    "query", ["<script>alert(1)</script>", "%", "_", "x" * 10_000, "' OR 1=1 --"]
)
def test_odd_searches_are_harmless(client, staff, make_user, query):
    make_user(email="anna@example.org", pseudonym="Anna")
    response = client.get("/staff/users", query_string={"q": query})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "anna@example.org" not in page


@pytest.mark.parametrize("page", ["0", "-1", "abc", "99999999999", "2"])
def test_odd_page_numbers_are_harmless(client, staff, page):
    assert client.get(f"/staff/users?page={page}").status_code == 200
    assert client.get(f"/staff/audit?page={page}").status_code == 200


@pytest.mark.parametrize("role", ROLES)
def test_staff_grant_and_revoke_every_role(client, staff, make_user, role):
    user = make_user(email="anna@example.org", pseudonym="Anna", roles=())
    response = change(client, user, role, "grant")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/staff/users")
    assert roles_of(user) == {role}
    label = says(ROLE_LABELS[role])
    assert shows(
        client.get("/staff/users"), "%(name)s now has the role %(role)s.", name="Anna", role=label
    )
    response = change(client, user, role, "revoke")
    assert response.status_code == 302
    assert roles_of(user) == set()
    assert shows(
        client.get("/staff/users"),
        "%(name)s no longer has the role %(role)s.",
        name="Anna",
        role=label,
    )
    entries = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.action, e.actor_id, e.object_type, e.object_id, e.details) for e in entries] == [
        ("role.grant", staff.id, "user", user.id, {"role": role}),
        ("role.revoke", staff.id, "user", user.id, {"role": role}),
    ]


def test_a_grant_records_who_granted_it(client, staff, make_user):
    user = make_user(roles=())
    change(client, user, "moderator", "grant")
    grant = db.session.scalar(select(RoleGrant).where(RoleGrant.user_id == user.id))
    assert grant.granted_by_id == staff.id and grant.granted_at is not None


def test_granting_a_held_role_again_changes_nothing(client, staff, make_user):
    user = make_user(roles=("citizen", "juror"))
    assert change(client, user, "juror", "grant").status_code == 302
    assert change(client, user, "press", "revoke").status_code == 302
    assert roles_of(user) == {"citizen", "juror"}
    assert count(AuditEntry) == 0


def test_the_search_is_kept_after_a_change(client, staff, make_user):
    user = make_user(pseudonym="Anna")
    response = client.post_form(
        f"/staff/users/{user.id}/roles?q=Anna", {"role": "press", "change": "grant"}
    )
    assert response.headers["Location"] == "/staff/users?q=Anna"


def test_a_new_role_takes_effect_at_once(app, client, staff, make_user):
    colleague = make_user(email="kollege@stadt.example", roles=("citizen",))
    other = app.test_client()
    page = other.get("/account/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    other.post(
        "/account/login",
        data={"email": colleague.email, "password": PASSWORD, "csrf_token": token},
    )
    assert other.get("/staff/users").status_code == 403
    change(client, colleague, "staff", "grant")
    # At once: the page no longer refuses, it asks for the second factor staff need.
    response = other.get("/staff/users")
    assert response.headers["Location"].startswith("/account/two-factor/setup")
    set_up_totp(other, colleague)
    assert other.get("/staff/users").status_code == 200
    change(client, colleague, "staff", "revoke")
    assert other.get("/staff/users").status_code == 403


def test_another_staff_member_can_revoke_staff(client, staff, make_user):
    colleague = make_user(roles=("citizen", "staff"))
    assert change(client, colleague, "staff", "revoke").status_code == 302
    assert roles_of(colleague) == {"citizen"}


def test_staff_may_drop_their_other_roles(client, staff):
    assert change(client, staff, "citizen", "revoke").status_code == 302
    assert roles_of(staff) == {"staff"}


# --- removing a role asks first -----------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_removing_a_role_asks_for_confirmation_first(client, staff, make_user, role):
    user = make_user(pseudonym="Anna", roles=tuple({"citizen", role}))
    response = client.post_form(
        f"/staff/users/{user.id}/roles?q=Ann", {"role": role, "change": "revoke"}
    )
    # The first POST changes nothing: it shows what the removal means and asks again.
    assert response.status_code == 200
    assert roles_of(user) == {"citizen", role} and count(AuditEntry) == 0
    page = response.get_data(as_text=True)
    label = says(ROLE_LABELS[role])
    assert says("Remove the role %(role)s from %(name)s?", role=label, name="Anna") in page
    assert says(
        "%(name)s will no longer be able to %(abilities)s.",
        name="Anna", abilities=says(ROLE_ABILITIES[role]),
    ) in page  # fmt: skip
    form = page.split('<form method="post"')[-1].split("</form>")[0]
    assert f'action="/staff/users/{user.id}/roles?q=Ann"' in form
    assert 'name="confirm" value="1"' in form and 'name="csrf_token"' in form
    assert f'name="role" value="{role}"' in form and 'name="change" value="revoke"' in form
    assert 'href="/staff/users?q=Ann"' in page  # cancel keeps the search
    # The second POST, from the confirmation page, removes the role.
    response = client.post_form(
        f"/staff/users/{user.id}/roles?q=Ann", {"role": role, "change": "revoke", "confirm": "1"}
    )
    assert response.status_code == 302 and response.headers["Location"] == "/staff/users?q=Ann"
    assert roles_of(user) == ({"citizen"} if role != "citizen" else set())
    assert count(AuditEntry) == 1


def test_the_confirmation_speaks_english_and_explains_the_citizen_role(client, make_user, login):
    staff = make_user(roles=("citizen", "staff"), locale="en")
    user = make_user(pseudonym="Anna", roles=("citizen",))
    login(staff)
    response = change(client, user, "citizen", "revoke", confirm=False)
    assert response.status_code == 200 and '<html lang="en">' in response.get_data(as_text=True)
    assert shows(
        response,
        "Their ideas, comments and votes stay. Their pages will say that the account may not take part and whom to ask.",
        "en",
    )


def test_granting_stays_one_click_and_is_checked_again(client, staff, make_user):
    user = make_user(roles=("citizen",))
    assert change(client, user, "juror", "grant").status_code == 302
    assert roles_of(user) == {"citizen", "juror"}
    # A stale page granting a role the account already holds changes nothing.
    assert change(client, user, "juror", "grant").status_code == 302
    assert count(AuditEntry) == 1


def test_removing_a_role_not_held_needs_no_confirmation(client, staff, make_user):
    user = make_user(roles=("citizen",))
    assert change(client, user, "press", "revoke", confirm=False).status_code == 302
    assert roles_of(user) == {"citizen"} and count(AuditEntry) == 0


def test_confirmation_is_not_offered_for_ones_own_staff_role(client, staff):
    response = change(client, staff, "staff", "revoke", confirm=False)
    assert response.status_code == 400
    assert shows(response, "You cannot remove your own staff role. Ask another staff member.")
    assert 'name="confirm"' not in response.get_data(as_text=True)


@pytest.mark.parametrize("confirm", ["0", "yes", "", "1 "])
def test_only_confirm_1_removes_a_role(client, staff, make_user, confirm):
    user = make_user(roles=("citizen", "juror"))
    response = client.post_form(
        f"/staff/users/{user.id}/roles", {"role": "juror", "change": "revoke", "confirm": confirm}
    )
    assert response.status_code == 200
    assert roles_of(user) == {"citizen", "juror"} and count(AuditEntry) == 0


# --- hostile role changes -----------------------------------------------------------------


def test_staff_cannot_revoke_their_own_staff_role(client, staff):
    response = change(client, staff, "staff", "revoke")
    assert response.status_code == 400
    assert shows(response, "You cannot remove your own staff role. Ask another staff member.")
    assert roles_of(staff) == {"citizen", "staff"}
    assert count(AuditEntry) == 0
    assert client.get("/staff/users").status_code == 200


def test_the_self_revoke_message_speaks_english(client, make_user, login):
    user = make_user(roles=("citizen", "staff"), locale="en")
    login(user)
    response = change(client, user, "staff", "revoke")
    assert response.status_code == 400
    assert shows(response, "You cannot remove your own staff role. Ask another staff member.", "en")


@pytest.mark.parametrize(
    "data",
    [
        {"role": "superuser", "change": "grant"},
        {"role": "admin", "change": "revoke"},
        {"role": "", "change": "grant"},
        {"role": "moderator", "change": "delete"},
        {"role": "moderator", "change": ""},
        {"role": "moderator"},
        {"change": "grant"},
        {"role": "moderator\x00", "change": "grant"},
        {"role": "Moderator", "change": "grant"},
    ],
)
def test_malformed_role_changes_are_refused(client, staff, make_user, data):
    user = make_user(roles=("citizen",))
    response = client.post_form(f"/staff/users/{user.id}/roles", data)
    assert response.status_code == 400
    assert shows(response, "The request could not be processed")
    assert roles_of(user) == {"citizen"}
    assert count(AuditEntry) == 0


def test_role_changes_for_unknown_or_deleted_accounts(client, staff, make_user):
    assert change(client, type("Ghost", (), {"id": 99999})(), "juror", "grant").status_code == 404
    gone = make_user(roles=("citizen",))
    services.delete_account(gone, PASSWORD)
    response = change(client, gone, "juror", "grant")
    assert response.status_code == 400
    assert shows(response, "This account has been deleted.")
    assert roles_of(gone) == set() and count(AuditEntry) == 0


def test_a_role_change_without_csrf_token_is_refused(client, staff, make_user):
    user = make_user(roles=("citizen",))
    response = client.http.post(
        f"/staff/users/{user.id}/roles", data={"role": "staff", "change": "grant"}
    )
    assert response.status_code == 400
    assert shows(response, "Your form has expired or was not sent from our site. Please try again.")
    assert roles_of(user) == {"citizen"} and count(AuditEntry) == 0


def test_a_role_change_cannot_be_made_by_get(client, staff, make_user):
    user = make_user(roles=("citizen",))
    response = client.get(f"/staff/users/{user.id}/roles?role=staff&change=grant")
    assert response.status_code == 405
    assert roles_of(user) == {"citizen"}


@pytest.mark.parametrize("roles", [("citizen",), ("citizen", "moderator", "juror", "press"), ()])
def test_non_staff_cannot_open_the_staff_pages(client, make_user, login, roles):
    user = make_user(roles=roles)
    target = make_user(roles=("citizen",))
    login(user)
    for url in ("/staff/users", "/staff/audit", "/staff/audit?action=role.grant"):
        response = client.get(url)
        assert response.status_code == 403, url
        assert shows(response, "You do not have permission to see this page.")
        assert "person" not in response.get_data(as_text=True).split("<main")[1].split("</main>")[0]
    for own in (user, target):
        response = change(client, own, "staff", "grant")
        assert response.status_code == 403
    assert roles_of(user) == set(roles) and roles_of(target) == {"citizen"}
    assert count(AuditEntry) == 0


def test_unverified_staff_role_holders_are_still_staff(client, make_user, login):
    # Staff is what staff granted; only "citizen" depends on the confirmed address.
    user = make_user(verified=False, roles=("staff",))
    login(user)
    assert client.get("/staff/users").status_code == 200


def test_visitors_are_sent_to_log_in(client, make_user):
    user = make_user()
    for url in ("/staff/users", "/staff/audit"):
        response = client.get(url)
        assert response.status_code == 302
        assert response.headers["Location"] == f"/account/login?next={url}"
    response = change(client, user, "staff", "grant")
    assert response.status_code == 302
    assert roles_of(user) == {"citizen"}


def test_the_staff_navigation_is_only_shown_to_staff(client, make_user, login):
    citizen = make_user(roles=("citizen",))
    login(citizen)
    assert 'href="/staff/users"' not in client.get("/").get_data(as_text=True)
    client.post_form("/account/logout")
    client.forget_csrf()
    login(make_user(roles=("citizen", "staff")))
    page = client.get("/").get_data(as_text=True)
    assert 'href="/staff/users"' in page and 'href="/staff/audit"' in page
