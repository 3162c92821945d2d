"""Whether this session has passed a second factor, and which roles demand one.

The marker lives in the (signed) session and nowhere else: a new login clears the session,
so every login, including one through a remember-me cookie, must pass the second step
again. Set by the TOTP step (consult.two_factor) or by a single sign-on whose
provider vouched for multi-factor authentication (consult.sso).
"""

from flask import session

# Roles whose pages stay closed until the session has passed a second factor.
SECOND_FACTOR_ROLES = ("staff", "press", "moderator", "juror")

_KEY = "second_factor"


def mark_second_factor(method: str) -> None:
    """Record that this session passed a second factor: "totp", "recovery" or "sso"."""
    session[_KEY] = method


def passed_second_factor() -> str | None:
    """The method this session passed a second factor with, or None."""
    return session.get(_KEY)
