"""Pages of the accounts feature: thin views over accounts.services."""

import json
from functools import cache

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, login_user, logout_user
from sqlalchemy import Integer, bindparam, select
from sqlalchemy.orm import joinedload

from ..errors import UserError, render_error
from ..extensions import db, login_manager
from ..forms import ActionForm, form_status, show_error
from ..i18n import _, current_locale, set_language_cookie
from ..permissions import login_required
from ..ratelimit import client_address
from ..security import safe_next
from ..two_factor import services as two_factor
from . import services
from .forms import (
    ChangeEmailForm,
    ChangePasswordForm,
    DeleteAccountForm,
    ForgotPasswordForm,
    LanguageForm,
    LoginForm,
    NotificationsForm,
    ProfileForm,
    RegisterForm,
    ResetPasswordForm,
)
from .models import User
from .second_factor import passed_second_factor
from .tokens import TokenError, read_token

bp = Blueprint("accounts", __name__, url_prefix="/account")


@cache
def _user_with_roles():
    """Built once, bound per request: every logged-in request runs it."""
    return (
        select(User)
        .where(User.id == bindparam("v_id", type_=Integer))
        .options(joinedload(User.role_grants))
    )


@login_manager.user_loader
def load_user(login_id: str) -> User | None:
    user_id, _sep, version = login_id.partition(":")
    if not (user_id.isdigit() and version.isdigit()):
        return None
    # The roles in the same query: every logged-in page asks for them.
    user = (
        db.session.execute(_user_with_roles(), {"v_id": int(user_id)}).unique().scalar_one_or_none()
    )
    if user is None or not user.is_active or user.session_version != int(version):
        return None
    user.second_factor_pending = not passed_second_factor()
    return user


def _token_error(error: TokenError | UserError):
    return render_error(400, error.message)


