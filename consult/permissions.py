"""The one permission helper: every view that needs a role goes through here."""

from functools import wraps

from flask import abort, redirect, request, url_for
from flask_login import current_user

from .i18n import _, _l

ROLE_LABELS = {
    "citizen": _l("Citizen"),
    "moderator": _l("Moderator"),
    "juror": _l("Juror"),
    "staff": _l("Staff"),
    "press": _l("Press"),
}


def user_has_role(user, role: str) -> bool:
    return bool(user and user.is_authenticated and user.has_role(role))


def check_role(*roles: str) -> None:
    """Abort unless the current user holds one of ``roles``; say what to do where we can."""
    if not current_user.is_authenticated:
        abort(redirect(url_for("accounts.login", next=request.full_path.rstrip("?"))))
    if any(user_has_role(current_user, role) for role in roles):
        return
    if "citizen" in roles and not current_user.is_verified:
        abort(
            403,
            description=_(
                "Please confirm your e-mail address first: open the link we sent you. "
                "You can request a new link on your profile page."
            ),
        )
    abort(403)


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
