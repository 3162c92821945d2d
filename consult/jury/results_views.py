"""Ranking, freezing and the snapshot, for staff (registered on ``views.bp``)."""

from flask import abort

from .views import bp


@bp.get("/staff/challenges/<int:challenge_id>/results")
def results(challenge_id: int):
    abort(404)  # placeholder until the results page exists
