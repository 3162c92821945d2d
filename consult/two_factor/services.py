"""Two factors: TOTP (RFC 6238) with single-use recovery codes, and re-authentication.

A code is accepted from the current 30-second window and the one before and after it
(clocks of phones drift), but only if its window is later than the last one accepted:
``users.totp_last_step`` makes every code, even one from the previous window, work once.
Wrong codes are throttled like wrong passwords, per account and per client address.
"""

import hmac
import secrets

import pyotp
import segno
from flask import current_app, session
from markupsafe import Markup, escape
from sqlalchemy import or_, select, update

from .. import jobs, ratelimit
from ..accounts.models import RecoveryCode, User
from ..accounts.passwords import hash_password, verify_password
from ..accounts.second_factor import SECOND_FACTOR_ROLES, mark_second_factor
from ..audit.services import record_action
from ..clock import now
from ..errors import UserError
from ..extensions import db
from ..i18n import _
from ..urls import external_url

STEP = 30  # seconds of one TOTP window (RFC 6238 default; every authenticator app uses it)
RECOVERY_CODES = 10
# Letters and digits that cannot be mistaken for each other on paper (no 0/o, 1/l/i).
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
# A signed-in session counts as freshly authenticated (password and code) this long.
REAUTH_SECONDS = 5 * 60
# The password step of a login waits this long for the code.
PENDING_LOGIN_SECONDS = 5 * 60

_REAUTH_KEY = "reauth_at"
_PENDING_KEY = "pending_login"


# --- state ------------------------------------------------------------------------------


def required_for(user: User) -> bool:
    """True when ``user`` holds a role whose pages need a second factor."""
    return any(user.holds_role(role) for role in SECOND_FACTOR_ROLES)


def unused_recovery_codes(user: User) -> int:
    return len(_unused_codes(user))


def _unused_codes(user: User) -> list[RecoveryCode]:
    return list(
        db.session.scalars(
            select(RecoveryCode).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        )
    )


# --- setting up -------------------------------------------------------------------------


def start_setup(user: User) -> str:
    """The secret to enrol, kept on the account until a first code confirms it.

    Reused while set-up is unfinished, so reloading the page does not invalidate an
    authenticator that was already scanned.
    """
    if user.uses_totp:
        raise UserError(_("Two-factor authentication is already on."), status=409)
    if not user.totp_secret:
        user.totp_secret = pyotp.random_base32()
        user.totp_last_step = None
        db.session.commit()
    return user.totp_secret


def issuer() -> str:
    return f"consult {current_app.config['CITY_NAME']}"


def provisioning_uri(user: User) -> str:
    return pyotp.TOTP(user.totp_secret).provisioning_uri(name=user.email, issuer_name=issuer())


def qr_svg(user: User) -> Markup:
    """The otpauth URI as an inline SVG: no script, no style attribute, no external image."""
    qr = segno.make(provisioning_uri(user), error="m")
    label = _("QR code for your app")
    svg = qr.svg_inline(scale=5, dark="#000", light="#fff", title=label)  # segno escapes it
    # An image to assistive technology, named like its title. segno writes only digits,
    # fixed markup and the escaped label.
    svg = svg.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1)
    return Markup(svg)  # noqa: S704


