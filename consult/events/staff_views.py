"""Staff pages of live events: the list of a challenge's events, the event form, the
control page (open, close, the sections of rounds, wall and import), the QR poster, and
the QR code itself (also shown on the wall)."""

from flask import Response, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from ..caching import make_public
from ..challenges.models import Challenge
from ..errors import UserError
from ..extensions import db
from ..forms import ActionForm, form_status, show_error
from ..i18n import _, current_locale
from ..permissions import role_required, user_has_role
from ..results.reach import qr_svg
from . import intake, rounds, services, wall
from .forms import EventForm
from .models import Event
from .views import bp

# The QR of an open event's join address: the same for everyone, it changes only when
# the event's code does (never while open).
QR_MAX_AGE = 3600


@bp.context_processor
def _status_labels():
    # The event's state in words, for the staff pages and the phone page.
    return {"status_labels": services.STATUS_LABELS}


def _challenge(challenge_id: int) -> Challenge:
    return db.session.get(Challenge, challenge_id) or abort(404)


def _event(event_id: int) -> Event:
    return db.session.get(Event, event_id) or abort(404)


@bp.route("/staff/challenges/<int:challenge_id>/events", methods=["GET", "POST"])
@role_required("staff")
def staff_list(challenge_id: int):
    challenge = _challenge(challenge_id)
    form = EventForm()
    status = form_status(form)
    if form.validate_on_submit():
        try:
            event = services.create_event(current_user, challenge, form.service_data())
        except UserError as error:
            show_error(form, error)
            status = error.status
        else:
            flash(_("The event has been created. Open it when the room is ready."), "success")
            return redirect(url_for("events.staff_show", event_id=event.id))
    return render_template(
        "events/staff_list.html",
        challenge=challenge,
        events=services.list_events(challenge),
        form=form,
    ), status


@bp.get("/staff/events/<int:event_id>")
@role_required("staff")
def staff_show(event_id: int):
    event = _event(event_id)
    return render_template(
        "events/staff_show.html",
        event=event,
        join_url=services.join_url(event),
        participants=services.count_participants(event),
        rounds_panel=rounds.staff_rounds_panel(event),
        wall_panel=wall.wall_panel(event),
        import_panel=intake.import_panel(event),
    )


@bp.route("/staff/events/<int:event_id>/edit", methods=["GET", "POST"])
@role_required("staff")
def staff_edit(event_id: int):
    event = _event(event_id)
    form = EventForm(obj=event)
    status = form_status(form)
    if form.validate_on_submit():
        try:
            changed = services.update_event(current_user, event, form.service_data())
        except UserError as error:
            show_error(form, error)
            status = error.status
        else:
            flash(_("The event has been saved.") if changed else _("Nothing has changed."),
                  "success")  # fmt: skip
            return redirect(url_for("events.staff_show", event_id=event.id))
    return render_template("events/staff_form.html", event=event, form=form), status


def _state_change(event_id: int, action, done: str):
    event = _event(event_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        action(current_user, event)
    except UserError as error:
        flash(error.message, "error")
    else:
        flash(done, "success")
    return redirect(url_for("events.staff_show", event_id=event.id))


@bp.post("/staff/events/<int:event_id>/open")
@role_required("staff")
def staff_open(event_id: int):
    return _state_change(event_id, services.open_event, _("The event is open: people can join."))


@bp.post("/staff/events/<int:event_id>/close")
@role_required("staff")
def staff_close(event_id: int):
    return _state_change(
        event_id, services.close_event, _("The event is closed: nobody can join any more.")
    )


@bp.get("/staff/events/<int:event_id>/poster")
@role_required("staff")
def staff_poster(event_id: int):
    event = _event(event_id)
    url = services.join_url(event)
    return render_template(
        "events/poster.html",
        event=event,
        join_url=url,
        join_page=services.join_page_url(),
        qr=qr_svg(url),
        locale=current_locale(),
    )


@bp.get("/events/<int:event_id>/qr.svg")
def qr_code(event_id: int):
    event = _event(event_id)
    if not event.is_open and not user_has_role(current_user, "staff"):
        abort(404)
    response = Response(services.qr_image(event), mimetype="image/svg+xml")
    if not event.is_open:
        response.headers["Cache-Control"] = "private, no-store"
        return response
    return make_public(response, QR_MAX_AGE)
