"""Lab projects: the public list and pages, and the staff pages that run them."""

from flask import Blueprint, abort

bp = Blueprint("projects", __name__)


@bp.get("/projects")
def list_projects():
    abort(404)  # placeholder until the list exists


@bp.get("/projects/<int:project_id>")
def show(project_id: int):
    abort(404)  # placeholder until the page exists


@bp.route(
    "/staff/challenges/<int:challenge_id>/ideas/<int:idea_id>/promote", methods=["GET", "POST"]
)
def promote(challenge_id: int, idea_id: int):
    abort(404)  # placeholder until promotion exists
