"""Scoring pages for jurors and the progress page for staff (registered on ``views.bp``)."""

from flask import abort

from .views import bp


@bp.get("/jury")
def my_challenges():
    abort(404)  # placeholder until the juror's page exists


@bp.get("/staff/challenges/<int:challenge_id>/jury/progress")
def progress(challenge_id: int):
    abort(404)  # placeholder until the progress page exists
