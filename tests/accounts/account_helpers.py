"""Helpers shared by the account tests (imported by name; pytest does not collect this file)."""

import re
from urllib.parse import urlsplit

from sqlalchemy import func, select
from testdata import (  # noqa: F401  (re-exported for the account tests)
    PASSWORD,
    html,
    plain,
    says,
    shows,
)

from consult.accounts.models import User
from consult.extensions import db

NEW_PASSWORD = "another quite lovely passphrase"

_CSRF_VALUE = re.compile(r'(name="csrf_token"[^>]*value=")[^"]+(")')


def without_csrf(page: str) -> str:
    """The page with its CSRF tokens blanked, so two answers can be compared."""
    return _CSRF_VALUE.sub(r"\1TOKEN\2", page)


def path_of(url: str) -> str:
    """The path (and query) of a link from a mail, for the test client."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def fresh(user: User) -> User:
    """The user as the database has it now."""
    db.session.expire_all()
    return db.session.get(User, user.id)


def user_by_email(address: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.email == address))


def registration(**fields) -> dict:
    data = {
        "email": "anna@example.org",
        "password": PASSWORD,
        "pseudonym": "Anna",
        "locale": "de",
        "consent": "y",
    }
    data.update(fields)
    return {key: value for key, value in data.items() if value is not None}


def register(client, headers=None, **fields):
    return client.post_form("/account/register", registration(**fields), headers=headers or {})


def mail_link(mailbox, address: str, part: str) -> str:
    return path_of(mailbox.link(mailbox.last_to(address), part))


def logged_in(client) -> bool:
    """Whether the client's session (or remember-me cookie) still logs it in."""
    response = client.http.get("/account/profile")
    return response.status_code == 200
