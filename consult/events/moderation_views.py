"""Ideas from the room: posting from a phone, and the room's live moderation queue.

Registered on ``views.bp``. Phones post plain forms (no JavaScript needed); the queue
works on a moderator's phone as well as a laptop.
"""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.routing import BuildError

from ..errors import FieldErrors, UserError
from ..extensions import db
from ..forms import ActionForm, show_error
from ..i18n import _, force_locale
from ..moderation.forms import HideForm, scoped
from ..permissions import check_role
from . import room_ideas
from .models import Event
from .participants import current_participant, require_participant
from .room_idea_forms import MergeForm, RoomIdeaForm
from .views import bp

MODERATORS = ("moderator", "staff")


def _event(event_id: int) -> Event:
    if not 0 < event_id < 2**31:
        abort(404)
    return db.session.get(Event, event_id) or abort(404)


def _room_url(event: Event) -> str:
    """The phone page's ideas section."""
    try:
        return url_for("events.room", event_id=event.id) + "#ideas"
    except BuildError:  # the phone page is registered by room_views; the same address
        return f"{request.script_root}/events/{event.id}/#ideas"


def _require_moderator(event: Event) -> None:
    """Moderators and staff only. A participant of the room gets a plain 403 (not the
    login page): the queue is not theirs, whoever they are."""
    if not current_user.is_authenticated and current_participant(event) is not None:
        abort(403)
    check_role(*MODERATORS)


# --- posting from a phone ------------------------------------------------------------------


def _render_room_ideas(event, participant, form=None, status: int = 200):
    panel = room_ideas.room_ideas_panel(event, participant, form=form)
    return render_template("events/room_ideas.html", event=event, ideas_panel=panel), status


@bp.get("/events/<int:event_id>/ideas")
def room_ideas_page(event_id: int):
    """The ideas section on its own page: where a refused post is shown again."""
    event = _event(event_id)
    participant = require_participant(event)
    with force_locale(participant.language):
        return _render_room_ideas(event, participant)


@bp.post("/events/<int:event_id>/ideas")
def post_room_idea(event_id: int):
    event = _event(event_id)
    participant = require_participant(event)
    with force_locale(participant.language):
        form = RoomIdeaForm(event)
        if not form.validate_on_submit():
            return _render_room_ideas(event, participant, form, 400)
        try:
            idea = room_ideas.post_room_idea(event, participant, form.idea_data())
        except FieldErrors as error:
            show_error(form, error)
            return _render_room_ideas(event, participant, form, 400)
        except UserError as error:
            abort(error.status, description=error.message)
        if idea.status == "room":
            flash(_("Thank you! Your idea is on the wall."), "success")
        else:
            flash(_("Thank you! Your idea is waiting for the moderator."), "success")
    return redirect(_room_url(event), code=303)


# --- the moderation queue -------------------------------------------------------------------


def _render_queue(event: Event, failed: dict | None = None, status: int = 200):
    """The queue; ``failed`` maps "hide-<id>" or "merge-<id>" to a refused form."""
    failed = failed or {}
    queue = room_ideas.room_queue(event)
    forms = {}
    for idea in [*queue.queued, *queue.approved]:
        key = f"idea-{idea.id}"
        # formdata=None: the other forms must not pick up what was posted to one of them.
        forms[f"hide-{idea.id}"] = failed.get(f"hide-{idea.id}") or scoped(
            HideForm(formdata=None), f"hide-{key}"
        )
        targets = [t for t in queue.targets if t[0] != idea.id]
        forms[f"merge-{idea.id}"] = failed.get(f"merge-{idea.id}") or scoped(
            MergeForm(targets, formdata=None), f"merge-{key}"
        )
    return render_template(
        "events/moderation.html", event=event, queue=queue, forms=forms, failed=failed
    ), status


def _refused(event: Event, error: UserError, key: str, form):
    """Field errors go back to the form on the page; conflicts are announced at the top."""
    if error.field:
        show_error(form, error)
        return _render_queue(event, {key: form}, error.status)
    flash(error.message, "error")
    return _render_queue(event, status=error.status)


def _queue_url(event: Event) -> str:
    return url_for("events.moderation", event_id=event.id) + "#queue"


def _seen() -> str:
    """The idea's state when the moderator's page was drawn (a hidden field of the form)."""
    seen = request.form.get("seen", "queued")
    return seen if seen in ("queued", "room") else "queued"


def _event_idea(event: Event, idea_id: int):
    return room_ideas.get_event_idea(event, idea_id) or abort(404)


@bp.get("/events/<int:event_id>/moderation")
def moderation(event_id: int):
    event = _event(event_id)
    _require_moderator(event)
    return _render_queue(event)


@bp.post("/events/<int:event_id>/moderation/<int:idea_id>/approve")
def moderation_approve(event_id: int, idea_id: int):
    event = _event(event_id)
    _require_moderator(event)
    idea = _event_idea(event, idea_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        room_ideas.approve_room_idea(current_user, event, idea)
    except UserError as error:
        return _refused(event, error, f"hide-{idea_id}", ActionForm())
    flash(_("The idea is approved and on the wall."), "success")
    return redirect(_queue_url(event), code=303)


@bp.post("/events/<int:event_id>/moderation/<int:idea_id>/hide")
def moderation_hide(event_id: int, idea_id: int):
    event = _event(event_id)
    _require_moderator(event)
    idea = _event_idea(event, idea_id)
    key = f"hide-{idea_id}"
    form = scoped(HideForm(), f"hide-idea-{idea_id}")
    if not form.validate_on_submit():
        return _render_queue(event, {key: form}, 400)
    try:
        room_ideas.hide_room_idea(
            current_user, event, idea, form.reason.data, form.note.data, seen=_seen()
        )
    except UserError as error:
        return _refused(event, error, key, form)
    flash(_("The idea is hidden; its author sees the reason on their phone."), "success")
    return redirect(_queue_url(event), code=303)


@bp.post("/events/<int:event_id>/moderation/<int:idea_id>/merge")
def moderation_merge(event_id: int, idea_id: int):
    event = _event(event_id)
    _require_moderator(event)
    idea = _event_idea(event, idea_id)
    key = f"merge-{idea_id}"
    targets = [t for t in room_ideas.merge_targets(event) if t[0] != idea_id]
    form = scoped(MergeForm(targets), f"merge-idea-{idea_id}")
    if not form.validate_on_submit():
        return _render_queue(event, {key: form}, 400)
    try:
        target = room_ideas.merge_room_idea(
            current_user, event, idea, form.target.data, seen=_seen()
        )
    except UserError as error:
        return _refused(event, error, key, form)
    flash(_("The idea is merged into “%(title)s”.", title=target.title), "success")
    return redirect(_queue_url(event), code=303)
