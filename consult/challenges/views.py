"""Challenges: the public challenge page, and staff creating and editing challenges."""

from flask import Blueprint, abort, render_template
from flask_login import current_user

from ..permissions import role_required
from . import services

bp = Blueprint("challenges", __name__)


# --- public pages ---------------------------------------------------------------------


@bp.get("/challenges/<int:challenge_id>")
def show(challenge_id: int):
    challenge = services.get_public_challenge(challenge_id, current_user) or abort(404)
    return render_template("challenges/show.html", challenge=challenge)


# --- staff pages ----------------------------------------------------------------------


@bp.get("/staff/challenges")
@role_required("staff")
def staff_list():
    return render_template("challenges/staff_list.html", challenges=services.list_all_challenges())
