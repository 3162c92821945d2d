"""The two steps of a sign-on: off to the city's provider, and back with a code."""

from flask import Blueprint, flash, redirect, request, session, url_for
from flask_login import login_user

from ..accounts.second_factor import mark_second_factor
from ..errors import UserError, render_error
from ..i18n import _, set_language_cookie
from ..security import safe_next
from ..two_factor.services import mark_authenticated
from . import services

bp = Blueprint("sso", __name__, url_prefix="/account/sso")

_NEXT = "sso_next"


@bp.get("/login")
def login():
    # A link, not a form: the page's Content-Security-Policy (form-action 'self') would
    # stop a form whose answer redirects to the provider. Starting a sign-on changes
    # nothing but this session's state, and the state binds the answer to this browser.
    session[_NEXT] = safe_next(request.args.get("next"), url_for("pages.home"))
    try:
        return redirect(services.start_sign_on(fresh=request.args.get("fresh") == "1"))
    except UserError as error:
        return render_error(error.status, error.message)


@bp.get("/callback")
def callback():
    next_url = safe_next(session.get(_NEXT), url_for("pages.home"))
    try:
        user, vouched_mfa, just_now = services.finish_sign_on()
    except UserError as error:
        return render_error(error.status, error.message)
    session.clear()  # start the logged-in session from nothing (no state, no old marker)
    login_user(user)
    if vouched_mfa and just_now:
        # Both factors at the provider a moment ago: as good as consult's confirm step.
        mark_authenticated("sso")
    elif vouched_mfa:
        mark_second_factor("sso")
    flash(_("Welcome back, %(name)s!", name=user.pseudonym), "success")
    return set_language_cookie(redirect(next_url), user.locale)
