"""The moderators' queue: pending ideas and reported content, and the decisions on them."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from ..errors import UserError
from ..extensions import db
from ..forms import ActionForm, show_error
from ..i18n import _, ngettext
from ..ideas.models import Comment, Idea, Report
from ..ideas.services import REPORT_REASONS
from ..permissions import role_required
from . import services
from .forms import HideForm, ResolveForm, scoped

bp = Blueprint("moderation", __name__, url_prefix="/moderation")

MODERATORS = ("moderator", "staff")


@bp.app_template_filter("hide_reason")
def hide_reason_filter(code: str) -> str:
    """``{{ idea.moderation_reason|hide_reason }}``: for the queue, idea pages and mails."""
    return services.hide_reason_text(code)


def _render_queue(failed: dict | None = None, status: int = 200):
    """The queue page; ``failed`` maps an item's key to its submitted form with errors."""
    failed = failed or {}
    queue = services.moderation_queue()
    forms = {}
    keys = [f"idea-{idea.id}" for _challenge, ideas in queue.pending for idea in ideas]
    keys += [item.key for item in queue.reported]
    for key in keys:
        # formdata=None: the other forms must not pick up what was posted to one of them.
        forms[key] = failed.get(key) or scoped(HideForm(formdata=None), key)
    return render_template(
        "moderation/queue.html",
        queue=queue,
        forms=forms,
        failed=failed,
        report_reasons=REPORT_REASONS,
    ), status


def _refused(error: UserError, key: str, form):
    """Field errors go back to the form on the page; conflicts are announced at the top."""
    if error.field:
        show_error(form, error)
        return _render_queue({key: form}, error.status)
    flash(error.message, "error")
    return _render_queue(status=error.status)


@bp.get("/")
@role_required(*MODERATORS)
def queue():
    return _render_queue()


@bp.post("/ideas/<int:idea_id>/publish")
@role_required(*MODERATORS)
def publish_idea(idea_id: int):
    idea = db.session.get(Idea, idea_id) or abort(404)
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        services.publish_idea(current_user, idea)
    except UserError as error:
        return _refused(error, f"idea-{idea_id}", form)
    flash(_("The idea is published, and its author has been told."), "success")
    return redirect(url_for("moderation.queue"))


@bp.post("/ideas/<int:idea_id>/hide")
@role_required(*MODERATORS)
def hide_idea(idea_id: int):
    idea = db.session.get(Idea, idea_id) or abort(404)
    return _hide(
        idea, f"idea-{idea_id}", services.hide_idea,
        _("The idea is hidden, and its author has been told why."),
    )  # fmt: skip


@bp.post("/comments/<int:comment_id>/hide")
@role_required(*MODERATORS)
def hide_comment(comment_id: int):
    comment = db.session.get(Comment, comment_id) or abort(404)
    return _hide(
        comment, f"comment-{comment_id}", services.hide_comment,
        _("The comment is hidden, and its author has been told why."),
    )  # fmt: skip


def _hide(target, key: str, hide, success: str):
    """Validate the hide form of one queue item and run ``hide`` (idea or comment) on it."""
    form = scoped(HideForm(), key)
    if not form.validate_on_submit():
        return _render_queue({key: form}, 400)
    try:
        released = hide(current_user, target, form.reason.data, form.note.data)
    except UserError as error:
        return _refused(error, key, form)
    if released:  # the votes of an idea hidden while voting runs
        success += " " + ngettext(
            "%(num)d vote went back to its voter, who is told by e-mail.",
            "%(num)d votes went back to their voters, who are told by e-mail.",
            released,
        )
    flash(success, "success")
    return redirect(url_for("moderation.queue"))


@bp.post("/reports/<int:report_id>/resolve")
@role_required(*MODERATORS)
def resolve_report(report_id: int):
    report = db.session.get(Report, report_id) or abort(404)
    form = ResolveForm()
    if not form.validate_on_submit():
        # The outcome comes from our own buttons; anything else is not from our page.
        abort(400)
    try:
        closed = services.resolve_report(current_user, report, form.outcome.data)
    except UserError as error:
        return _refused(error, f"report-{report_id}", form)
    if closed:
        flash(_("The report is closed."), "success")
    else:
        flash(_("This report had already been closed."), "info")
    return redirect(url_for("moderation.queue"))
