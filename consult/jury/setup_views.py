"""Jury setup pages for staff (registered on ``views.bp``)."""

from flask import abort

from .views import bp


@bp.get("/staff/challenges/<int:challenge_id>/jury")
def setup(challenge_id: int):
    abort(404)  # placeholder until the setup page exists
