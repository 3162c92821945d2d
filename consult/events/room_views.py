"""Joining by code and the phone page: type the code (or scan the QR), pick a name and a
language, tick the privacy note, and you are in. Leaving forgets the person.

These pages work without JavaScript (plain forms) and are personal: never cached.
"""

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from ..errors import FieldErrors, UserError
from ..extensions import db
from ..forms import ActionForm, form_status, show_error
from ..i18n import (
    LANG_COOKIE,
    SUPPORTED_LOCALES,
    _,
    current_locale,
    force_locale,
    set_language_cookie,
)
from ..permissions import user_has_role
from ..ratelimit import client_address
from . import rounds, services
from .forms import CodeForm, JoinForm
from .models import Event
from .participants import (
    current_participant,
    forget_participant_cookie,
    require_participant,
    set_participant_cookie,
)
from .room_ideas import room_ideas_panel
from .views import bp


def _event(event_id: int) -> Event:
    return db.session.get(Event, event_id) or abort(404)


def _personal(response, status: int = 200):
    """A phone page depends on the event cookie: never kept by any cache."""
    response = make_response(response, status)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _code_page(form: CodeForm, status: int = 200, message: str | None = None):
    return _personal(render_template("events/join_code.html", form=form, message=message), status)


@bp.route("/join", methods=["GET", "POST"])
def join_page():
    form = CodeForm()
    if not form.validate_on_submit():
        return _code_page(form, form_status(form))
    try:
        event = services.find_event_by_code(form.code.data, client_address())
    except UserError as error:
        show_error(form, UserError(error.message, field="code"))
        return _code_page(form, error.status)
    return redirect(url_for("events.join", event_id=event.id), 303)


@bp.get("/j/<code>")
def join_by_link(code: str):
    # The QR's target: the code is in the address, the person only picks a name.
    try:
        event = services.find_event_by_code(code, client_address())
    except UserError as error:
        form = CodeForm(formdata=None, data={"code": code[:20]})
        return _code_page(form, error.status, error.message)
    return redirect(url_for("events.join", event_id=event.id), 303)


def _join_form_defaults() -> dict:
    name = current_user.pseudonym if user_has_role(current_user, "citizen") else ""
    return {"display_name": name or "", "language": current_locale()}


@bp.route("/events/<int:event_id>/join", methods=["GET", "POST"])
def join(event_id: int):
    event = _event(event_id)
    if current_participant(event) is not None:
        return redirect(url_for("events.room", event_id=event.id), 303)
    form = JoinForm() if request.method == "POST" else JoinForm(data=_join_form_defaults())
    status = form_status(form)
    if not event.is_open:
        message = services.not_open_message(event)
        return _personal(render_template("events/join.html", event=event, form=form,
                                         closed=message), 409)  # fmt: skip
    if form.validate_on_submit():
        try:
            participant, token = services.join_event(
                event, current_user, form.display_name.data, form.language.data,
                form.privacy.data, client_address(),
            )  # fmt: skip
        except FieldErrors as errors:
            for field, message in errors.errors.items():
                show_error(form, UserError(message, field=field))
            status = errors.status
        except UserError as error:
            show_error(form, error)
            status = error.status
        else:
            with force_locale(participant.language):
                flash(_("Welcome, %(name)s! You are in.", name=participant.display_name),
                      "success")  # fmt: skip
            response = redirect(url_for("events.room", event_id=event.id), 303)
            if token:
                set_participant_cookie(response, event, token)
            # From here on the pages speak the language chosen (for a citizen the account's
            # setting followed the choice in join_event).
            set_language_cookie(response, participant.language)
            return response
    return _personal(render_template("events/join.html", event=event, form=form), status)


@bp.get("/events/<int:event_id>/")
def room(event_id: int):
    event = _event(event_id)
    participant = current_participant(event)
    if participant is None:
        # A forged token, another event's cookie or none at all: not in this room.
        return redirect(url_for("events.join", event_id=event.id), 303)
    with force_locale(_room_locale(participant)):
        page = render_template(
            "events/room.html",
            event=event,
            participant=participant,
            leave_form=ActionForm(),
            ideas_panel=room_ideas_panel(event, participant),
            round_panel=rounds.round_panel(event, participant),
        )
    return _personal(page)


def _room_locale(participant) -> str:
    """The language of the phone page: the person's current choice (account setting or
    language cookie, which joining set to the language picked); without either (a phone
    whose language cookie is gone), the language picked when joining."""
    if current_user.is_authenticated or request.cookies.get(LANG_COOKIE) in SUPPORTED_LOCALES:
        return current_locale()
    return participant.language


@bp.post("/events/<int:event_id>/leave")
def leave(event_id: int):
    event = _event(event_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    participant = require_participant(event)
    locale = _room_locale(participant)
    services.leave_event(participant)
    with force_locale(locale):
        response = _personal(render_template("events/left.html", event=event))
    forget_participant_cookie(response, event)
    return response
