"""Official answers: staff answer ideas; the idea page and the idea list show the state."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from ..challenges.models import Challenge
from ..errors import UserError, render_error
from ..extensions import db
from ..forms import form_status, show_error
from ..i18n import _l
from ..permissions import role_required
from . import services
from .forms import AnswerForm
from .models import STAFF_STATES
from .states import LIST_FILTERS

bp = Blueprint("answers", __name__)


@bp.app_context_processor
def _answer_helpers():
    # For the idea page's answer box and the idea list's state badges and filter.
    return {
        "official_answer": services.answer_view,
        "answer_state_labels": services.STATE_LABELS,
        "answer_filters": LIST_FILTERS,
    }


def _challenge(challenge_id: int) -> Challenge:
    return db.session.get(Challenge, challenge_id) or abort(404)


@bp.get("/staff/challenges/<int:challenge_id>/answers")
@role_required("staff")
def staff_list(challenge_id: int):
    challenge = _challenge(challenge_id)
    answered, total = services.answer_counts(challenge.id)
    return render_template(
        "answers/staff_list.html",
        challenge=challenge,
        ideas=services.unanswered_ideas(challenge.id),
        answered=answered,
        total=total,
    )


_SAVED = {
    "new": _l("The answer has been saved. The author, followers and voters are told by mail."),
    "state": _l("The answer has been saved. Everyone concerned is told about the new state."),
    "text": _l("The answer has been corrected. Nobody is mailed for a correction."),
    "unchanged": _l("Nothing has changed."),
}


@bp.route(
    "/staff/challenges/<int:challenge_id>/ideas/<int:idea_id>/answer", methods=["GET", "POST"]
)
@role_required("staff")
def edit(challenge_id: int, idea_id: int):
    challenge = _challenge(challenge_id)
    try:
        start = services.answer_form(current_user, challenge, idea_id)
    except UserError as error:
        return render_error(error.status, error.message)
    form = AnswerForm(obj=start.answer)
    if not form.is_submitted():
        form.department.data = start.department
        if form.state.data not in STAFF_STATES:
            form.state.data = "under_review"
    status = form_status(form)
    if form.validate_on_submit():
        try:
            outcome = services.answer_idea(current_user, challenge, idea_id, form.service_data())
        except UserError as error:
            if error.field is None:
                return render_error(error.status, error.message)
            show_error(form, error)
            status = error.status
        else:
            flash(str(_SAVED[outcome]), "success")
            return redirect(url_for("answers.staff_list", challenge_id=challenge.id))
    return render_template("answers/edit.html", challenge=challenge, start=start, form=form), status
