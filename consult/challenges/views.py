"""Challenges: the public challenge page, and staff creating and editing challenges."""

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user
from sqlalchemy import select

from ..answers.states import LIST_FILTERS
from ..caching import public_page
from ..districts import District
from ..errors import UserError
from ..extensions import db
from ..forms import ActionForm, form_status, show_error
from ..i18n import _, current_locale
from ..ideas import services as ideas
from ..media.services import get_image
from ..notifications.services import following_column
from ..notifications.views import follow_panel
from ..page_cache import cached_page, digits, do_not_store, one_of
from ..permissions import role_required
from ..results.services import mail_state_columns
from ..results.views import results_panel
from ..results.visibility import public_announcement, public_announcements
from ..similar.views import form_check
from ..voting import services as votes
from . import services
from .cards import idea_cards
from .forms import TRANSLATION_LABELS, CategoryForm, ChallengeForm, CoverForm, WorkshopIdeaForm
from .list_options import parse_seed, read_list_options
from .models import Category, Challenge
from .timeline import build_timeline, deadline_phrase, format_when, phase_label

bp = Blueprint("challenges", __name__)


# --- public pages ---------------------------------------------------------------------


# Random order: the seed travels in the URL, so a page is the same for everyone who opens
# that URL (cacheable like any public page, no session needed) and paging keeps the order.
# A short-lived cookie, sent only to challenge pages, remembers the visitor's seed, so
# choosing "random" again during a visit brings the same order back. It holds only that
# number, and is set only when the visitor asks for the random order.
ORDER_COOKIE = "consult_order"
ORDER_COOKIE_MAX_AGE = 6 * 3600
# Vote and comment counts may be this many seconds old in a cache.
PUBLIC_MAX_AGE = 60


# Larger ids cannot exist; without the bound the database would answer them with an error.
@bp.get("/challenges/<int:challenge_id>")
@public_page(PUBLIC_MAX_AGE)
@cached_page(
    PUBLIC_MAX_AGE,
    # Searches and the random order (a seed per visitor) would make entries without
    # bound: they are rendered each time. An empty search is what the filter form sends.
    args={
        "sort": one_of("newest", "votes"),
        "category": digits(),
        "district": digits(),
        "answer": one_of(*LIST_FILTERS),
        "page": digits(4),
        "q": one_of(),
    },
)
def show(challenge_id: int):
    challenge = services.get_public_challenge(
        challenge_id, current_user, with_categories=True
    ) or abort(404)
    counts_hidden = challenge.counts_hidden()
    districts = db.session.scalars(select(District).order_by(District.position, District.name))
    districts = list(districts)
    options = read_list_options(
        request.args,
        category_ids={c.id for c in challenge.categories},
        district_ids={d.id for d in districts},
        # Sorting by votes would reveal the ranking that the challenge hides while voting.
        votes_sortable=not counts_hidden,
    )
    if options.sort == "random" and options.seed is None:
        return _redirect_with_seed(challenge, options)
    announcement = public_announcement(challenge)
    published_at = announcement.embargo_at if announcement else None
    # A citizen's ballot, votes, results mail and following: one query.
    also = (mail_state_columns, following_column)
    voting = votes.voting_panel(current_user, challenge, also=also)
    mail_state, following = voting.also or (None, None)
    listed, cards = idea_cards(challenge, options, voting, counts_hidden, PUBLIC_MAX_AGE)
    if options.ignored or options.search_shortened or listed.page != options.page:
        do_not_store()  # a notice about this URL's values, or a page past the end
    return render_template(
        "challenges/show.html",
        challenge=challenge,
        cover=get_image(challenge.cover_image_id),
        steps=build_timeline(challenge, published_at=published_at),
        deadline=deadline_phrase(challenge, results_public=announcement is not None),
        results_public=announcement is not None,
        results=results_panel(challenge, announcement is not None, mail_state),
        follow=follow_panel(challenge, following),
        phase=phase_label(challenge, announcement is not None),
        format_when=format_when,
        search_max=ideas.SEARCH_MAX,
        districts=districts,
        options=options,
        counts_hidden=counts_hidden,
        voting=voting,
        ideas=listed,
        cards=cards,
    )


