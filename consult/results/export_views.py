"""Public open data downloads of a challenge's results (registered on the results blueprint).

Before the embargo, for a draft or an unfrozen challenge they answer 404 like every public
results URL (``visibility.require_public_results``), so a guessed URL confirms nothing.
"""

from flask import Response, abort, session, stream_with_context
from flask_login import current_user

from . import exports
from .views import bp
from .visibility import require_public_results

# Seconds a browser or shared cache may keep an export; they change only when moderation does.
EXPORT_MAX_AGE = 300


@bp.get("/challenges/<int:challenge_id>/results/ideas.csv")
def export_csv(challenge_id: int):
    return _download(challenge_id, "csv")


@bp.get("/challenges/<int:challenge_id>/results/ideas.json")
def export_json(challenge_id: int):
    return _download(challenge_id, "json")


def _download(challenge_id: int, fmt: str) -> Response:
    challenge, announcement = require_public_results(challenge_id)
    try:
        export = exports.export_ideas(challenge, announcement, fmt)
    except LookupError:
        abort(404)
    response = Response(stream_with_context(export.chunks), content_type=export.mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    response.headers["Link"] = f'<{export.licence["url"]}>; rel="license"'
    # Like consult.caching.make_public, but without an ETag: that would need the whole body.
    if current_user.is_authenticated or session.modified:
        response.headers["Cache-Control"] = "private, no-store"
    else:
        response.cache_control.public = True
        response.cache_control.max_age = EXPORT_MAX_AGE
    return response
