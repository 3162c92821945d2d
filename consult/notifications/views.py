"""Following a challenge, the notification settings page and the unsubscribe links."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..challenges.models import Challenge
from ..errors import UserError, render_error
from ..extensions import csrf, db
from ..forms import ActionForm, form_status
from ..i18n import _
from ..permissions import login_required, role_required
from . import services
from .forms import SettingsForm
from .models import KINDS

bp = Blueprint("notifications", __name__)


def follow_panel(challenge: Challenge, known: tuple | None = None) -> dict:
    """For the challenge page: whether to offer Follow or Unfollow (verified citizens);
    ``known``: ``services.following_column``'s value, fetched with the page's other facts."""
    shown = (
        challenge.is_public() and current_user.is_authenticated and current_user.has_role("citizen")
    )
    return {
        "shown": shown,
        "following": shown and services.is_following(current_user, challenge, known),
    }


@bp.context_processor
def _labels():
    return {"kind_labels": services.KIND_LABELS}


# --- following a challenge ----------------------------------------------------------------


def _follow_action(challenge_id: int, action, message: str):
    challenge = db.session.get(Challenge, challenge_id)
    if challenge is None or not challenge.is_public():
        abort(404)
    if not ActionForm().validate_on_submit():
        return render_error(400)
    try:
        action(current_user, challenge)
    except UserError as error:
        return render_error(error.status, error.message)
    flash(message, "success")
    if request.form.get("back") == "settings":
        return redirect(url_for("notifications.settings", _anchor="followed"))
    return redirect(url_for("challenges.show", challenge_id=challenge.id, _anchor="follow"))


@bp.post("/challenges/<int:challenge_id>/follow")
@role_required("citizen")
def follow(challenge_id: int):
    return _follow_action(
        challenge_id,
        services.follow_challenge,
        _(
            "You follow this challenge. We will mail you when voting opens, a day before it "
            "closes and when the results are out."
        ),
    )


@bp.post("/challenges/<int:challenge_id>/unfollow")
@role_required("citizen")
def unfollow(challenge_id: int):
    return _follow_action(
        challenge_id,
        services.unfollow_challenge,
        _("You no longer follow this challenge. We will not mail you about it."),
    )


# --- settings -----------------------------------------------------------------------------


@bp.route("/account/mail-settings", methods=["GET", "POST"])
@login_required
def settings():
    form = SettingsForm() if request.method == "POST" else SettingsForm.for_user(current_user)
    if form.validate_on_submit():
        services.save_settings(
            current_user,
            {kind: getattr(form, kind).data for kind in KINDS},
            form.digest.data,
        )
        flash(_("Your mail settings have been saved."), "success")
        return redirect(url_for("notifications.settings"))
    return render_template(
        "notifications/settings.html",
        form=form,
        followed=services.followed_challenges(current_user),
        unfollow_form=ActionForm(formdata=None),
    ), form_status(form)


# --- unsubscribe links --------------------------------------------------------------------


@bp.route("/notifications/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058 one-click comes without a CSRF token; every other POST is checked
def unsubscribe(token: str):
    # GET only shows a button: mail scanners that prefetch links must not switch mails off.
    try:
        link = services.read_unsubscribe_link(token)
    except UserError as error:
        return render_error(error.status, error.message)
    one_click = request.method == "POST" and request.form.get("List-Unsubscribe") == "One-Click"
    form = ActionForm()
    if one_click or form.validate_on_submit():
        was_off = link.already_off
        services.unsubscribe(token)
        return render_template("notifications/unsubscribed.html", kind=link.kind, was_off=was_off)
    if request.method == "POST":
        # A POST that is neither one-click nor from our button (no valid CSRF token).
        return render_error(
            400, _("Your form has expired or was not sent from our site. Please try again.")
        )
    return render_template(
        "notifications/unsubscribe.html", form=form, kind=link.kind, already_off=link.already_off
    )
