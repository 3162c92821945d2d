"""Two factors for staff: set-up, the code step, replay, throttling, recovery codes,
step-up after a remember-me login, re-authentication and the staff reset of a lost device."""

import re
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from sqlalchemy import select
from testdata import PASSWORD, plain, set_up_totp, shows, totp_code

from consult.accounts.models import RecoveryCode, User
from consult.audit.models import AuditEntry
from consult.clock import frozen, travel
from consult.errors import UserError
from consult.extensions import db
from consult.two_factor import services

WRONG_CODE = "This code is not correct. Please enter the current one."
TOO_MANY = "Too many wrong codes. Please wait %(minutes)d minutes and try again."
CODE_URL = "/account/two-factor/code"


def _password_step(client, user, remember=False, next_url="/staff/users"):
    data = {"email": user.email, "password": PASSWORD}
    if remember:
        data["remember"] = "y"
    response = client.post_form(f"/account/login?next={next_url}", data)
    assert response.status_code == 302
    client.forget_csrf()
    return response


def _code_step(client, code, next_url="/staff/users"):
    url = f"{CODE_URL}?next={next_url}"
    return client.post_form(url, {"code": code, "csrf_token": client.csrf_token(url)})


def _logout(client):
    client.forget_csrf()
    response = client.post_form("/account/logout", {"csrf_token": client.csrf_token("/")})
    assert response.status_code == 302
    client.forget_csrf()


def _actions(action):
    return db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()


@pytest.fixture
def staff(make_user):
    return make_user(email="chefin@stadt.example", pseudonym="Chefin", roles=("citizen", "staff"))


# --- set-up ----------------------------------------------------------------------------------


def test_staff_pages_stay_closed_until_set_up_then_codes_are_shown_once(client, make_user, login):
    person = make_user(roles=("citizen", "juror"), totp=False, locale="en")
    login(person)  # no code step: TOTP is not on yet
    # Citizen pages stay open; the juror's pages send to the set-up.
    assert client.get("/account/profile").status_code == 200
    response = client.get("/jury")
    assert response.status_code == 302
    assert response.headers["Location"] == "/account/two-factor/setup?next=/jury"

    page = client.get("/account/two-factor/setup?next=/jury", headers={"Accept-Language": "en"})
    body = page.get_data(as_text=True)
    db.session.refresh(person)
    grouped = " ".join(re.findall(".{1,4}", person.totp_secret))
    assert grouped in body and '<svg role="img"' in body
    assert "style=" not in body and "<script>" not in body
    assert person.totp_enabled_at is None  # not on before a first code confirms it

    codes = set_up_totp(client, person, next_url="/jury")
    assert len(set(codes)) == 10 and all(re.fullmatch(r"[a-z2-9]{4}-[a-z2-9]{4}", c) for c in codes)
    stored = db.session.scalars(select(RecoveryCode).where(RecoveryCode.user_id == person.id))
    assert all(row.code_hash.startswith("$argon2id$") for row in stored)
    assert all(code not in row.code_hash for row in stored for code in codes)
    assert len(_actions("two_factor.enable")) == 1
    assert client.get("/jury").status_code == 200  # the set-up marked this session
    # The codes are never shown again.
    assert codes[0] not in client.get("/account/two-factor").get_data(as_text=True)


def test_a_wrong_first_code_does_not_turn_it_on(client, make_user, login):
    person = make_user(roles=("citizen", "press"), totp=False)
    login(person)
    url = "/account/two-factor/setup"
    token = client.csrf_token(url)
    response = client.post(url, data={"csrf_token": token, "code": "000000"})
    assert response.status_code == 401 and shows(response, WRONG_CODE)
    assert db.session.get(User, person.id).totp_enabled_at is None


# --- the code step -----------------------------------------------------------------------------


def test_the_password_step_alone_opens_nothing(client, staff):
    response = _password_step(client, staff)
    assert response.headers["Location"] == f"{CODE_URL}?next=/staff/users"
    # Skipping the code step: a staff URL right after the password step.
    response = client.get("/staff/users")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/login")
    assert client.get("/account/profile").status_code == 302
    response = _code_step(client, totp_code(staff))
    assert response.status_code == 302 and response.headers["Location"] == "/staff/users"
    assert client.get("/staff/users").status_code == 200


def test_twenty_wrong_codes_are_throttled_and_then_a_right_one_is_refused(client, staff):
    _password_step(client, staff)
    statuses = [_code_step(client, f"{n:06d}").status_code for n in range(20)]
    assert statuses == [401] * 10 + [429] * 10
    response = _code_step(client, "123456")
    assert int(response.headers["Retry-After"]) > 0
    assert shows(response, TOO_MANY, minutes=15)
    assert _code_step(client, totp_code(staff)).status_code == 429
    assert client.get("/staff/users").status_code == 302


