"""Signed, expiring, single-use links for e-mail verification, password reset and e-mail change."""

import secrets

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..i18n import _
from .models import UsedToken


class TokenError(Exception):
    """A link that cannot be used; ``message`` tells the user why, in their language."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    # The salt separates purposes: a verification link can never reset a password.
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"consult.{purpose}")


def make_token(purpose: str, user_id: int, **data) -> str:
    return _serializer(purpose).dumps({"u": user_id, "j": secrets.token_hex(16), **data})


def read_token(purpose: str, token: str, max_age: int) -> dict:
    """Check signature and age without using the link up (for the confirmation page)."""
    try:
        payload = _serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise TokenError(_("This link has expired. Please request a new one.")) from exc
    except BadSignature as exc:
        raise TokenError(
            _("This link is not valid. Please copy it completely from the e-mail.")
        ) from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("u"), int) or "j" not in payload:
        raise TokenError(_("This link is not valid. Please copy it completely from the e-mail."))
    if db.session.get(UsedToken, payload["j"]) is not None:
        raise TokenError(_("This link has already been used."))
    return payload


def consume_token(purpose: str, token: str, max_age: int) -> dict:
    """Validate the link and mark it used in the current transaction.

    The primary key on ``used_tokens.jti`` makes a second use fail even when two requests
    race; the mark commits (or rolls back) together with what the link does.
    """
    payload = read_token(purpose, token, max_age)
    try:
        with db.session.begin_nested():
            db.session.add(UsedToken(jti=payload["j"], purpose=purpose))
    except IntegrityError as exc:
        raise TokenError(_("This link has already been used.")) from exc
    return payload
