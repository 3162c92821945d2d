"""Scoring pages for jurors and the progress page for staff (registered on ``views.bp``)."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..challenges.models import Challenge
from ..challenges.timeline import format_when
from ..errors import UserError
from ..extensions import db
from ..i18n import _, current_locale, ngettext
from ..media.services import get_image
from ..permissions import role_required
from . import scoring
from .ranking import three_decimals
from .views import bp


def _challenge(challenge_id: int) -> Challenge:
    return db.session.get(Challenge, challenge_id) or abort(404)


def _refuse(error: UserError):
    abort(error.status, description=error.message)


@bp.get("/jury")
@role_required("juror")
def my_challenges():
    return render_template(
        "jury/scoring_list.html",
        lines=scoring.list_jury_work(current_user),
        format_when=format_when,
    )


@bp.get("/jury/challenges/<int:challenge_id>")
@role_required("juror")
def overview(challenge_id: int):
    challenge = _challenge(challenge_id)
    try:
        work = scoring.juror_overview(current_user, challenge)
    except UserError as error:
        _refuse(error)
    return render_template(
        "jury/scoring_overview.html", work=work, challenge=challenge, format_when=format_when
    )


def _render_score(challenge: Challenge, item, status=200, errors=None, entered=None, note=None):
    return render_template(
        "jury/scoring_idea.html",
        challenge=challenge,
        item=item,
        votes=scoring.shown_votes(challenge, item.idea),
        deadline=scoring.jury_deadline(challenge),
        format_when=format_when,
        criteria=scoring.criteria_of(challenge),
        seat=scoring.seat_of(current_user, challenge),
        image=get_image(item.idea.image_id),
        errors=errors or {},
        entered=entered,
        note=item.review.note if note is None else note,
        score_field=scoring.score_field,
    ), status


def _entered_scores() -> dict[str, str]:
    """criterion id (as sent) -> raw value; a field sent twice is a value nobody can mean."""
    raw = {}
    for key in request.form:
        if key.startswith("score-"):
            values = request.form.getlist(key)
            raw[key.removeprefix("score-")[:12]] = values[0][:12] if len(values) == 1 else "?"
    return raw


@bp.route("/jury/challenges/<int:challenge_id>/ideas/<int:idea_id>", methods=["GET", "POST"])
@role_required("juror")
def score(challenge_id: int, idea_id: int):
    challenge = _challenge(challenge_id)
    try:
        item = scoring.juror_review(current_user, challenge, idea_id)
    except UserError as error:
        _refuse(error)
    if request.method == "GET":
        return _render_score(challenge, item)
    raw = _entered_scores()
    note = request.form.get("note", "")
    try:
        scoring.save_scores(current_user, challenge, idea_id, raw, note, current_locale())
    except scoring.ScoreErrors as error:
        return _render_score(challenge, item, 400, error.errors, raw, note[: scoring.NOTE_MAX * 2])
    except UserError as error:
        _refuse(error)
    flash(_("Your scores for “%(title)s” have been saved.", title=item.idea.title), "success")
    return _go_on(challenge, idea_id)


def _go_on(challenge: Challenge, idea_id: int):
    """After saving, on to the next idea that still needs scoring; with none left, to the
    overview, where the juror submits."""
    following = scoring.next_open_idea(current_user, challenge, idea_id)
    if following is None:
        flash(
            _("Every idea is scored or declared a conflict: please check and submit your scores."),
            "success",
        )
        return redirect(url_for("jury.overview", challenge_id=challenge.id, _anchor="submit"))
    flash(_("Next idea: “%(title)s”.", title=following.title), "success")
    return redirect(url_for("jury.score", challenge_id=challenge.id, idea_id=following.id))


@bp.post("/jury/challenges/<int:challenge_id>/ideas/<int:idea_id>/conflict")
@role_required("juror")
def declare_conflict(challenge_id: int, idea_id: int):
    challenge = _challenge(challenge_id)
    try:
        scoring.declare_conflict(current_user, challenge, idea_id)
    except UserError as error:
        _refuse(error)
    flash(_("You have declared a conflict of interest for this idea."), "success")
    return _go_on(challenge, idea_id)


@bp.post("/jury/challenges/<int:challenge_id>/ideas/<int:idea_id>/conflict/withdraw")
@role_required("juror")
def withdraw_conflict(challenge_id: int, idea_id: int):
    challenge = _challenge(challenge_id)
    try:
        scoring.withdraw_conflict(current_user, challenge, idea_id)
    except UserError as error:
        _refuse(error)
    flash(_("Your declaration has been withdrawn; you can score this idea now."), "success")
    return redirect(url_for("jury.score", challenge_id=challenge.id, idea_id=idea_id))


@bp.post("/jury/challenges/<int:challenge_id>/submit")
@role_required("juror")
def submit(challenge_id: int):
    challenge = _challenge(challenge_id)
    try:
        scoring.submit_scores(current_user, challenge)
    except UserError as error:
        _refuse(error)
    flash(_("Thank you: your scores have been submitted."), "success")
    return redirect(url_for("jury.overview", challenge_id=challenge.id))


@bp.get("/staff/challenges/<int:challenge_id>/jury/progress")
@role_required("staff")
def progress(challenge_id: int):
    challenge = _challenge(challenge_id)
    return render_template(
        "jury/progress.html",
        challenge=challenge,
        progress=scoring.jury_progress(challenge),
        three_decimals=three_decimals,
    )


@bp.post("/staff/challenges/<int:challenge_id>/jury/remind")
@role_required("staff")
def remind(challenge_id: int):
    challenge = _challenge(challenge_id)
    try:
        sent = scoring.remind_jurors(current_user, challenge)
    except UserError as error:
        _refuse(error)
    if sent.reminded:
        flash(
            ngettext("%(num)d juror has been reminded.", "%(num)d jurors have been reminded.",
                     sent.reminded),
            "success",
        )  # fmt: skip
    if sent.skipped:
        flash(
            ngettext(
                "%(num)d juror was reminded less than an hour ago and was not mailed again.",
                "%(num)d jurors were reminded less than an hour ago and were not mailed again.",
                sent.skipped,
            ),
            "success",
        )
    if sent.waiting:
        flash(
            ngettext(
                "%(num)d juror has no ideas to score yet and was not reminded; they get a mail "
                "when their ideas are ready.",
                "%(num)d jurors have no ideas to score yet and were not reminded; they get a "
                "mail when their ideas are ready.",
                sent.waiting,
            ),
            "success",
        )
    if not sent.reminded and not sent.skipped and not sent.waiting:
        flash(_("Every juror has submitted: nobody to remind."), "success")
    return redirect(url_for("jury.progress", challenge_id=challenge.id))