def test_a_code_from_the_previous_window_works_once(app, staff):
    at = datetime(2026, 12, 4, 12, 0, 10, tzinfo=UTC)
    previous = pyotp.TOTP(staff.totp_secret).at(at - timedelta(seconds=30))
    with frozen(at):
        assert services.check_totp(staff, previous, "203.0.113.1") == "totp"
        with pytest.raises(UserError) as refused:
            services.check_totp(staff, previous, "203.0.113.1")
        assert refused.value.status == 401
        # The current window is later than the one used, so its code still works, once.
        current = pyotp.TOTP(staff.totp_secret).at(at)
        assert services.check_totp(staff, current, "203.0.113.1") == "totp"
        with pytest.raises(UserError):
            services.check_totp(staff, current, "203.0.113.1")
    # A code two windows old is refused.
    with frozen(at + timedelta(seconds=90)), pytest.raises(UserError):
        services.check_totp(staff, pyotp.TOTP(staff.totp_secret).at(at + timedelta(30)), "x")


def test_a_recovery_code_works_once(client, make_user, login):
    person = make_user(roles=("citizen", "moderator"), totp=False)
    login(person)
    codes = set_up_totp(client, person)
    _logout(client)

    _password_step(client, person, next_url="/moderation/")
    response = _code_step(client, codes[3].upper().replace("-", " "), next_url="/moderation/")
    assert response.status_code == 302 and response.headers["Location"] == "/moderation/"
    assert client.get("/moderation/").status_code == 200
    assert len(_actions("two_factor.recovery_used")) == 1
    _logout(client)

    _password_step(client, person, next_url="/moderation/")
    assert _code_step(client, codes[3], next_url="/moderation/").status_code == 401
    assert client.get("/moderation/").status_code == 302


def test_a_pending_login_expires(client, staff):
    _password_step(client, staff)
    with travel(timedelta(minutes=6)):
        response = _code_step(client, totp_code(staff))
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/login")


def test_a_remember_me_login_asks_for_the_code_again(client, staff):
    _password_step(client, staff, remember=True)
    assert _code_step(client, totp_code(staff)).status_code == 302
    assert client.get("/staff/users").status_code == 200
    # A new browser session: only the remember-me cookie is left.
    client.http.delete_cookie("consult_session")
    response = client.get("/staff/users")
    assert response.headers["Location"] == f"{CODE_URL}?next=/staff/users"
    assert client.get("/account/profile").status_code == 200  # logged in all the same
    client.forget_csrf()
    assert _code_step(client, totp_code(staff)).status_code == 302
    assert client.get("/staff/users").status_code == 200


# --- re-authentication ---------------------------------------------------------------------------


def test_granting_a_role_needs_password_and_code_again(client, staff, make_user, login):
    citizen = make_user(email="anna@example.org")
    login(staff)
    with travel(timedelta(minutes=6)):
        url = f"/staff/users/{citizen.id}/roles"
        response = client.post_form(url, {"role": "juror", "change": "grant"})
        assert response.headers["Location"].startswith("/account/two-factor/confirm?next=")
        assert "juror" not in db.session.get(User, citizen.id).roles
        confirm = "/account/two-factor/confirm?next=/staff/users"
        wrong = client.post_form(confirm, {"password": "wrong", "code": totp_code(staff)})
        assert wrong.status_code == 401
        response = client.post_form(confirm, {"password": PASSWORD, "code": totp_code(staff)})
        assert response.headers["Location"] == "/staff/users"
        assert client.post_form(url, {"role": "juror", "change": "grant"}).status_code == 302
        assert "juror" in db.session.get(User, citizen.id).roles


# --- lost device, turning off, new codes ----------------------------------------------------------


def test_another_staff_member_resets_a_lost_device(client, staff, make_user, login, mailbox):
    colleague = make_user(email="kollege@stadt.example", roles=("staff",), locale="en")
    before = colleague.session_version
    db.session.add(RecoveryCode(user_id=colleague.id, code_hash="x"))
    db.session.commit()
    login(staff)
    own = client.post_form(f"/staff/users/{staff.id}/two-factor-reset")
    assert own.status_code == 403
    response = client.post_form(f"/staff/users/{colleague.id}/two-factor-reset")
    assert response.status_code == 302
    colleague = db.session.get(User, colleague.id)
    assert colleague.totp_secret is None and colleague.totp_enabled_at is None
    assert colleague.session_version == before + 1
    assert (
        db.session.scalar(select(RecoveryCode).where(RecoveryCode.user_id == colleague.id)) is None
    )
    (entry,) = _actions("two_factor.reset")
    assert (entry.actor_id, entry.object_id) == (staff.id, colleague.id)
    mail = mailbox.last_to("kollege@stadt.example")
    assert mail["Subject"] == plain("Your second factor was reset", "en")


