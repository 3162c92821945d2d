"""Pages of two-factor authentication: set-up, the code step of a login, re-authentication."""

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user

from ..accounts.second_factor import passed_second_factor
from ..errors import UserError
from ..forms import form_status, show_error
from ..i18n import _, set_language_cookie
from ..permissions import login_required
from ..ratelimit import client_address
from ..security import safe_next
from ..sso import services as sso_services
from . import services
from .forms import CodeForm, EnableForm, ReauthForm

bp = Blueprint("two_factor", __name__, url_prefix="/account/two-factor")


def _next(default: str | None = None) -> str:
    return safe_next(request.args.get("next"), default or url_for("pages.home"))


def require_recent_auth(back_to: str) -> None:
    """Abort to the "confirm it's you" page unless this session gave password and code in
    the last few minutes; ``back_to`` is the page to return to (a form's page, as a POST
    cannot be repeated by a redirect)."""
    if services.recently_authenticated():
        return
    flash(_("Please confirm it is you, then repeat the action."), "info")
    abort(redirect(url_for("two_factor.confirm", next=back_to)))


@bp.get("")
@login_required
def manage():
    return _render_manage()


def _render_manage(status: int = 200, **forms):
    forms.setdefault("codes_form", ReauthForm(formdata=None, prefix="codes"))
    forms.setdefault("disable_form", ReauthForm(formdata=None, prefix="off"))
    return render_template(
        "two_factor/manage.html",
        enabled=current_user.uses_totp,
        required=services.required_for(current_user),
        remaining=services.unused_recovery_codes(current_user),
        **forms,
    ), status


@bp.route("/setup", methods=["GET", "POST"])
@login_required
def setup():
    next_url = _next(url_for("two_factor.manage"))
    if current_user.uses_totp:
        return redirect(next_url)
    services.start_setup(current_user)
    form = EnableForm()
    status = form_status(form)
    if form.validate_on_submit():
        try:
            codes = services.enable(current_user, form.code.data, client_address())
        except UserError as error:
            show_error(form, error)
            status = error.status
        else:
            services.mark_authenticated("totp")
            flash(_("Two-factor authentication is on."), "success")
            return _render_codes(codes, next_url)
    return render_template(
        "two_factor/setup.html",
        form=form,
        qr=services.qr_svg(current_user),
        secret=services.grouped_secret(current_user.totp_secret),
        issuer=services.issuer(),
        required=services.required_for(current_user),
        next=next_url,
    ), status


def _render_codes(codes: list[str], next_url: str):
    # Shown once, in the answer to the POST: no page can show them again.
    response = render_template("two_factor/recovery_codes.html", codes=codes, next=next_url)
    return response, 200, {"Cache-Control": "no-store"}


@bp.route("/code", methods=["GET", "POST"])
def code():
    """The second step of a login, or a step-up for a session without the marker."""
    next_url = _next()
    pending = services.pending_login()
    if pending is None:
        if not current_user.is_authenticated:
            flash(_("Please log in again."), "info")
            return redirect(url_for("accounts.login", next=next_url))
        if passed_second_factor():
            return redirect(next_url)
        if not current_user.uses_totp:
            return redirect(url_for("two_factor.setup", next=next_url))
    user = pending[0] if pending else current_user._get_current_object()
    form = CodeForm()
    status = form_status(form)
    if form.validate_on_submit():
        try:
            method = services.check_code(user, form.code.data, client_address())
        except UserError as error:
            show_error(form, error)
            status = error.status
        else:
            if pending:
                session.clear()  # the logged-in session starts from nothing
                login_user(user, remember=pending[1])
                flash(_("Welcome back, %(name)s!", name=user.pseudonym), "success")
            services.mark_authenticated(method)
            if method == "recovery":
                left = services.unused_recovery_codes(user)
                flash(
                    _(
                        "You used a recovery code; %(count)d are left. Make new ones on your two-factor page.",
                        count=left,
                    ),
                    "info",
                )
            return set_language_cookie(redirect(next_url), user.locale)
    return render_template("two_factor/code.html", form=form, next=next_url), status


@bp.route("/confirm", methods=["GET", "POST"])
@login_required
def confirm():
    """Password and code again before an act that must not come from an unattended session."""
    next_url = _next(url_for("two_factor.manage"))
    # An account of the city's directory confirms at the city's provider (it may have
    # neither a consult password nor TOTP).
    by_sso = sso_services.offers_reauthentication(current_user)
    if not (current_user.uses_totp and current_user.password_hash):
        if by_sso:
            return render_template("two_factor/confirm.html", form=None, next=next_url)
        return redirect(url_for("two_factor.setup", next=next_url))
    form = ReauthForm()
    status = form_status(form)
    if form.validate_on_submit():
        try:
            services.reauthenticate(
                current_user, form.password.data, form.code.data, client_address()
            )
        except UserError as error:
            show_error(form, error)
            status = error.status
        else:
            return redirect(next_url)
    return (
        render_template("two_factor/confirm.html", form=form, next=next_url, by_sso=by_sso),
        status,
    )


@bp.post("/recovery-codes")
@login_required
def regenerate():
    form = ReauthForm(prefix="codes")
    if form.validate_on_submit():
        try:
            codes = services.regenerate_recovery_codes(
                current_user, form.password.data, form.code.data, client_address()
            )
        except UserError as error:
            show_error(form, error)
            return _render_manage(error.status, codes_form=form)
        flash(_("Your new recovery codes are ready; the old ones no longer work."), "success")
        return _render_codes(codes, url_for("two_factor.manage"))
    return _render_manage(400, codes_form=form)


@bp.post("/disable")
@login_required
def disable():
    form = ReauthForm(prefix="off")
    if form.validate_on_submit():
        try:
            services.disable(current_user, form.password.data, form.code.data, client_address())
        except UserError as error:
            show_error(form, error)
            return _render_manage(error.status, disable_form=form)
        flash(_("Two-factor authentication is off."), "success")
        return redirect(url_for("two_factor.manage"))
    return _render_manage(400, disable_form=form)
