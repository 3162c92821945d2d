"""Lab projects: the public list and pages, and the staff pages that run them."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_date
from flask_login import current_user

from ..caching import public_page
from ..challenges.models import Challenge
from ..errors import UserError, render_error
from ..extensions import db
from ..forms import ActionForm, form_status, show_error
from ..i18n import _, current_locale
from ..ideas.models import Idea
from ..page_cache import cached_page
from ..permissions import role_required
from . import services
from .forms import MilestoneForm, PartnerForm, ProjectForm, PromoteForm, ReachedForm, UpdateForm
from .models import LabProject, Milestone, Partner

bp = Blueprint("projects", __name__)

# Projects change rarely; a few minutes in a cache keep the pages fast on slow networks.
PUBLIC_MAX_AGE = 300


@bp.context_processor
def _helpers():
    return {
        "status_labels": services.STATUS_LABELS,
        "sector_labels": services.SECTOR_LABELS,
        "local_date": lambda day, fmt="medium": format_date(day, fmt) if day else "",
        "milestone_title": lambda m, locale: services.pick_text(m, "title", locale),
        "update_body": lambda u, locale: services.pick_text(u, "body_html", locale),
    }


# --- public pages -------------------------------------------------------------------------


@bp.get("/projects")
@public_page(PUBLIC_MAX_AGE)
@cached_page(PUBLIC_MAX_AGE)
def list_projects():
    projects = services.list_projects()
    return render_template(
        "projects/list.html", projects=projects, challenges=services.challenges_of(projects)
    )


@bp.get("/projects/<int:project_id>")
@public_page(PUBLIC_MAX_AGE)
@cached_page(PUBLIC_MAX_AGE)
def show(project_id: int):
    project = db.session.get(LabProject, project_id) or abort(404)
    return render_template("projects/show.html", **services.project_page(project, current_locale()))


@bp.route(
    "/projects/<int:project_id>/co-creator/<any(accept, decline):answer>/<token>",
    methods=["GET", "POST"],
)
def cocreator_answer(project_id: int, answer: str, token: str):
    # GET only shows a button: mail scanners that prefetch links must not answer for people.
    project = db.session.get(LabProject, project_id) or abort(404)
    form = ActionForm()
    try:
        services.read_cocreator_link(project, answer, token)
        if form.validate_on_submit():
            services.answer_cocreator_invitation(project, answer, token)
            if answer == "accept":
                flash(_("Thank you! You are now named as co-creator of this project."), "success")
            else:
                flash(_("Thank you for your answer. Your name will not be shown."), "success")
            return redirect(url_for("projects.show", project_id=project.id))
    except UserError as error:
        return render_error(error.status, error.message)
    title, title_lang = project.text("title", current_locale())
    return render_template(
        "projects/cocreator.html", form=form, project=project, answer=answer,
        title=title, title_lang=title_lang,
    ), form_status(form)  # fmt: skip


@bp.route("/projects/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str):
    # GET only shows a button: mail scanners that prefetch links must not switch mails off.
    form = ActionForm()
    try:
        services.read_unsubscribe_link(token)
        if form.validate_on_submit():
            services.unsubscribe_project_mails(token)
            flash(_("You will no longer receive mails about lab projects."), "success")
            return redirect(url_for("projects.list_projects"))
    except UserError as error:
        return render_error(error.status, error.message)
    return render_template(
        "accounts/confirm_link.html",
        form=form,
        title=_("No more mails about lab projects?"),
        button=_("Stop these mails"),
    ), form_status(form)


# --- promotion ----------------------------------------------------------------------------


@bp.route(
    "/staff/challenges/<int:challenge_id>/ideas/<int:idea_id>/promote", methods=["GET", "POST"]
)
@role_required("staff")
def promote(challenge_id: int, idea_id: int):
    challenge = db.session.get(Challenge, challenge_id) or abort(404)
    idea = db.session.get(Idea, idea_id)
    if idea is None or idea.challenge_id != challenge.id:
        abort(404)
    form = PromoteForm()
    if not form.is_submitted():
        form.title_de.data = form.title_en.data = idea.title
    problem = services.promotion_problem(challenge, idea)
    status = problem.status if problem else form_status(form)
    if problem is None and form.validate_on_submit():
        try:
            project = services.promote_idea(current_user, challenge, idea.id, **form.texts())
        except UserError as error:
            if error.field is None:
                problem, status = error, error.status
            else:
                show_error(form, error)
                status = error.status
        else:
            flash(_("The idea is now a lab project."), "success")
            return redirect(url_for("projects.staff_edit", project_id=project.id))
    return render_template(
        "projects/promote.html", form=form, challenge=challenge, idea=idea, problem=problem,
        existing_id=getattr(problem, "project_id", None),
    ), status  # fmt: skip


# --- running a project (staff) ------------------------------------------------------------


@bp.get("/staff/projects")
@role_required("staff")
def staff_list():
    projects = services.list_projects()
    return render_template(
        "projects/staff_list.html", projects=projects, challenges=services.challenges_of(projects)
    )


def _project(project_id: int) -> LabProject:
    return db.session.get(LabProject, project_id) or abort(404)


def _reached_form(milestone: Milestone, **kwargs) -> ReachedForm:
    # One form per milestone: the prefix keeps names and ids apart; the page's CSRF token
    # is checked app-wide for every POST.
    return ReachedForm(
        prefix=f"milestone-{milestone.id}", obj=milestone, meta={"csrf": False}, **kwargs
    )


def _render_staff(project: LabProject, status: int = 200, **forms):
    """The staff page of a project; a form that failed is passed in to show its errors."""
    milestones = services.list_milestones(project)
    reached_forms = {m.id: _reached_form(m, formdata=None) for m in milestones}
    reached_forms.update(forms.pop("reached_forms", {}))
    forms.setdefault("form", ProjectForm(obj=project, formdata=None))
    forms.setdefault("partner_form", PartnerForm(formdata=None))
    forms.setdefault("milestone_form", MilestoneForm(formdata=None))
    forms.setdefault("update_form", UpdateForm(formdata=None))
    page = services.project_page(project, current_locale())
    page["milestones"] = milestones
    return render_template(
        "projects/staff_edit.html",
        reached_forms=reached_forms,
        invitations=services.list_cocreators(project),
        **page,
        **forms,
    ), status


def _staff_action(project: LabProject, sent, action, success: str, anchor: str, **page):
    """Validate one form of the staff page and run ``action``; on refusal show the page.

    ``page`` names where the failed form goes on the page (e.g. ``partner_form=sent``).
    """
    status = 400
    if sent.validate_on_submit():
        try:
            message = action(sent)
        except UserError as error:
            if error.status == 404:
                abort(404)
            show_error(sent, error)
            status = error.status
        else:
            flash(message or success, "success")
            return redirect(url_for("projects.staff_edit", project_id=project.id, _anchor=anchor))
    return _render_staff(project, status, **page)


@bp.route("/staff/projects/<int:project_id>", methods=["GET", "POST"])
@role_required("staff")
def staff_edit(project_id: int):
    project = _project(project_id)
    if request.method == "GET":
        return _render_staff(project)
    form = ProjectForm()

    def save(f):
        changed = services.update_project(current_user, project, f.service_data())
        return None if changed else _("Nothing has changed.")

    return _staff_action(
        project, form, save, _("The project has been saved."), "project", form=form
    )


@bp.post("/staff/projects/<int:project_id>/partners")
@role_required("staff")
def staff_add_partner(project_id: int):
    project = _project(project_id)
    form = PartnerForm()
    return _staff_action(
        project, form,
        lambda f: services.add_partner(current_user, project, f.name.data, f.sector.data) and None,
        _("The partner has been added."), "partners", partner_form=form,
    )  # fmt: skip


@bp.post("/staff/projects/<int:project_id>/partners/<int:partner_id>/remove")
@role_required("staff")
def staff_remove_partner(project_id: int, partner_id: int):
    project = _project(project_id)
    partner = db.session.get(Partner, partner_id)
    if partner is None or partner.project_id != project.id:
        abort(404)
    return _staff_action(
        project, ActionForm(),
        lambda f: services.remove_partner(current_user, project, partner),
        _("The partner has been removed."), "partners",
    )  # fmt: skip


@bp.post("/staff/projects/<int:project_id>/milestones")
@role_required("staff")
def staff_add_milestone(project_id: int):
    project = _project(project_id)
    form = MilestoneForm()
    return _staff_action(
        project, form,
        lambda f: services.add_milestone(
            current_user, project, f.title_de.data, f.title_en.data, f.due_on.data
        ) and None,
        _("The milestone has been added."), "milestones", milestone_form=form,
    )  # fmt: skip


def _milestone(project: LabProject, milestone_id: int) -> Milestone:
    milestone = db.session.get(Milestone, milestone_id)
    if milestone is None or milestone.project_id != project.id:
        abort(404)
    return milestone


@bp.post("/staff/projects/<int:project_id>/milestones/<int:milestone_id>/reached")
@role_required("staff")
def staff_milestone_reached(project_id: int, milestone_id: int):
    project = _project(project_id)
    milestone = _milestone(project, milestone_id)
    form = _reached_form(milestone)
    return _staff_action(
        project, form,
        lambda f: services.mark_milestone_reached(
            current_user, project, milestone, f.reached_on.data
        ),
        _("The milestone has been saved."), f"milestone-{milestone.id}",
        reached_forms={milestone.id: form},
    )  # fmt: skip


@bp.post("/staff/projects/<int:project_id>/milestones/<int:milestone_id>/remove")
@role_required("staff")
def staff_remove_milestone(project_id: int, milestone_id: int):
    project = _project(project_id)
    milestone = _milestone(project, milestone_id)
    return _staff_action(
        project, ActionForm(),
        lambda f: services.remove_milestone(current_user, project, milestone),
        _("The milestone has been removed."), "milestones",
    )  # fmt: skip


@bp.post("/staff/projects/<int:project_id>/updates")
@role_required("staff")
def staff_publish_update(project_id: int):
    project = _project(project_id)
    form = UpdateForm()
    return _staff_action(
        project, form,
        lambda f: services.publish_update(current_user, project, f.body_de.data, f.body_en.data)
        and None,
        _("The update has been published. People who voted for or follow the idea get a mail."),
        "updates", update_form=form,
    )  # fmt: skip
