"""Voting rounds: staff start and stop them, phones vote in them (see views.py).

Plain form POSTs that work without JavaScript (back to the page with a message); with
``Accept: application/json`` the vote answers JSON, as the challenge's votes do.
"""

from flask import abort, flash, jsonify, redirect, request, url_for
from flask_babel import force_locale
from flask_login import current_user

from ..errors import UserError, render_error
from ..extensions import db
from ..i18n import _
from ..permissions import role_required
from ..ratelimit import client_address
from . import rounds
from .models import Event
from .participants import current_participant
from .round_forms import StartRoundForm
from .views import bp


def _event(event_id: int) -> Event:
    return db.session.get(Event, event_id) or abort(404)


def _round(event: Event, round_id: int):
    return rounds.round_of(event, round_id) or abort(404)


def _staff_page(event_id: int) -> str:
    return url_for("events.staff_show", event_id=event_id)


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


# --- staff ----------------------------------------------------------------------------------


@bp.post("/staff/events/<int:event_id>/rounds")
@role_required("staff")
def start_round(event_id: int):
    event = _event(event_id)
    form = StartRoundForm()
    if not form.validate():
        messages = [m for errors in form.errors.values() for m in errors]
        abort(400, description=" ".join(str(m) for m in messages))
    try:
        started = rounds.start_round(
            current_user, event, form.minutes.data, form.budget.data, form.scope.data
        )
    except UserError as error:
        abort(error.status, description=error.message)
    flash(_("Round %(number)d has started.", number=started.number), "success")
    return redirect(_staff_page(event_id))


@bp.post("/staff/events/<int:event_id>/rounds/<int:round_id>/stop")
@role_required("staff")
def stop_round(event_id: int, round_id: int):
    # The CSRF token was already checked for every POST (consult.extensions.csrf).
    event = _event(event_id)
    voting_round = _round(event, round_id)
    number = voting_round.number
    try:
        rounds.stop_round(current_user, event, voting_round)
    except UserError as error:
        abort(error.status, description=error.message)
    flash(_("Round %(number)d has been stopped.", number=number), "success")
    return redirect(_staff_page(event_id))


# --- phones ---------------------------------------------------------------------------------


def _choice() -> tuple[str, int | None]:
    """(action, idea id) of a dot. The phone page's round is one form whose buttons send
    ``vote=cast:<id>`` or ``vote=withdraw:<id>`` (one form token for the whole list, not
    one per idea: a hall's round may list hundreds of ideas); scripts and older pages send
    ``action`` and ``idea``."""
    buttons = request.form.getlist("vote")
    if buttons:
        action, _sep, idea = (buttons[0] if len(buttons) == 1 else "").partition(":")
        return action, _idea_id([idea])
    return request.form.get("action", "cast"), _idea_id(request.form.getlist("idea"))


def _idea_id(values: list[str]) -> int | None:
    """Exactly one idea id, a plain positive number that fits a database integer."""
    value = values[0] if len(values) == 1 else ""
    # isdigit() accepts other scripts' digits ("١"), which int() would read: ASCII only.
    # At most 10 digits: int() of thousands of digits is slow, and refused past 4,300.
    if not (value.isascii() and value.isdigit() and len(value) <= 10):
        return None
    if not 0 < int(value) <= 2147483647:
        return None
    return int(value)


def _refuse(status: int, message: str):
    if _wants_json():
        return jsonify(message=message), status
    return render_error(status, message)


@bp.post("/events/<int:event_id>/rounds/<int:round_id>/votes")
def round_vote(event_id: int, round_id: int):
    event = _event(event_id)
    voting_round = _round(event, round_id)
    participant = current_participant(event)
    if participant is None:
        return _refuse(403, _("Please join this event first: enter its code on the join page."))
    # Answers in the language the participant chose when joining.
    with force_locale(participant.language):
        action, idea_id = _choice()
        if action not in ("cast", "withdraw") or idea_id is None:
            return _refuse(400, _("Please choose exactly one idea."))
        rounds.check_abuse_limits(participant, client_address())
        try:
            if action == "cast":
                state = rounds.cast_round_vote(participant, event, voting_round, idea_id)
                message = _("Your dot has been counted.")
            else:
                state = rounds.withdraw_round_vote(participant, event, voting_round, idea_id)
                message = _("Your dot has been taken back.")
        except UserError as error:
            return _refuse(error.status, error.message)
        dots = rounds.dots_message(state)
        if _wants_json():
            return jsonify(
                voted=action == "cast",
                message=message,
                dots=dots,
                used=state.used,
                remaining=state.remaining,
            )
        # Said at the tapped button, as the challenge's votes do ("vote:" categories are
        # not shown at the top of the page): on a phone the button is far below the top.
        flash(f"{message} {dots}", f"vote:done:{idea_id}")
    return redirect(url_for("events.room", event_id=event_id) + f"#round-idea-{idea_id}")