def _redirect_with_seed(challenge: Challenge, options):
    seed = parse_seed(request.cookies.get(ORDER_COOKIE)) or ideas.new_random_seed()
    args = options.link_args(seed=seed)
    if options.page > 1:
        args["page"] = options.page
    response = redirect(
        url_for("challenges.show", challenge_id=challenge.id, _anchor="ideas", **args), 303
    )
    response.headers["Cache-Control"] = "private, no-store"  # depends on the cookie
    response.set_cookie(
        ORDER_COOKIE,
        str(seed),
        max_age=ORDER_COOKIE_MAX_AGE,
        path="/challenges/",
        httponly=True,
        samesite="Lax",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
    )
    return response


# --- staff pages ----------------------------------------------------------------------


@bp.get("/staff/challenges")
@role_required("staff")
def staff_list():
    challenges = services.list_all_challenges()
    published = public_announcements(challenges)
    return render_template(
        "challenges/staff_list.html",
        challenges=challenges,
        phases={c.id: phase_label(c, c.id in published) for c in challenges},
        translation_labels=TRANSLATION_LABELS,
    )


def _staff_challenge(challenge_id: int) -> Challenge:
    return db.session.get(Challenge, challenge_id) or abort(404)


def _staff_category(challenge: Challenge, category_id: int) -> Category:
    category = db.session.get(Category, category_id)
    if category is None or category.challenge_id != challenge.id:
        abort(404)
    return category


def _challenge_form(challenge: Challenge, **kwargs) -> ChallengeForm:
    form = ChallengeForm(obj=challenge, **kwargs)
    if challenge.voting_started():
        form.lock_for_running_vote()
    return form


def _rename_form(category: Category, **kwargs) -> CategoryForm:
    # One form per category on the page: the prefix keeps names and ids apart. The
    # app-wide CSRF check reads the page's token, which the template puts in each form.
    return CategoryForm(
        prefix=f"category-{category.id}", obj=category, meta={"csrf": False}, **kwargs
    )


def _render_edit(challenge: Challenge, status: int = 200, **forms):
    """The challenge's staff page; a form that failed is passed in to show its errors."""
    rename_forms = {c.id: _rename_form(c, formdata=None) for c in challenge.categories}
    rename_forms.update(forms.pop("rename_forms", {}))
    forms.setdefault("form", _challenge_form(challenge, formdata=None))
    forms.setdefault("cover_form", CoverForm(formdata=None))
    forms.setdefault("category_form", CategoryForm(formdata=None))
    cover = get_image(challenge.cover_image_id)
    return render_template(
        "challenges/staff_edit.html",
        challenge=challenge,
        cover=cover,
        rename_forms=rename_forms,
        phase=phase_label(challenge, public_announcement(challenge) is not None),
        translation_labels=TRANSLATION_LABELS,
        **forms,
    ), status


@bp.route("/staff/challenges/new", methods=["GET", "POST"])
@role_required("staff")
def staff_create():
    form = ChallengeForm()
    status = form_status(form)
    if form.validate_on_submit():
        try:
            challenge = services.create_challenge(current_user, form.service_data())
        except UserError as error:
            show_error(form, error)
            status = error.status
        else:
            flash(
                _("The challenge has been created. It stays a draft until submission opens."),
                "success",
            )
            return redirect(url_for("challenges.staff_edit", challenge_id=challenge.id))
    return render_template(
        "challenges/staff_new.html", form=form, translation_labels=TRANSLATION_LABELS
    ), status


@bp.route("/staff/challenges/<int:challenge_id>/edit", methods=["GET", "POST"])
@role_required("staff")
def staff_edit(challenge_id: int):
    challenge = _staff_challenge(challenge_id)
    if request.method == "GET":
        return _render_edit(challenge)
    form = _challenge_form(challenge)
    status = form_status(form)
    if form.validate_on_submit():
        try:
            changed = services.update_challenge(
                current_user, challenge, form.service_data(challenge)
            )
        except UserError as error:
            show_error(form, error)
            status = error.status
        else:
            flash(
                _("The challenge has been saved.") if changed else _("Nothing has changed."),
                "success",
            )
            return redirect(url_for("challenges.staff_edit", challenge_id=challenge.id))
    return _render_edit(challenge, status, form=form)


