"""The moderators' queue: pending ideas and reports."""

from flask import Blueprint, render_template

from ..permissions import role_required
from . import services

bp = Blueprint("moderation", __name__, url_prefix="/moderation")


@bp.get("/")
@role_required("moderator", "staff")
def queue():
    pending, reports = services.moderation_queue()
    return render_template("moderation/queue.html", pending=pending, reports=reports)
