"""Taking an event's outcome into the challenge: a confirmation page, then one POST.

Registered on ``views.bp`` (see views.py).
"""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..errors import UserError
from ..extensions import db
from ..i18n import ngettext
from ..permissions import role_required
from . import intake
from .models import Event
from .views import bp


def _round_id(raw: str | None) -> int | None:
    """The chosen round from a form or a query: digits only, else none chosen."""
    raw = (raw or "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:
        abort(404)
    return int(raw)


def _event(event_id: int) -> Event:
    return db.session.get(Event, event_id) or abort(404)


@bp.get("/staff/events/<int:event_id>/import")
@role_required("staff")
def staff_import_confirm(event_id: int):
    """Says exactly what the import will do before staff confirm it."""
    event = _event(event_id)
    try:
        preview = intake.import_preview(event, _round_id(request.args.get("round")))
    except UserError as error:
        abort(error.status, description=error.message)
    return render_template("events/import_confirm.html", event=event, preview=preview)


@bp.post("/staff/events/<int:event_id>/import")
@role_required("staff")
def staff_import(event_id: int):
    event = _event(event_id)
    round_id = _round_id(request.form.get("round"))
    try:
        result = intake.import_event(event, current_user, round_id)
    except UserError as error:
        if error.status == 404:
            abort(404, description=error.message)
        preview = intake.import_preview(event, round_id)
        preview.refusal = error.message
        page = render_template("events/import_confirm.html", event=event, preview=preview)
        return page, error.status
    flash(
        ngettext(
            "The event is now part of the challenge: %(num)d idea and %(votes)d event votes.",
            "The event is now part of the challenge: %(num)d ideas and %(votes)d event votes.",
            result.ideas,
            votes=result.counted,
        ),
        "success",
    )
    return redirect(url_for("events.staff_import_confirm", event_id=event_id))
