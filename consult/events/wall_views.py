"""The projector wall: its page, its state, its push stream, and the staff's tally switch.

The page is drawn once; its script fetches ``state.json`` whenever the stream says
"changed" (or every 2 s when the stream fails). The stream is served by the ``live``
process type (see the Procfile and the README); under ``/live/`` so that the reverse
proxy can send it there, unbuffered. Staff and moderators only: the projector's laptop
is logged in as staff. There is no endpoint that puts content on a wall: what it shows
comes from the database, read for its own event.
"""

from flask import Response, abort, flash, jsonify, redirect, render_template, request
from flask_login import current_user
from wtforms import HiddenField

from ..extensions import db
from ..forms import FlaskForm
from ..i18n import _
from ..permissions import check_role, role_required
from ..security import safe_next
from . import live, wall
from .models import Event
from .views import bp

WALL_ROLES = ("staff", "moderator")


class TallyForm(FlaskForm):
    # The wanted state rather than "toggle": a form sent twice does not switch back.
    show = HiddenField()


def _wall_event(event_id: int) -> Event:
    """The event, for staff or moderators. Visitors who are not logged in get a 401 from
    the script's endpoints (a redirect to the login page would be read as a broken state)."""
    if not current_user.is_authenticated:
        abort(401)
    check_role(*WALL_ROLES)
    return db.get_or_404(Event, event_id)


@bp.app_template_global()
def event_wall_panel(event) -> dict:
    """``wall.wall_panel`` for templates that include ``events/_staff_wall.html``."""
    return wall.wall_panel(event)


@bp.get("/events/<int:event_id>/wall", endpoint="wall")
@role_required(*WALL_ROLES)
def wall_page(event_id: int):
    event = db.get_or_404(Event, event_id)
    return render_template("events/wall.html", event=event, state=wall.wall_state(event))


@bp.get("/events/<int:event_id>/wall/state.json")
def wall_state(event_id: int):
    event = _wall_event(event_id)
    response = jsonify(wall.wall_state(event))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/live/events/<int:event_id>/stream")
def wall_stream(event_id: int):
    event = _wall_event(event_id)
    stream = live.event_stream(event.id)
    # Let go of the database connection now: the stream may run for minutes.
    db.session.close()
    return Response(
        stream,
        mimetype="text/event-stream",
        headers={
            "Cache-Control": "no-store",
            # nginx: pass each message on at once, even where buffering is on.
            "X-Accel-Buffering": "no",
        },
    )


@bp.post("/staff/events/<int:event_id>/tally")
@role_required("staff")
def wall_tally(event_id: int):
    event = db.get_or_404(Event, event_id)
    form = TallyForm()
    if not form.validate_on_submit() or form.show.data not in ("0", "1"):
        abort(400, description=_("Please use the button on the event page."))
    shows = form.show.data == "1"
    wall.set_wall_tally(event, shows, current_user)
    if shows:
        flash(_("The wall now shows the running tally of a round."), "success")
    else:
        flash(_("The wall now hides the running tally; it shows a round's result."), "success")
    return redirect(safe_next(request.form.get("next"), f"/staff/events/{event.id}"))
