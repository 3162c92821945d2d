"""Jury setup pages for staff (registered on ``views.bp``).

One page with a small form per action; each action redirects back with a flash, or
shows the page again with the refusal next to the form that caused it.
"""

import re

from babel.numbers import format_percent as babel_percent
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal, format_percent
from flask_login import current_user

from ..challenges.models import Challenge
from ..challenges.timeline import PHASE_LABELS
from ..errors import UserError
from ..extensions import db
from ..forms import ActionForm, show_error
from ..i18n import _, current_locale, ngettext
from ..permissions import role_required
from . import setup as services
from .forms import CriterionForm, PickForm, SeatForm, SettingsForm
from .models import JuryCriterion
from .views import bp

_ID = re.compile(r"[0-9]{1,9}")


def _challenge(challenge_id: int) -> Challenge:
    return db.session.get(Challenge, challenge_id) or abort(404)


def _criterion(challenge: Challenge, criterion_id: int) -> JuryCriterion:
    criterion = db.session.get(JuryCriterion, criterion_id)
    if criterion is None or criterion.challenge_id != challenge.id:
        abort(404)
    return criterion


def _form_id(value) -> int | None:
    """A posted id; None when it is not one (the service then says what is wrong)."""
    return int(value) if isinstance(value, str) and _ID.fullmatch(value) else None


def _edit_form(criterion: JuryCriterion, **kwargs) -> CriterionForm:
    return CriterionForm(prefix=f"criterion-{criterion.id}", obj=criterion, **kwargs)


def _render(challenge: Challenge, status: int = 200, notices: dict | None = None, **forms):
    """The setup page; a form that failed is passed in to show its errors.

    ``notices`` holds refusals of buttons without fields, by section ("criteria",
    "shortlist", "jurors") or by a juror's ideas (``juror-<id>-ideas``, shown next to
    that fieldset too).
    """
    view = services.jury_setup_view(challenge)
    edit_forms = {line.criterion.id: _edit_form(line.criterion, formdata=None)
                  for line in view.criteria}  # fmt: skip
    edit_forms.update(forms.pop("edit_forms", {}))
    forms.setdefault("settings_form", SettingsForm(formdata=None, data=_settings(challenge)))
    forms.setdefault("add_form", CriterionForm(formdata=None))
    forms.setdefault("pick_form", PickForm(formdata=None))
    forms.setdefault("seat_form", SeatForm(formdata=None))
    forms["pick_form"].idea.choices = [("", _("Choose an idea"))] + [
        (str(idea.id), ngettext("%(title)s (%(num)d vote)", "%(title)s (%(num)d votes)",
                                votes, title=idea.title))
        for idea, votes in view.candidates
    ]  # fmt: skip
    alpha = challenge.jury_alpha_percent
    return render_template(
        "jury/setup.html",
        challenge=challenge,
        view=view,
        edit_forms=edit_forms,
        notices=notices or {},
        phase_labels=PHASE_LABELS,
        alpha_decimal=format_decimal(alpha / 100, format="0.00"),
        jury_share=format_percent(alpha / 100),
        public_share=format_percent((100 - alpha) / 100),
        share=_share,
        **forms,
    ), status


def _share(fraction) -> str:
    """A share of the total weight with one decimal at most: "66,7 %" / "66.7%"."""
    return babel_percent(
        round(float(fraction), 3), locale=current_locale(), decimal_quantization=False
    )


def _settings(challenge: Challenge) -> dict:
    return {
        "alpha_percent": challenge.jury_alpha_percent,
        "centering": challenge.jury_centering,
        "shortlist_size": challenge.shortlist_size,
    }


def _back(challenge: Challenge, anchor: str):
    return redirect(url_for("jury.setup", challenge_id=challenge.id, _anchor=anchor))