def grouped_secret(secret: str) -> str:
    """The secret in groups of four for typing it into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def enable(user: User, code: str, address: str) -> list[str]:
    """Turn TOTP on with the first code from the app; returns the ten recovery codes."""
    if user.uses_totp:
        raise UserError(_("Two-factor authentication is already on."), status=409)
    if not user.totp_secret:
        raise UserError(_("Please start the set-up again."), status=409)
    check_totp(user, code, address)
    user.totp_enabled_at = now()
    codes = _new_recovery_codes(user)
    record_action(user, "two_factor.enable", "user", user.id)
    db.session.commit()
    return codes


def _new_recovery_codes(user: User) -> list[str]:
    db.session.execute(RecoveryCode.__table__.delete().where(RecoveryCode.user_id == user.id))
    codes = []
    for _n in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _i in range(8))
        codes.append(f"{raw[:4]}-{raw[4:]}")
    # Hashed like passwords: a leaked database must not hand out ways in.
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=hash_password(c)) for c in codes)
    return codes


def regenerate_recovery_codes(user: User, password: str, code: str, address: str) -> list[str]:
    """Ten new recovery codes (the old ones stop working); password and code required."""
    check_password_and_code(user, password, code, address)
    codes = _new_recovery_codes(user)
    record_action(user, "two_factor.recovery_codes", "user", user.id)
    db.session.commit()
    return codes


def disable(user: User, password: str, code: str, address: str) -> None:
    """Turn TOTP off: for citizens only, as staff roles need it."""
    if required_for(user):
        raise UserError(
            _("Your roles need two-factor authentication, so it cannot be turned off."),
            status=403,
        )
    check_password_and_code(user, password, code, address)
    _clear(user)
    record_action(user, "two_factor.disable", "user", user.id)
    db.session.commit()


def _clear(user: User) -> None:
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.execute(RecoveryCode.__table__.delete().where(RecoveryCode.user_id == user.id))


def reset_for(actor: User, user: User) -> None:
    """Staff reset a lost device: secret and recovery codes gone, sessions ended, person mailed."""
    if actor.id == user.id:
        raise UserError(
            _("You cannot reset your own second factor. Ask another staff member."), status=403
        )
    if not user.is_active:
        raise UserError(_("This account has been deleted."))
    if not (user.totp_secret or user.totp_enabled_at):
        raise UserError(_("This account has no second factor set up."), status=409)
    _clear(user)
    user.session_version += 1
    record_action(actor, "two_factor.reset", "user", user.id)
    jobs.enqueue(
        jobs.send_email,
        user.email,
        "two_factor_reset",
        user.locale,
        {"name": user.pseudonym, "login_url": external_url("accounts.login")},
    )
    db.session.commit()


# --- checking codes ---------------------------------------------------------------------


def _throttle_keys(user: User, address: str) -> list[tuple[str, int]]:
    cfg = current_app.config
    return [
        (f"totp:{user.id}", cfg["LOGIN_FAILURES_PER_ACCOUNT"]),
        (f"totp-addr:{address}", cfg["LOGIN_FAILURES_PER_ADDRESS"]),
    ]


def _refuse_if_throttled(user: User, address: str) -> None:
    window = current_app.config["LOGIN_THROTTLE_WINDOW"]
    wait = ratelimit.retry_after_any(_throttle_keys(user, address), window)
    if wait:
        raise ratelimit.too_many(
            wait,
            _(
                "Too many wrong codes. Please wait %(minutes)d minutes and try again.",
                minutes=ratelimit.wait_minutes(wait),
            ),
        )


def _count_failure(user: User, address: str) -> None:
    window = current_app.config["LOGIN_THROTTLE_WINDOW"]
    for key, _limit in _throttle_keys(user, address):
        ratelimit.hit(key, window)


def _clean(code: str) -> str:
    return "".join((code or "").split()).lower()


def check_totp(user: User, code: str, address: str) -> str:
    """Accept a TOTP code once; throttled. Returns "totp"; UserError (401) when wrong."""
    _refuse_if_throttled(user, address)
    code = _clean(code)
    if _accept_totp(user, code):
        ratelimit.reset(f"totp:{user.id}")
        return "totp"
    _count_failure(user, address)
    raise UserError(_("This code is not correct. Please enter the current one."), "code", 401)


def _accept_totp(user: User, code: str) -> bool:
    if not (user.totp_secret and code.isdigit() and len(code) == 6):
        return False
    totp = pyotp.TOTP(user.totp_secret)
    current = int(now().timestamp()) // STEP
    last = user.totp_last_step if user.totp_last_step is not None else -1
    for step in (current - 1, current, current + 1):
        if step <= last or not hmac.compare_digest(totp.generate_otp(step), code):
            continue
        # Conditional, so two requests racing with the same code cannot both pass.
        taken = db.session.execute(
            update(User)
            .where(User.id == user.id)
            .where(or_(User.totp_last_step.is_(None), User.totp_last_step < step))
            .values(totp_last_step=step)
        )
        db.session.commit()
        return taken.rowcount == 1
    return False


def check_code(user: User, code: str, address: str) -> str:
    """A TOTP code or an unused recovery code (used up); returns "totp" or "recovery"."""
    cleaned = _clean(code)
    if cleaned.isdigit():
        return check_totp(user, cleaned, address)
    _refuse_if_throttled(user, address)
    cleaned = cleaned.replace("-", "")
    candidate = f"{cleaned[:4]}-{cleaned[4:]}"
    for stored in _unused_codes(user) if len(cleaned) == 8 else []:
        if verify_password(stored.code_hash, candidate):
            used = db.session.execute(
                update(RecoveryCode)
                .where(RecoveryCode.id == stored.id, RecoveryCode.used_at.is_(None))
                .values(used_at=now())
            )
            if used.rowcount != 1:
                break
            record_action(user, "two_factor.recovery_used", "user", user.id)
            db.session.commit()
            ratelimit.reset(f"totp:{user.id}")
            return "recovery"
    db.session.rollback()
    _count_failure(user, address)
    raise UserError(_("This code is not correct. Please enter the current one."), "code", 401)


def check_password_and_code(user: User, password: str, code: str, address: str) -> str:
    """Both factors again, for what must not be done from an unattended session."""
    _refuse_if_throttled(user, address)
    if not verify_password(user.password_hash, password):
        _count_failure(user, address)
        raise UserError(_("The current password is not correct."), "password", 401)
    if not user.uses_totp:
        raise UserError(_("Please set up two-factor authentication first."), status=409)
    return check_code(user, code, address)


# --- the session ------------------------------------------------------------------------


def mark_authenticated(method: str) -> None:
    """This session passed both factors just now: it may act (see ``recently_authenticated``)."""
    mark_second_factor(method)
    session[_REAUTH_KEY] = now().timestamp()


def recently_authenticated() -> bool:
    at = session.get(_REAUTH_KEY)
    return isinstance(at, float | int) and 0 <= now().timestamp() - at <= REAUTH_SECONDS


def reauthenticate(user: User, password: str, code: str, address: str) -> None:
    method = check_password_and_code(user, password, code, address)
    mark_authenticated(method)


def start_pending_login(user: User, remember: bool) -> None:
    """The password was right; the login completes only with the code."""
    session.clear()
    session[_PENDING_KEY] = {
        "u": user.id,
        "v": user.session_version,
        "r": bool(remember),
        "at": now().timestamp(),
    }


def pending_login() -> tuple[User, bool] | None:
    """The account waiting for its code and its remember-me choice, or None."""
    data = session.get(_PENDING_KEY)
    if not isinstance(data, dict):
        return None
    if not 0 <= now().timestamp() - data.get("at", 0) <= PENDING_LOGIN_SECONDS:
        session.pop(_PENDING_KEY, None)
        return None
    user = db.session.get(User, data.get("u"))
    if user is None or not user.is_active or user.session_version != data.get("v"):
        return None
    return user, bool(data.get("r"))
