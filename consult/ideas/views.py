"""Ideas: writing, submitting, editing and withdrawing them; comments and reports."""

from flask import Blueprint, abort, render_template
from flask_login import current_user

from ..permissions import login_required
from . import services

bp = Blueprint("ideas", __name__)


@bp.get("/ideas/<int:idea_id>")
def show(idea_id: int):
    idea = services.get_visible_idea(idea_id, current_user) or abort(404)
    return render_template("ideas/show.html", idea=idea, comments=services.list_comments(idea))


@bp.get("/my/ideas")
@login_required
def mine():
    return render_template("ideas/mine.html", ideas=services.list_own_ideas(current_user))