def _act(challenge: Challenge, action, success, anchor: str, form=None, **page):
    """Run ``action``; flash ``success`` (a text, or a function of the result) and go back,
    or show the page again with the refusal on ``form`` (or as a notice of ``anchor``)."""
    if form is None and not ActionForm().validate_on_submit():
        abort(400)
    try:
        result = action()
    except UserError as error:
        # A refusal without a field (a lock, the phase) may concern a form the page no
        # longer shows: it goes to the summary at the top.
        if form is not None and error.field:
            show_error(form, error)
            return _render(challenge, error.status, **page)
        return _render(challenge, error.status, notices={anchor: error.message}, **page)
    flash(success(result) if callable(success) else success, "success")
    return _back(challenge, anchor)


@bp.get("/staff/challenges/<int:challenge_id>/jury")
@role_required("staff")
def setup(challenge_id: int):
    return _render(_challenge(challenge_id))


@bp.post("/staff/challenges/<int:challenge_id>/jury/settings")
@role_required("staff")
def setup_settings(challenge_id: int):
    challenge = _challenge(challenge_id)
    form = SettingsForm()
    return _act(
        challenge,
        lambda: services.set_jury_settings(current_user, challenge, *form.service_args()),
        lambda changed: _("The jury settings have been saved.") if changed
        else _("Nothing has changed."),
        "settings", form, settings_form=form,
    )  # fmt: skip


@bp.post("/staff/challenges/<int:challenge_id>/jury/criteria")
@role_required("staff")
def setup_add_criterion(challenge_id: int):
    challenge = _challenge(challenge_id)
    form = CriterionForm()
    return _act(
        challenge,
        lambda: services.add_criterion(current_user, challenge, form.service_data()),
        _("The criterion has been added."), "criteria", form, add_form=form,
    )  # fmt: skip


@bp.post("/staff/challenges/<int:challenge_id>/jury/criteria/<int:criterion_id>")
@role_required("staff")
def setup_update_criterion(challenge_id: int, criterion_id: int):
    challenge = _challenge(challenge_id)
    criterion = _criterion(challenge, criterion_id)
    form = _edit_form(criterion)
    return _act(
        challenge,
        lambda: services.update_criterion(current_user, criterion, form.service_data()),
        lambda changed: _("The criterion has been saved.") if changed
        else _("Nothing has changed."),
        f"criterion-{criterion.id}", form, edit_forms={criterion.id: form},
    )  # fmt: skip


@bp.post("/staff/challenges/<int:challenge_id>/jury/criteria/<int:criterion_id>/delete")
@role_required("staff")
def setup_remove_criterion(challenge_id: int, criterion_id: int):
    challenge = _challenge(challenge_id)
    criterion = _criterion(challenge, criterion_id)
    return _act(
        challenge,
        lambda: services.remove_criterion(current_user, criterion),
        _("The criterion has been removed."), "criteria",
    )  # fmt: skip


def _top_message(result: services.TopIdeas) -> str:
    if not result.added:
        return _("No new ideas: the top ideas by votes are already on the shortlist.")
    message = ngettext(
        "%(num)d idea has been added to the shortlist.",
        "%(num)d ideas have been added to the shortlist.",
        len(result.added),
    )
    if result.tied_extra:
        message += " " + ngettext(
            "%(num)d more than the shortlist size, because it ties with the last place "
            "(%(votes)d votes).",
            "%(num)d more than the shortlist size, because they tie with the last place "
            "(%(votes)d votes).",
            result.tied_extra,
            votes=result.cut_votes,
        )
    return message


@bp.post("/staff/challenges/<int:challenge_id>/jury/shortlist/top")
@role_required("staff")
def setup_shortlist_top(challenge_id: int):
    challenge = _challenge(challenge_id)
    return _act(
        challenge,
        lambda: services.shortlist_top_ideas(current_user, challenge),
        _top_message, "shortlist",
    )  # fmt: skip


@bp.post("/staff/challenges/<int:challenge_id>/jury/shortlist")
@role_required("staff")
def setup_pick(challenge_id: int):
    challenge = _challenge(challenge_id)
    form = PickForm()
    return _act(
        challenge,
        lambda: services.pick_for_shortlist(
            current_user, challenge, _form_id(form.idea.data), form.reason.data
        ),
        _("The idea has been added to the shortlist."), "shortlist", form, pick_form=form,
    )  # fmt: skip