def test_staff_cannot_turn_it_off_citizens_can(client, staff, make_user, login):
    login(staff)
    response = client.post_form(
        "/account/two-factor/disable", {"off-password": PASSWORD, "off-code": totp_code(staff)}
    )
    assert response.status_code == 403
    assert db.session.get(User, staff.id).totp_enabled_at is not None

    citizen = make_user(totp=True)
    _logout(client)
    login(citizen)
    assert client.get("/account/two-factor").status_code == 200
    response = client.post_form(
        "/account/two-factor/disable", {"off-password": PASSWORD, "off-code": totp_code(citizen)}
    )
    assert response.status_code == 302
    assert db.session.get(User, citizen.id).totp_secret is None
    assert len(_actions("two_factor.disable")) == 1


def test_new_recovery_codes_replace_the_old_ones(app, staff):
    with app.test_request_context():
        old = services._new_recovery_codes(staff)
        db.session.commit()
        new = services.regenerate_recovery_codes(staff, PASSWORD, totp_code(staff), "x")
        assert len(new) == 10 and not set(old) & set(new)
        with pytest.raises(UserError):
            services.check_code(staff, old[0], "x")
        assert services.check_code(staff, new[0], "x") == "recovery"
    assert services.unused_recovery_codes(staff) == 9
    assert len(_actions("two_factor.recovery_codes")) == 1


def test_the_data_download_says_whether_two_factors_are_on(client, staff, login):
    login(staff)
    data = client.get("/account/data.json").get_json()
    assert data["account"]["two_factor_authentication"] is True
    assert staff.totp_secret not in client.get("/account/data.json").get_data(as_text=True)


def _confirm(client, user):
    url = "/account/two-factor/confirm"
    response = client.post_form(url, {"password": PASSWORD, "code": totp_code(user)})
    assert response.status_code == 302


def test_freezing_results_needs_password_and_code_again(app, client, make_user, login):
    from jury.jury_support import jury_world

    from consult.jury.models import ResultSnapshot

    world = jury_world(make_user)
    login(world.staff)
    url = f"/staff/challenges/{world.challenge.id}/results/freeze"
    with travel(timedelta(minutes=6)):
        response = client.post_form(url, {"confirm": "yes"})
        assert response.headers["Location"].startswith("/account/two-factor/confirm?next=")
        assert db.session.get(ResultSnapshot, world.challenge.id) is None
        _confirm(client, world.staff)
        assert client.post_form(url, {"confirm": "yes"}).status_code == 302
        assert db.session.get(ResultSnapshot, world.challenge.id) is not None


def test_publishing_an_announcement_needs_it_too_and_keeps_the_text(app, client, make_user, login):
    from results.results_support import (
        TEXTS,
        edit_url,
        form_data,
        frozen_world,
        press_of,
        stored_announcement,
    )

    world = frozen_world(make_user)
    press = press_of(world)
    login(press)
    with travel(timedelta(minutes=6)):
        url = edit_url(world.challenge)
        response = client.post_form(url, form_data(world, action="publish"))
        assert response.headers["Location"].startswith("/account/two-factor/confirm?next=")
        stored = stored_announcement(world.challenge)
        assert stored.published_at is None and stored.title_en == TEXTS["title_en"]
        _confirm(client, press)
        assert client.post_form(url, form_data(world, action="publish")).status_code == 302
        assert stored_announcement(world.challenge).published_at is not None


def test_without_the_second_factor_staff_roles_show_nothing_anywhere(client, make_user, login):
    """Not only the role pages: what services and templates show to staff (an idea awaiting moderation,
    the staff menu) stays closed to a session that passed the password alone."""
    from voting.voting_support import make_challenge, make_idea

    challenge = make_challenge()
    hidden = make_idea(challenge, status="submitted", title="Versteckte Idee")
    person = make_user(roles=("citizen", "staff"), totp=False)
    login(person)  # no TOTP yet: logged in, but only as a citizen
    page = client.get(f"/ideas/{hidden.id}")
    assert page.status_code == 404
    home = client.get("/").get_data(as_text=True)
    assert 'href="/staff/users"' not in home
    assert client.get("/staff/users").headers["Location"].startswith("/account/two-factor/setup")

    set_up_totp(client, person)
    page = client.get(f"/ideas/{hidden.id}")
    assert page.status_code == 200 and "Versteckte Idee" in page.get_data(as_text=True)
    assert 'href="/staff/users"' in client.get("/").get_data(as_text=True)
