"""Results: the press office's announcement workflow and the public results, exports and kit.

Public routes check ``visibility.require_public_results`` first; press routes the press role.
"""

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date, format_decimal
from flask_login import current_user

from ..caching import public_page
from ..challenges.models import Challenge
from ..errors import UserError, render_error
from ..extensions import db
from ..forms import ActionForm, form_status, show_error
from ..i18n import _, current_locale
from ..jury.freezing import snapshot_download
from ..page_cache import cached_page
from ..permissions import role_required
from ..two_factor.services import recently_authenticated
from ..two_factor.views import require_recent_auth
from . import services
from .exports import open_data_licence
from .forms import AnnouncementForm
from .visibility import require_public_results

bp = Blueprint("results", __name__)

# Results change only by a correction of the texts; a few minutes in a cache are fine.
PUBLIC_MAX_AGE = 300
# The snapshot never changes once frozen.
SNAPSHOT_MAX_AGE = 24 * 3600
PRESS_ROLES = services.PRESS_ROLES


def results_panel(challenge: Challenge, public: bool, known: tuple | None = None) -> dict:
    """For the challenge page: the results link when public, the mail button otherwise.

    ``public``: whether the results are public; ``known``: ``services.mail_state_columns``'
    values, fetched with the page's other facts.
    """
    can_ask = asked = False
    if not public and current_user.is_authenticated and current_user.has_role("citizen"):
        can_ask, asked = services.results_mail_state(current_user, challenge, known)
    return {
        "url": url_for("results.show", challenge_id=challenge.id) if public else None,
        "can_ask": can_ask,
        "asked": can_ask and asked,
    }


@bp.context_processor
def _helpers():
    return {
        "state_labels": services.STATE_LABELS,
        "local_date": lambda day: format_date(day, "medium"),
        "number": lambda value: format_decimal(value),
        "open_data_licence": open_data_licence,
    }


# --- public pages -------------------------------------------------------------------------


def _page(challenge: Challenge, announcement, preview: bool = False, status: int = 200):
    page = services.results_page(challenge, announcement, current_locale())
    return render_template(
        "results/show.html", page=page, challenge=challenge, announcement=announcement,
        preview=preview, state=services.announcement_state(announcement),
    ), status  # fmt: skip


@bp.get("/challenges/<int:challenge_id>/results")
@public_page(PUBLIC_MAX_AGE)
@cached_page(PUBLIC_MAX_AGE)
def show(challenge_id: int):
    challenge, announcement = require_public_results(challenge_id)
    return _page(challenge, announcement)


@bp.get("/challenges/<int:challenge_id>/results/snapshot.json")
@public_page(SNAPSHOT_MAX_AGE)
def snapshot(challenge_id: int):
    challenge, _announcement = require_public_results(challenge_id)
    stored = services.get_snapshot(challenge) or abort(404)
    return Response(
        snapshot_download(stored),
        mimetype="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="results-{challenge.id}-snapshot.json"'
        },
    )


# --- asking for the results by mail (verified citizens) -----------------------------------


def _back_to_challenge(challenge: Challenge):
    return redirect(url_for("challenges.show", challenge_id=challenge.id, _anchor="results-mail"))


@bp.post("/challenges/<int:challenge_id>/results/mail-me")
@role_required("citizen")
def subscribe(challenge_id: int):
    challenge = db.session.get(Challenge, challenge_id)
    if challenge is None or not challenge.is_public():
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        services.subscribe_to_results(current_user, challenge)
    except UserError as error:
        return render_error(error.status, error.message)
    flash(_("We will mail you the results as soon as they are published."), "success")
    return _back_to_challenge(challenge)


@bp.post("/challenges/<int:challenge_id>/results/mail-me/cancel")
@role_required("citizen")
def unsubscribe(challenge_id: int):
    challenge = db.session.get(Challenge, challenge_id)
    if challenge is None or not challenge.is_public():
        abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    services.unsubscribe_from_results(current_user, challenge)
    flash(_("You will not get a mail about these results."), "success")
    return _back_to_challenge(challenge)


# --- press pages --------------------------------------------------------------------------


@bp.get("/press")
@role_required(*PRESS_ROLES)
def press_list():
    return render_template("results/press_list.html", entries=services.press_overview())


def _press_challenge(challenge_id: int) -> Challenge:
    return db.session.get(Challenge, challenge_id) or abort(404)


def _render_edit(challenge: Challenge, form: AnnouncementForm, announcement, status: int = 200,
                 problem: str | None = None):  # fmt: skip
    state = services.announcement_state(announcement)
    if state in ("scheduled", "public"):
        form.lock_embargo()
    return render_template(
        "results/press_edit.html", challenge=challenge, form=form, announcement=announcement,
        state=state, rows=services.ranked_rows(challenge), problem=problem,
        withdraw_form=ActionForm(formdata=None),
    ), status  # fmt: skip


@bp.route("/press/challenges/<int:challenge_id>/announcement", methods=["GET", "POST"])
@role_required(*PRESS_ROLES)
def edit(challenge_id: int):
    challenge = _press_challenge(challenge_id)
    announcement = services.get_announcement(challenge)
    if not challenge.is_frozen:
        message = _(
            "The results of this challenge are not frozen yet, so they cannot be announced."
        )
        return render_error(409, message)
    if request.method == "GET":
        form = AnnouncementForm(obj=announcement, formdata=None)
        form.highlights.data = services.highlight_ids(announcement)
        return _render_edit(challenge, form, announcement)
    form = AnnouncementForm()
    if not form.validate_on_submit():
        return _render_edit(challenge, form, announcement, form_status(form))
    publish = request.form.get("action") == "publish"
    # Publishing goes out to the press and the public: password and code again. The text
    # is saved first, so that nothing typed is lost on the way to the confirmation.
    stale = publish and not recently_authenticated()
    action = services.publish_announcement if publish and not stale else services.save_announcement
    try:
        action(current_user, challenge, form.service_data())
    except UserError as error:
        if error.field is None:
            return _render_edit(challenge, form, announcement, error.status, error.message)
        show_error(form, error)
        return _render_edit(challenge, form, announcement, error.status)
    if stale:
        require_recent_auth(url_for("results.edit", challenge_id=challenge.id))
    if publish:
        flash(_("The announcement is published. It becomes public at the embargo time."), "success")
    else:
        flash(_("The announcement has been saved."), "success")
    return redirect(url_for("results.edit", challenge_id=challenge.id))


@bp.get("/press/challenges/<int:challenge_id>/announcement/preview")
@role_required(*PRESS_ROLES)
def preview(challenge_id: int):
    challenge = _press_challenge(challenge_id)
    announcement = services.get_announcement(challenge)
    if announcement is None or not challenge.is_frozen:
        abort(404)
    return _page(challenge, announcement, preview=True)


@bp.post("/press/challenges/<int:challenge_id>/announcement/withdraw")
@role_required(*PRESS_ROLES)
def withdraw(challenge_id: int):
    challenge = _press_challenge(challenge_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        services.withdraw_announcement(current_user, challenge)
    except UserError as error:
        return render_error(error.status, error.message)
    flash(_("The announcement has been withdrawn. It is a draft again."), "success")
    return redirect(url_for("results.edit", challenge_id=challenge.id))


# These register their routes on bp: the open data downloads (export_views), the charts and
# the press kit (kit_views), the feed, sitemap, poster and link previews (reach_views).
from . import export_views, kit_views, reach_views  # noqa: E402, F401
