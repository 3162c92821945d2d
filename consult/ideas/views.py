"""Ideas: writing, submitting, editing and withdrawing them; comments and reports."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..caching import public_page
from ..challenges.services import get_public_challenge
from ..errors import UserError, render_error
from ..events.room_ideas import credited_names
from ..forms import ActionForm, form_status, show_error
from ..i18n import _, current_locale
from ..media.services import get_image
from ..merging.services import merged_from_notice
from ..moderation.services import hide_reason_text
from ..page_cache import cached_page
from ..permissions import login_required, role_required, user_has_role
from ..projects.services import project_of_idea
from ..similar.views import form_check
from ..voting import services as votes
from . import services
from .forms import CommentForm, IdeaForm, ReportForm
from .page import load_idea_page

bp = Blueprint("ideas", __name__)


def _refused(error: UserError):
    """A refusal that belongs to no field (phase closed, not allowed): the error page."""
    return render_error(error.status, error.message)


def _report_prefix(key) -> str:
    # Several report forms share the idea page: a prefix keeps their field ids apart.
    return f"report-{key}"


# --- writing ----------------------------------------------------------------------------


@bp.route("/challenges/<int:challenge_id>/ideas/new", methods=["GET", "POST"])
@role_required("citizen")
def new(challenge_id: int):
    challenge = get_public_challenge(challenge_id, current_user) or abort(404)
    try:
        services.require_submission_open(challenge)
    except UserError as error:
        return _refused(error)
    form = IdeaForm(challenge, current_locale())
    if not form.is_submitted():
        form.language.data = current_locale()
    status = form_status(form)
    # "Check for similar ideas" shows the form again with the list; nothing is saved.
    similar = form_check(challenge, form.title.data, form.body.data)
    if similar is not None:
        status = 200
    elif form.validate_on_submit():
        try:
            idea = services.save_draft(current_user, challenge, form.idea_data(), form.image.data)
        except UserError as error:
            if error.field is None:
                return _refused(error)
            show_error(form, error)
            status = error.status
        else:
            flash(
                _("Your draft has been saved. Only you can see it until you submit it."),
                "success",
            )
            return redirect(url_for("ideas.show", idea_id=idea.id))
    return render_template(
        "ideas/form.html", form=form, challenge=challenge, idea=None, image=None, similar=similar
    ), status


@bp.route("/ideas/<int:idea_id>/edit", methods=["GET", "POST"])
@role_required("citizen")
def edit(idea_id: int):
    # Someone else's idea (or draft) is "not found", never "forbidden": it may not exist.
    idea = services.get_own_idea(idea_id, current_user) or abort(404)
    try:
        services.require_changeable(idea)
    except UserError as error:
        return _refused(error)
    form = IdeaForm(idea.challenge, current_locale(), obj=idea)
    status = form_status(form)
    similar = form_check(idea.challenge, form.title.data, form.body.data, exclude_id=idea.id)
    if similar is not None:
        status = 200
    elif form.validate_on_submit():
        was_public = idea.status == "published"
        try:
            services.update_idea(
                current_user, idea, form.idea_data(), form.image.data, form.remove_image.data
            )
        except UserError as error:
            if error.field is None:
                return _refused(error)
            show_error(form, error)
            status = error.status
        else:
            if was_public and idea.status == "submitted":
                flash(
                    _(
                        "Your changes have been saved. The moderators will check them before the idea is shown again."
                    ),
                    "success",
                )
            else:
                flash(_("Your changes have been saved."), "success")
            return redirect(url_for("ideas.show", idea_id=idea.id))
    return render_template(
        "ideas/form.html",
        form=form,
        challenge=idea.challenge,
        idea=idea,
        image=get_image(idea.image_id),
        similar=similar,
    ), status


def _own_idea_action(idea_id: int, action, success, target: str = "ideas.show"):
    """Run a button's service on the user's own idea and go back to the idea page."""
    idea = services.get_own_idea(idea_id, current_user) or abort(404)
    if not ActionForm().validate_on_submit():
        return render_error(400)
    try:
        action(current_user, idea)
    except UserError as error:
        return _refused(error)
    flash(success(idea), "success")
    if target == "ideas.mine":
        return redirect(url_for(target))
    return redirect(url_for(target, idea_id=idea_id))


@bp.post("/ideas/<int:idea_id>/submit")
@role_required("citizen")
def submit(idea_id: int):
    def message(idea):
        if idea.status == "published":
            return _("Thank you! Your idea has been published.")
        return _(
            "Thank you! Your idea has been submitted. We will let you know once it is published."
        )

    return _own_idea_action(idea_id, services.submit_idea, message)


@bp.post("/ideas/<int:idea_id>/withdraw")
@role_required("citizen")
def withdraw(idea_id: int):
    return _own_idea_action(
        idea_id, services.withdraw_idea, lambda idea: _("Your idea has been withdrawn.")
    )


@bp.post("/ideas/<int:idea_id>/delete")
@role_required("citizen")
def delete(idea_id: int):
    return _own_idea_action(
        idea_id,
        services.delete_draft,
        lambda idea: _("Your draft has been deleted."),
        target="ideas.mine",
    )


# --- reading, comments and reports ------------------------------------------------------


@bp.get("/ideas/<int:idea_id>")
@public_page(max_age=60)
@cached_page(60)
def show(idea_id: int):
    merged_into, facts = load_idea_page(idea_id, current_user)
    if merged_into is not None:
        # A merged duplicate's old link leads to the idea it was merged into, with a notice.
        return redirect(url_for("ideas.show", idea_id=merged_into, merged_from=idea_id))
    if facts is None:
        abort(404)
    return _render_show(facts.idea, facts=facts)


def _render_show(idea, status: int = 200, comment_form=None, report_forms=None, facts=None):
    """The idea page; a form that failed is passed in, to show it with its errors.

    ``facts``: what ``load_idea_page`` loaded with the idea; without them (a failed form's
    page) they are asked for one by one.
    """
    viewer_is_author = current_user.is_authenticated and idea.author_id == current_user.id
    viewer_moderates = user_has_role(current_user, "moderator") or user_has_role(
        current_user, "staff"
    )
    participates = user_has_role(current_user, "citizen")
    comments = services.list_comments(idea) if idea.status == "published" else []
    forms = {}
    if participates and idea.status == "published":
        # Nobody is offered to report their own words.
        if not viewer_is_author:
            forms["idea"] = ReportForm(formdata=None, prefix=_report_prefix("idea"))
        for comment in comments:
            if comment.status == "published" and comment.author_id != current_user.id:
                forms[comment.id] = ReportForm(formdata=None, prefix=_report_prefix(comment.id))
    forms.update(report_forms or {})
    voting = votes.voting_panel(current_user, idea.challenge, idea_id=idea.id)
    if facts is not None and not (idea.event_id or facts.has_merged):
        credits = []  # nobody to credit besides the author, who is shown anyway
    else:
        credits = credited_names(idea)
    # The count, unless the challenge hides counts while voting (paper votes included).
    tally = None
    if (
        idea.status == "published"
        and idea.challenge.voting_started()
        and not (idea.challenge.hide_counts_while_voting and voting.open)
    ):
        tally = votes.vote_tally(idea)
    if comment_form is None and participates:
        # Forms are only made for people who may send them: making one puts a CSRF token
        # into the session, and the page would no longer be cacheable for visitors.
        comment_form = CommentForm(formdata=None, language=current_locale())
    return render_template(
        "ideas/show.html",
        idea=idea,
        image=facts.image if facts is not None else get_image(idea.image_id),
        known_answer=(facts.answer, facts.project, facts.on_shortlist) if facts else None,
        comments=comments,
        comment_form=comment_form,
        report_forms=forms,
        failed_report=next(iter(report_forms)) if report_forms else None,
        viewer_is_author=viewer_is_author,
        viewer_moderates=viewer_moderates,
        # Hidden ideas show others only that they were hidden, and why.
        shows_content=idea.status != "hidden" or viewer_is_author or viewer_moderates,
        participates=participates,
        can_change=viewer_is_author and services.can_change(idea),
        can_withdraw=viewer_is_author
        and idea.status != "withdrawn"
        and idea.challenge.submission_open(),
        can_comment=services.can_comment(idea),
        following=participates
        and (facts.following if facts is not None else services.is_following(current_user, idea)),
        lab_project=facts.project if facts is not None else project_of_idea(idea.id),
        # Ideas from a live event credit the people in the room who posted them; an idea
        # that took duplicates in names their authors after its own.
        credited_names=credits if idea.event_id else [],
        also_proposed_by=[] if idea.event_id else credits[1:],
        merged_from=merged_from_notice(idea, request.args.get("merged_from")),
        voting=voting,
        tally=tally,
        status_labels=services.STATUS_LABELS,
        hide_reason_text=hide_reason_text,
    ), status


@bp.post("/ideas/<int:idea_id>/comments")
@role_required("citizen")
def comment(idea_id: int):
    idea = services.get_visible_idea(idea_id, current_user) or abort(404)
    services.check_posting_limit(current_user, "comment")
    form = CommentForm()
    if not form.validate_on_submit():
        return _render_show(idea, 400, comment_form=form)
    try:
        added = services.add_comment(current_user, idea, form.body.data, form.language.data)
    except UserError as error:
        if error.field is None:
            return _refused(error)
        show_error(form, error)
        return _render_show(idea, error.status, comment_form=form)
    flash(_("Your comment has been published."), "success")
    return redirect(url_for("ideas.show", idea_id=idea.id, _anchor=f"comment-{added.id}"))


@bp.post("/ideas/<int:idea_id>/report")
@role_required("citizen")
def report(idea_id: int):
    return _report(idea_id, None)


@bp.post("/ideas/<int:idea_id>/comments/<int:comment_id>/report")
@role_required("citizen")
def report_comment(idea_id: int, comment_id: int):
    return _report(idea_id, comment_id)


def _report(idea_id: int, comment_id: int | None):
    idea = services.get_visible_idea(idea_id, current_user) or abort(404)
    comment = None
    if comment_id is not None:
        comment = services.get_comment(idea, comment_id) or abort(404)
    services.check_posting_limit(current_user, "report")
    key = "idea" if comment is None else comment.id
    form = ReportForm(prefix=_report_prefix(key))
    if not form.validate_on_submit():
        return _render_show(idea, 400, report_forms={key: form})
    try:
        services.report_content(current_user, idea, form.reason.data, form.note.data, comment)
    except UserError as error:
        if error.field is None:
            return _refused(error)
        show_error(form, error)
        return _render_show(idea, error.status, report_forms={key: form})
    flash(_("Thank you for your report. The moderators will look at it."), "success")
    anchor = "report" if comment is None else f"comment-{comment.id}"
    return redirect(url_for("ideas.show", idea_id=idea.id, _anchor=anchor))


def _follow_action(idea_id: int, action, message: str):
    idea = services.get_visible_idea(idea_id, current_user) or abort(404)
    if not ActionForm().validate_on_submit():
        return render_error(400)
    try:
        action(current_user, idea)
    except UserError as error:
        return _refused(error)
    flash(message, "success")
    return redirect(url_for("ideas.show", idea_id=idea.id, _anchor="follow"))


@bp.post("/ideas/<int:idea_id>/follow")
@role_required("citizen")
def follow(idea_id: int):
    return _follow_action(
        idea_id,
        services.follow_idea,
        _("You follow this idea. If it becomes a lab project, we will send you its news."),
    )


@bp.post("/ideas/<int:idea_id>/unfollow")
@role_required("citizen")
def unfollow(idea_id: int):
    return _follow_action(idea_id, services.unfollow_idea, _("You no longer follow this idea."))


@bp.get("/my/ideas")
@login_required
def mine():
    return render_template(
        "ideas/mine.html",
        ideas=services.list_own_ideas(current_user),
        status_labels=services.STATUS_LABELS,
        hide_reason_text=hide_reason_text,
    )