def _edit_action(challenge: Challenge, form, action, success: str, anchor: str, **page):
    """Validate one form of the edit page and run ``action``; on refusal show the page again.

    ``page`` names where the failed form goes on the edit page (e.g. ``cover_form=form``).
    """
    status = 400
    if form.validate_on_submit():
        try:
            action(form)
        except UserError as error:
            show_error(form, error)
            status = error.status
        else:
            flash(success, "success")
            return redirect(
                url_for("challenges.staff_edit", challenge_id=challenge.id, _anchor=anchor)
            )
    return _render_edit(challenge, status, **page)


@bp.post("/staff/challenges/<int:challenge_id>/cover")
@role_required("staff")
def staff_cover(challenge_id: int):
    challenge = _staff_challenge(challenge_id)
    form = CoverForm()
    return _edit_action(
        challenge, form,
        lambda f: services.set_cover_image(current_user, challenge, f.image.data),
        _("The cover image has been changed."), "cover", cover_form=form,
    )  # fmt: skip


@bp.post("/staff/challenges/<int:challenge_id>/categories")
@role_required("staff")
def staff_add_category(challenge_id: int):
    challenge = _staff_challenge(challenge_id)
    form = CategoryForm()
    return _edit_action(
        challenge, form,
        lambda f: services.add_category(current_user, challenge, f.name_de.data, f.name_en.data),
        _("The category has been added."), "categories", category_form=form,
    )  # fmt: skip


@bp.post("/staff/challenges/<int:challenge_id>/categories/<int:category_id>")
@role_required("staff")
def staff_rename_category(challenge_id: int, category_id: int):
    challenge = _staff_challenge(challenge_id)
    category = _staff_category(challenge, category_id)
    form = _rename_form(category)
    return _edit_action(
        challenge, form,
        lambda f: services.rename_category(current_user, category, f.name_de.data, f.name_en.data),
        _("The category has been renamed."), "categories", rename_forms={category.id: form},
    )  # fmt: skip


@bp.post("/staff/challenges/<int:challenge_id>/categories/<int:category_id>/delete")
@role_required("staff")
def staff_delete_category(challenge_id: int, category_id: int):
    challenge = _staff_challenge(challenge_id)
    category = _staff_category(challenge, category_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        services.delete_category(current_user, category)
    except UserError as error:
        form = _rename_form(category, formdata=None)
        show_error(form, error)
        return _render_edit(challenge, error.status, rename_forms={category.id: form})
    flash(_("The category has been removed."), "success")
    return redirect(
        url_for("challenges.staff_edit", challenge_id=challenge.id, _anchor="categories")
    )


@bp.route("/staff/challenges/<int:challenge_id>/workshop-ideas/new", methods=["GET", "POST"])
@role_required("staff")
def staff_workshop_idea(challenge_id: int):
    challenge = _staff_challenge(challenge_id)
    form = WorkshopIdeaForm(challenge, current_locale())
    status = form_status(form)
    if not form.is_submitted():
        # After one idea the next from the same workshop usually follows: keep its name.
        form.workshop_name.data = request.args.get("workshop", "")[:120]
    # "Check for similar ideas" shows the form again with the list; nothing is saved.
    similar = form_check(challenge, form.title.data, form.body.data)
    if similar is not None:
        status = 200
    elif form.validate_on_submit():
        try:
            idea = ideas.enter_workshop_idea(
                current_user, challenge, form.service_data(), form.workshop_name.data
            )
        except UserError as error:
            show_error(form, error)
            status = error.status
        else:
            flash(_('The idea "%(title)s" has been published.', title=idea.title), "success")
            return redirect(
                url_for(
                    "challenges.staff_workshop_idea",
                    challenge_id=challenge.id,
                    workshop=idea.workshop_name,
                )
            )
    return render_template(
        "challenges/staff_workshop_idea.html", challenge=challenge, form=form, similar=similar
    ), status
