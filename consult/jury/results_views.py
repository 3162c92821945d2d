"""Ranking, freezing and the snapshot, for staff (registered on ``views.bp``)."""

from babel.numbers import get_decimal_symbol
from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..challenges.models import Challenge
from ..errors import UserError
from ..extensions import db
from ..forms import ActionForm
from ..i18n import _, current_locale
from ..permissions import role_required
from ..two_factor.views import require_recent_auth
from . import freezing
from .views import bp


@bp.app_template_filter("three_decimals")
def three_decimals_filter(shown: str) -> str:
    """A score already rounded to three decimals ("0.750"), with the locale's decimal sign."""
    return shown.replace(".", get_decimal_symbol(current_locale()))


def _render(challenge: Challenge, status: int = 200, error: str | None = None, field=None):
    snapshot = freezing.get_snapshot(challenge)
    if snapshot is not None:
        view = freezing.frozen_ranking(snapshot)
    else:
        view = freezing.preview_ranking(challenge)
    return render_template(
        "jury/results.html",
        challenge=challenge,
        view=view,
        snapshot=snapshot,
        freezable=challenge.phase() in freezing.FREEZABLE_PHASES,
        error=error,
        error_field=field,
    ), status


@bp.get("/staff/challenges/<int:challenge_id>/results")
@role_required("staff")
def results(challenge_id: int):
    challenge = db.session.get(Challenge, challenge_id) or abort(404)
    return _render(challenge)


@bp.post("/staff/challenges/<int:challenge_id>/results/freeze")
@role_required("staff")
def freeze(challenge_id: int):
    challenge = db.session.get(Challenge, challenge_id) or abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    if request.form.get("confirm") != "yes":
        message = _("Please confirm that you want to freeze the results for good.")
        return _render(challenge, 400, message, "confirm")
    # Freezing cannot be undone: password and code again, not just an open session.
    require_recent_auth(url_for("jury.results", challenge_id=challenge_id))
    try:
        snapshot = freezing.freeze_results(current_user, challenge)
    except UserError as error:
        return _render(challenge, error.status, error.message)
    flash(_("The results are frozen (SHA-256 %(hash)s).", hash=snapshot.sha256), "success")
    return redirect(url_for("jury.results", challenge_id=challenge_id))


@bp.get("/staff/challenges/<int:challenge_id>/results/snapshot.json")
@role_required("staff")
def snapshot(challenge_id: int):
    challenge = db.session.get(Challenge, challenge_id) or abort(404)
    stored = freezing.get_snapshot(challenge) or abort(404)
    return Response(
        freezing.snapshot_download(stored),
        mimetype="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="results-{challenge.id}-snapshot.json"'
        },
    )
