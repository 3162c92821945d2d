"""Abuse limits on voting: per account and per address, counted in Redis across processes.

Answered with 429, Retry-After and a message in the user's language. 200 citizens behind
one carrier address (one REMOTE_ADDR) must all be able to vote.
"""

import pytest
from flask import session
from flask_babel import force_locale, gettext
from flask_login import login_user
from flask_wtf.csrf import generate_csrf
from markupsafe import escape
from redis import Redis
from sqlalchemy import func, select
from voting_support import challenge_with_ideas

from consult import create_app
from consult.accounts.models import RoleGrant, User
from consult.clock import now
from consult.extensions import db
from consult.voting import services
from consult.voting.models import Vote

CARRIER = "100.64.0.1"  # one carrier-grade NAT address in front of many phones


@pytest.fixture
def app_config(redis_url):
    return {"REDIS_URL": redis_url}


def make_challenge(ideas: int = 3, budget: int = 5):
    challenge, rows = challenge_with_ideas(ideas, budget=budget)
    return challenge.id, [i.id for i in rows]


def make_citizens(n: int, locale: str = "de") -> list[User]:
    users = [
        User(
            email=f"c{i}-{locale}@example.org",
            pseudonym=f"Citizen {locale} {i}",
            pseudonym_key=f"citizen {locale} {i}",
            password_hash="!",
            locale=locale,
            email_verified_at=now(),
            privacy_consent_at=now(),
            role_grants=[RoleGrant(role="citizen")],
        )
        for i in range(n)
    ]
    db.session.add_all(users)
    db.session.commit()
    return users


class Phone:
    """One citizen's browser: a signed session cookie and its CSRF token, at an address."""

    def __init__(self, app, user, address: str = CARRIER):
        with (
            app.app_context(),
            app.test_request_context("/", environ_base={"REMOTE_ADDR": address}),
        ):
            login_user(user)
            self.token = generate_csrf()
            data = dict(session)
        self.cookie = app.session_interface.get_signing_serializer(app).dumps(data)
        self.address = address

    def post(self, app, path: str, idea_id: int):
        client = app.test_client()
        client.set_cookie(app.config["SESSION_COOKIE_NAME"], self.cookie)
        response = client.post(
            path,
            data={"idea": idea_id, "csrf_token": self.token},
            environ_base={"REMOTE_ADDR": self.address},
        )
        # A redirect to the login page would also be a 302: make sure we were logged in.
        assert "/account/login" not in response.headers.get("Location", "")
        return response


def says(text: str, locale: str, **kwargs) -> str:
    with force_locale(locale):
        return str(escape(gettext(text, **kwargs)))


def hammer_until_refused(app, phone, challenge_id, idea_id, limit=200):
    """Vote and withdraw in turn until refused; returns (answers before, the refusal)."""
    answers = []
    for n in range(limit):
        action = "vote" if n % 2 == 0 else "unvote"
        response = phone.post(app, f"/challenges/{challenge_id}/{action}", idea_id)
        if response.status_code == 429:
            return answers, response
        answers.append(response.status_code)
    raise AssertionError("never refused")


def test_one_account_hammering_gets_429_with_retry_after_in_its_language(app):
    challenge_id, (idea_id, *_rest) = make_challenge()
    (anna,) = make_citizens(1, "de")
    (ben,) = make_citizens(1, "en")
    for user, locale in ((anna, "de"), (ben, "en")):
        answers, refusal = hammer_until_refused(app, Phone(app, user), challenge_id, idea_id)
        assert len(answers) == services.ACCOUNT_LIMIT
        assert set(answers) == {302}  # every allowed action did what it said (no 500)
        wait = int(refusal.headers["Retry-After"])
        assert 0 < wait <= services.ACCOUNT_WINDOW
        page = refusal.get_data(as_text=True)
        assert (
            says("You are voting very fast. Please wait %(seconds)d seconds.", locale, seconds=wait)
            in page
        )
        with force_locale(locale):
            assert f'lang="{locale}"' in page
    # The refused requests changed nothing: the 60 alternating actions leave no vote.
    assert db.session.scalar(select(func.count()).select_from(Vote)) == 0


def test_two_hundred_citizens_behind_one_address_all_vote_while_a_hammerer_is_stopped(app):
    challenge_id, idea_ids = make_challenge(ideas=2)
    citizens = make_citizens(200)
    (hammerer,) = make_citizens(1, "en")
    phones = [Phone(app, c) for c in citizens]

    # The hammerer shares the carrier address and is stopped by the account limit...
    hammer_until_refused(app, Phone(app, hammerer), challenge_id, idea_ids[0])
    # ...while every one of the 200 neighbours can still vote.
    path = f"/challenges/{challenge_id}/vote"
    statuses = {p.post(app, path, idea_ids[n % 2]).status_code for n, p in enumerate(phones)}
    assert statuses == {302}, statuses
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Vote)) == 200
    assert services.check_vote_counts() == [] and services.check_ballots() == []


def test_address_limit_stops_many_accounts_from_one_address_not_others(app, monkeypatch):
    monkeypatch.setattr(services, "ADDRESS_LIMIT", 5)
    challenge_id, (idea_id, *_rest) = make_challenge()
    citizens = make_citizens(7)
    for citizen in citizens[:5]:
        assert (
            Phone(app, citizen).post(app, f"/challenges/{challenge_id}/vote", idea_id).status_code
            == 302
        )
    refusal = Phone(app, citizens[5]).post(app, f"/challenges/{challenge_id}/vote", idea_id)
    assert refusal.status_code == 429
    assert 0 < int(refusal.headers["Retry-After"]) <= services.ADDRESS_WINDOW
    # Another address is not affected.
    other = Phone(app, citizens[6], address="192.0.2.7")
    assert other.post(app, f"/challenges/{challenge_id}/vote", idea_id).status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Vote)) == 6


def test_limits_are_shared_by_processes_through_redis(app, redis_url):
    """Two app instances (as two gunicorn workers would be) count in the same Redis."""
    challenge_id, (idea_id, *_rest) = make_challenge()
    (citizen,) = make_citizens(1)
    keys = (
        "TESTING", "SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "MAIL_DIR", "MAIL_SERVER",
        "ARGON2_PROFILE", "SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE", "PUBLIC_URL",
    )  # fmt: skip
    other = create_app({**{k: app.config[k] for k in keys}, "REDIS_URL": redis_url})
    phone = Phone(app, citizen)
    workers = (app, other)
    for n in range(services.ACCOUNT_LIMIT):
        action = "vote" if n % 2 == 0 else "unvote"
        response = phone.post(workers[n % 2], f"/challenges/{challenge_id}/{action}", idea_id)
        assert response.status_code == 302
    assert phone.post(app, f"/challenges/{challenge_id}/vote", idea_id).status_code == 429
    assert phone.post(other, f"/challenges/{challenge_id}/vote", idea_id).status_code == 429
    counted = Redis.from_url(redis_url).get(f"rl:vote:user:{citizen.id}")
    assert int(counted) == services.ACCOUNT_LIMIT
    with other.app_context():
        db.engine.dispose()