@bp.route("/register", methods=["GET", "POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("accounts.profile"))
    form = RegisterForm()
    if not form.is_submitted():
        form.locale.data = current_locale()
    if form.validate_on_submit():
        try:
            services.register_user(
                form.email.data, form.password.data, form.pseudonym.data, form.locale.data
            )
        except UserError as error:
            show_error(form, error)
        else:
            return render_template("accounts/check_mail.html", email=form.email.data.strip())
    return render_template("accounts/register.html", form=form), form_status(form)


@bp.route("/verify/<token>", methods=["GET", "POST"])
def verify_email(token: str):
    # GET only shows a button: mail scanners that prefetch links must not use them up.
    form = ActionForm()
    try:
        read_token("verify", token, current_app.config["VERIFY_LINK_MAX_AGE"])
        if form.validate_on_submit():
            services.verify_email(token)
            flash(
                _("Thank you, your e-mail address is confirmed. You can now take part."), "success"
            )
            target = "accounts.profile" if current_user.is_authenticated else "accounts.login"
            return redirect(url_for(target))
    except (TokenError, UserError) as error:
        return _token_error(error)
    return render_template(
        "accounts/confirm_link.html",
        form=form,
        title=_("Confirm your e-mail address"),
        button=_("Confirm my e-mail address"),
    ), form_status(form)


@bp.post("/verify/resend")
@login_required
def resend_verification():
    form = ActionForm()
    if not form.validate_on_submit():
        return render_error(400)
    if current_user.is_verified:
        flash(_("Your e-mail address is already confirmed."), "info")
    else:
        services.resend_verification(current_user)
        flash(_("We have sent you a new link. Please check your inbox."), "success")
    return redirect(url_for("accounts.profile"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    next_url = safe_next(request.args.get("next"), url_for("pages.home"))
    if current_user.is_authenticated:
        return redirect(next_url)
    form = LoginForm()
    status = form_status(form)
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data, client_address())
        except UserError as error:
            show_error(form, error)
            status = error.status
        else:
            if user.uses_totp:
                # Not logged in yet: the code step (consult.two_factor) completes the login.
                two_factor.start_pending_login(user, form.remember.data)
                return redirect(url_for("two_factor.code", next=next_url))
            session.clear()  # start the logged-in session from nothing
            login_user(user, remember=form.remember.data)
            flash(_("Welcome back, %(name)s!", name=user.pseudonym), "success")
            return set_language_cookie(redirect(next_url), user.locale)
    return render_template("accounts/login.html", form=form, next=next_url), status


@bp.post("/logout")
def logout():
    form = ActionForm()
    if not form.validate_on_submit():
        return render_error(400)
    # Clear first: logout_user() leaves a note in the session to delete the remember-me
    # cookie, and clearing afterwards lost it, so that cookie logged the user straight in again.
    session.clear()
    logout_user()
    flash(_("You have been logged out."), "success")
    return redirect(url_for("pages.home"))


@bp.route("/forgot-password", methods=["GET", "POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        return render_template(
            "accounts/check_mail.html", email=form.email.data.strip(), reset=True
        )
    return render_template("accounts/forgot_password.html", form=form), form_status(form)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    form = ResetPasswordForm()
    try:
        read_token("reset", token, current_app.config["RESET_LINK_MAX_AGE"])
        if form.validate_on_submit():
            services.reset_password(token, form.password.data)
            flash(_("Your new password is set. Please log in."), "success")
            return redirect(url_for("accounts.login"))
    except TokenError as error:
        return _token_error(error)
    except UserError as error:
        if error.field is None:
            return _token_error(error)
        show_error(form, error)
    return render_template("accounts/reset_password.html", form=form), form_status(form)


@bp.get("/profile")
@login_required
def profile():
    return _render_profile()


def _render_profile(status: int = 200, **forms):
    forms.setdefault("profile_form", ProfileForm(obj=current_user, formdata=None))
    forms.setdefault("password_form", ChangePasswordForm(formdata=None))
    forms.setdefault("email_form", ChangeEmailForm(formdata=None))
    forms.setdefault(
        "notifications_form",
        NotificationsForm(formdata=None, comments=current_user.notify_comments),
    )
    return render_template("accounts/profile.html", resend_form=ActionForm(), **forms), status


def _profile_action(form, action, success: str, form_name: str):
    """Validate a profile form, run the service, and show the profile again."""
    if form.validate_on_submit():
        try:
            action(form)
        except UserError as error:
            show_error(form, error)
        else:
            flash(success, "success")
            return redirect(url_for("accounts.profile"))
    return _render_profile(400, **{form_name: form})


@bp.post("/profile")
@login_required
def update_profile():
    def action(form):
        services.update_profile(current_user, form.pseudonym.data, form.locale.data)

    response = _profile_action(
        ProfileForm(), action, _("Your profile has been saved."), "profile_form"
    )
    if isinstance(response, Response) and response.status_code == 302:
        set_language_cookie(response, current_user.locale)
    return response


@bp.post("/password")
@login_required
def change_password():
    def action(form):
        services.change_password(current_user, form.current_password.data, form.new_password.data)
        # The session version changed; log in again here so only *other* sessions end.
        # A remember-me cookie on this device holds the old login id: renew it too, or
        # "stay logged in" would quietly end here as well.
        cookie = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token")
        login_user(current_user._get_current_object(), remember=cookie in request.cookies)

    return _profile_action(
        ChangePasswordForm(), action, _("Your password has been changed."), "password_form"
    )


@bp.post("/notifications")
@login_required
def change_notifications():
    def action(form):
        services.set_notifications(current_user, form.comments.data)

    return _profile_action(
        NotificationsForm(), action, _("Your mail settings have been saved."), "notifications_form"
    )


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str):
    # GET only shows a button: mail scanners that prefetch links must not switch mails off.
    form = ActionForm()
    try:
        read_token("unsubscribe", token, max_age=None)
        if form.validate_on_submit():
            services.unsubscribe(token)
            flash(_("You will no longer receive mails about new comments."), "success")
            return redirect(url_for("pages.home"))
    except (TokenError, UserError) as error:
        return _token_error(error)
    return render_template(
        "accounts/confirm_link.html",
        form=form,
        title=_("No more mails about new comments?"),
        button=_("Stop these mails"),
    ), form_status(form)


@bp.post("/email")
@login_required
def change_email():
    def action(form):
        services.request_email_change(current_user, form.current_password.data, form.new_email.data)

    return _profile_action(
        ChangeEmailForm(),
        action,
        _(
            "We have sent a confirmation link to the new address. Your address changes once you open it."
        ),
        "email_form",
    )


@bp.route("/email/confirm/<token>", methods=["GET", "POST"])
def confirm_email_change(token: str):
    form = ActionForm()
    try:
        read_token("email", token, current_app.config["VERIFY_LINK_MAX_AGE"])
        if form.validate_on_submit():
            services.confirm_email_change(token)
            flash(_("Your new e-mail address is confirmed."), "success")
            return redirect(
                url_for("accounts.profile" if current_user.is_authenticated else "accounts.login")
            )
    except (TokenError, UserError) as error:
        return _token_error(error)
    return render_template(
        "accounts/confirm_link.html",
        form=form,
        title=_("Confirm your new e-mail address"),
        button=_("Confirm my new e-mail address"),
    ), form_status(form)


@bp.get("/data.json")
@login_required
def download_data():
    body = json.dumps(services.export_user_data(current_user), ensure_ascii=False, indent=2)
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": 'attachment; filename="consult-my-data.json"'},
    )


@bp.route("/delete", methods=["GET", "POST"])
@login_required
def delete_account():
    form = DeleteAccountForm()
    if form.validate_on_submit():
        try:
            services.delete_account(current_user, form.current_password.data)
        except UserError as error:
            show_error(form, error)
        else:
            session.clear()
            logout_user()  # after clearing, so that it can delete the remember-me cookie
            flash(_("Your account has been deleted. Thank you for taking part."), "success")
            return redirect(url_for("pages.home"))
    return render_template("accounts/delete.html", form=form), form_status(form)


@bp.post("/language")
def set_language():
    """The switcher for logged-in users: their setting changes, not just a cookie."""
    form = LanguageForm()
    if not form.validate_on_submit():
        return render_error(400)
    if current_user.is_authenticated:
        services.set_language(current_user, form.locale.data)
    target = safe_next(request.form.get("next"), url_for("pages.home"))
    return set_language_cookie(redirect(target, code=303), form.locale.data)