def _confirm_removal(challenge: Challenge, impact: services.RemovalImpact, changed: bool):
    """The page that asks before an idea leaves the shortlist, saying what it deletes.

    A page, not a script dialog: it works without JavaScript. ``changed``: a juror saved
    scores (or a submission came in) after staff saw the previous question.
    """
    return render_template(
        "jury/confirm_unshortlist.html", challenge=challenge, impact=impact, changed=changed
    ), (409 if changed else 200)


def _removed_message(impact: services.RemovalImpact) -> str:
    message = (
        _(
            "The idea has been taken off the shortlist, although jurors have submitted: "
            "no juror who submitted had scored it."
        )
        if impact.late
        else _("The idea has been taken off the shortlist.")
    )
    if impact.scored_by:
        message += " " + ngettext(
            "The saved scores of %(num)d juror have been deleted.",
            "The saved scores of %(num)d jurors have been deleted.",
            len(impact.scored_by),
        )
    return message


@bp.get("/staff/challenges/<int:challenge_id>/jury/shortlist/<int:idea_id>/delete")
@role_required("staff")
def setup_unshortlist_confirm(challenge_id: int, idea_id: int):
    challenge = _challenge(challenge_id)
    try:
        impact = services.shortlist_removal_impact(challenge, idea_id)
    except UserError as error:
        return _render(challenge, error.status, notices={"shortlist": error.message})
    return _confirm_removal(challenge, impact, changed=False)


@bp.post("/staff/challenges/<int:challenge_id>/jury/shortlist/<int:idea_id>/delete")
@role_required("staff")
def setup_unshortlist(challenge_id: int, idea_id: int):
    challenge = _challenge(challenge_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    raw = request.form.get("confirm")
    # Anything but the number the question showed is no confirmation: it is asked again.
    confirmed = _form_id(raw)
    try:
        impact = services.remove_from_shortlist(current_user, challenge, idea_id, confirmed)
    except services.RemovalNeedsConfirmation as question:
        return _confirm_removal(challenge, question.impact, changed=raw is not None)
    except UserError as error:
        return _render(challenge, error.status, notices={"shortlist": error.message})
    flash(_removed_message(impact), "success")
    return _back(challenge, "shortlist")


@bp.post("/staff/challenges/<int:challenge_id>/jury/jurors")
@role_required("staff")
def setup_seat_juror(challenge_id: int):
    challenge = _challenge(challenge_id)
    form = SeatForm()
    return _act(
        challenge,
        lambda: services.seat_juror(current_user, challenge, form.person.data or ""),
        lambda user: _("%(name)s is now on the jury.", name=user.pseudonym or user.email),
        "jurors", form, seat_form=form,
    )  # fmt: skip


@bp.post("/staff/challenges/<int:challenge_id>/jury/jurors/<int:juror_id>/delete")
@role_required("staff")
def setup_unseat_juror(challenge_id: int, juror_id: int):
    challenge = _challenge(challenge_id)
    return _act(
        challenge,
        lambda: services.unseat_juror(current_user, challenge, juror_id),
        _("The juror has been taken off the jury."), "jurors",
    )  # fmt: skip


@bp.post("/staff/challenges/<int:challenge_id>/jury/jurors/<int:juror_id>/ideas")
@role_required("staff")
def setup_juror_ideas(challenge_id: int, juror_id: int):
    challenge = _challenge(challenge_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    # An id that is not one matches nothing on the shortlist: the service refuses it.
    ids = [_form_id(value) or 0 for value in request.form.getlist("idea")]
    try:
        services.set_juror_ideas(current_user, challenge, juror_id, ids)
    except UserError as error:
        return _render(challenge, error.status, notices={f"juror-{juror_id}-ideas": error.message})
    flash(_("The juror's ideas have been saved."), "success")
    return _back(challenge, f"juror-{juror_id}")
