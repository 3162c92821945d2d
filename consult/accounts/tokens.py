"""Signed, expiring, single-use links for e-mail verification, password reset and e-mail change."""

import secrets

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer
from sqlalchemy.exc import IntegrityError

from ..clock import now
from ..extensions import db
from ..i18n import _
from .models import UsedToken


class TokenError(Exception):
    """A link that cannot be used; ``message`` tells the user why, in their language."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class _ClockSigner(TimestampSigner):
    """Stamps and ages links by ``consult.clock``, like every other deadline.

    itsdangerous reads ``time.time()`` itself, so without this link expiry would ignore
    the application clock (and ``clock.travel()`` could not test it).
    """

    def get_timestamp(self) -> int:
        return int(now().timestamp())


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    # The salt separates purposes: a verification link can never reset a password.
    return URLSafeTimedSerializer(
        current_app.config["SECRET_KEY"], salt=f"consult.{purpose}", signer=_ClockSigner
    )


def make_token(purpose: str, user_id: int, **data) -> str:
    return _serializer(purpose).dumps({"u": user_id, "j": secrets.token_hex(16), **data})


def read_token(purpose: str, token: str, max_age: int | None) -> dict:
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
    db.session.add(UsedToken(jti=payload["j"], purpose=purpose))
    try:
        # A flush, not a savepoint: with pysqlite, releasing a savepoint that opened the
        # transaction commits it, so the link was used up even when its action then failed.
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise TokenError(_("This link has already been used.")) from exc
    return payload
