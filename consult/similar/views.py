"""Similar ideas, found on the city's own server before a citizen posts a new one.

Without JavaScript the idea forms have a "Check for similar ideas" button, which the
form's own view answers (``form_check``) by showing the form again with the list. With
JavaScript (static/js/similar.js) the list comes from ``fragment`` while the person types.
"""

from flask import Blueprint, abort, render_template, request
from flask_login import current_user

from ..challenges.services import get_public_challenge
from ..ideas.services import form_id
from ..permissions import login_required
from . import services

bp = Blueprint("similar", __name__)

# The name of the idea forms' check button.
CHECK_BUTTON = "check_similar"


def form_check(challenge, title, body, exclude_id=None) -> services.SimilarCheck | None:
    """For an idea form's view: the check's answer when its button sent the form, else None.

    The form is then shown again with everything typed kept; nothing is saved.
    """
    if request.method != "POST" or CHECK_BUTTON not in request.form:
        return None
    upload = request.files.get("image")
    check = services.check_similar(challenge, title, body, exclude_id)
    if upload is not None and upload.filename:
        check = services.SimilarCheck(check.ideas, check.refused, photo_dropped=True)
    return check


# POST, not GET: the words of an unsaved idea belong in no address, access log or history.
@bp.post("/challenges/<int:challenge_id>/similar")
@login_required
def fragment(challenge_id: int):
    challenge = get_public_challenge(challenge_id, current_user) or abort(404)
    services.check_rate_limit()
    ideas = services.find_similar_ideas(
        challenge,
        request.form.get("title", ""),
        request.form.get("body", ""),
        exclude_id=form_id(request.form.get("exclude")),
    )
    response = render_template("similar/_results.html", similar=services.SimilarCheck(ideas=ideas))
    return response, 200, {"Cache-Control": "no-store"}
