"""The one permission helper: every view that needs a role goes through here."""

from functools import wraps

from flask import abort, current_app, redirect, request, url_for
from flask_login import current_user

from .i18n import _, _l

ROLE_LABELS = {
    "citizen": _l("Citizen"),
    "moderator": _l("Moderator"),
    "juror": _l("Juror"),
    "staff": _l("Staff"),
    "press": _l("Press"),
}


# What a role lets its holder do, completing "… will no longer be able to …".
ROLE_ABILITIES = {
    "citizen": _l("submit ideas, comment, vote or ask for the results by mail"),
    "moderator": _l("publish or hide ideas and comments or work the report queue"),
    "juror": _l("score ideas as a juror"),
    "staff": _l("manage challenges, juries, lab projects and roles or read the audit log"),
    "press": _l("prepare or publish results announcements"),
}


def user_has_role(user, role: str) -> bool:
    return bool(user and user.is_authenticated and user.has_role(role))


def check_role(*roles: str) -> None:
    """Abort unless the current user holds one of ``roles``; say what to do where we can."""
    if not current_user.is_authenticated:
        abort(redirect(url_for("accounts.login", next=request.full_path.rstrip("?"))))
    if any(user_has_role(current_user, role) for role in roles):
        return
    if any(current_user.holds_role(role) for role in roles):
        # Only a second-factor role opens this page, and this session has not passed one
        # (password only, a remember-me cookie, single sign-on without MFA).
        abort(redirect(_second_factor_url()))
    if "citizen" in roles:
        abort(403, description=participation_refusal(current_user))
    abort(403)


def _second_factor_url() -> str:
    target = request.full_path.rstrip("?") if request.method == "GET" else None
    if current_user.uses_totp:
        return url_for("two_factor.code", next=target)
    return url_for("two_factor.setup", next=target)


def participation_refusal(user) -> str | None:
    """Why a logged-in ``user`` may not take part (submit, comment, vote), or None if they may.

    The true reason: an unconfirmed address can be fixed by the person; a missing citizen
    role (taken away by staff, or never given) only by the city, so say whom to ask.
    """
    if user_has_role(user, "citizen"):
        return None
    if not user.is_verified:
        return _(
            "Please confirm your e-mail address first: open the link we sent you. "
            "You can request a new link on your profile page."
        )
    return _(
        "Your account may not take part at the moment: it does not have the citizen role. "
        "If you think this is a mistake, please write to %(email)s.",
        email=current_app.config["CONTACT_EMAIL"],
    )


def require_participant(user) -> None:
    """UserError (403) unless ``user`` is logged in and may take part; for services."""
    from .errors import UserError

    if not (user and user.is_authenticated):
        raise UserError(_("Please log in first."), status=403)
    refusal = participation_refusal(user)
    if refusal:
        raise UserError(refusal, status=403)


def role_required(*roles: str):
    """Decorator form of ``check_role`` for views."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            check_role(*roles)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def login_required(view):
    """Send anonymous visitors to the login page and bring them back afterwards."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped
