"""Staff pages that merge a duplicate idea into another (the public redirect is in ideas)."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..challenges.models import Challenge
from ..errors import UserError
from ..extensions import db
from ..forms import form_status, show_error
from ..i18n import _
from ..ideas.services import get_challenge_idea
from ..permissions import role_required
from . import services
from .forms import MergeForm

bp = Blueprint("merging", __name__)


def _challenge(challenge_id: int) -> Challenge:
    return db.session.get(Challenge, challenge_id) or abort(404)


@bp.get("/staff/challenges/<int:challenge_id>/merge")
@role_required("staff")
def choose(challenge_id: int):
    challenge = _challenge(challenge_id)
    return render_template(
        "merging/choose.html", challenge=challenge, ideas=services.mergeable_ideas(challenge)
    )


@bp.route("/staff/challenges/<int:challenge_id>/ideas/<int:idea_id>/merge", methods=["GET", "POST"])
@role_required("staff")
def merge(challenge_id: int, idea_id: int):
    challenge = _challenge(challenge_id)
    source = get_challenge_idea(challenge, idea_id) or abort(404)
    form = MergeForm(services.merge_targets(source))
    problem = services.source_problem(source)
    going_back = "back" in request.form  # from the confirmation page, to change the form
    status = problem.status if problem else 200 if going_back else form_status(form)
    if form.validate_on_submit() and not going_back:
        values = form.values()
        try:
            if request.form.get("confirm") == "1":
                result = services.merge_idea(
                    current_user, source, values["target"], values["department"],
                    values["note_de"], values["note_en"],
                )  # fmt: skip
                flash(_("The ideas are merged. This is the idea that stays."), "success")
                return redirect(url_for("ideas.show", idea_id=result.target.id))
            target = services.check_merge(source, values["target"])
            services.clean_answer(values["department"], values["note_de"], values["note_en"])
        except services.AlreadyMerged as error:
            flash(error.message, "info")
            return redirect(url_for("ideas.show", idea_id=error.target_id))
        except UserError as error:
            if error.field is None:
                problem = error
            else:
                show_error(form, error)
            status = error.status
        else:
            return render_template(
                "merging/confirm.html", challenge=challenge, source=source, target=target,
                form=form, preview=services.preview_merge(source, target),
            )  # fmt: skip
    return render_template(
        "merging/merge.html", challenge=challenge, source=source, form=form, problem=problem
    ), status
