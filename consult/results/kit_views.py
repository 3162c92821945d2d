"""Chart images and the press kit of public results (registered on the results blueprint).

Like every public results URL they answer 404 before the embargo
(``visibility.require_public_results``). One exception: the press office's preview shows the
charts before the embargo, so a press officer may load them then, never cached.
"""

from flask import Response, abort, request, session
from flask_login import current_user

from ..challenges.models import Challenge
from ..extensions import db
from ..i18n import current_locale
from . import charts, kit, services
from .views import bp
from .visibility import public_announcement, require_public_results

# A chart's URL carries its source hash (?v=...), so a new drawing gets a new URL and a
# cached copy may be kept for long.
CHART_MAX_AGE = 7 * 24 * 3600
# The kit holds the open data, which changes only when moderation does (as the exports).
KIT_MAX_AGE = 300
# The images are only ever loaded by <img>: as a document of their own (opened directly),
# an SVG may run no script and load nothing. matplotlib's SVG uses style attributes.
SVG_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"


@bp.context_processor
def _chart_helpers():
    def result_charts(challenge: Challenge, figures) -> dict:
        """The up-to-date charts of these figures, by name, for the results page."""
        return charts.current_charts(challenge, figures, current_locale())

    return {"result_charts": result_charts}


def _is_press() -> bool:
    return current_user.is_authenticated and any(
        current_user.has_role(role) for role in services.PRESS_ROLES
    )


def _chart_challenge(challenge_id: int) -> tuple[Challenge, bool]:
    """The challenge and whether its results are public; 404 unless they are (or press)."""
    if _is_press():
        challenge = db.session.get(Challenge, challenge_id)
        if (
            challenge is not None
            and challenge.is_frozen
            and services.get_announcement(challenge) is not None
        ):
            return challenge, public_announcement(challenge) is not None
    challenge, _announcement = require_public_results(challenge_id)
    return challenge, True


@bp.get("/challenges/<int:challenge_id>/results/charts/<filename>")
def chart(challenge_id: int, filename: str):
    challenge, public = _chart_challenge(challenge_id)
    parsed = charts.parse_chart_filename(filename)
    if parsed is None:
        abort(404)
    stored = charts.get_chart(challenge, *parsed)
    if stored is None:
        abort(404)  # not drawn yet: the page shows the table alone meanwhile
    response = Response(stored.content, mimetype=charts.FORMATS[stored.format])
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    if stored.format == "svg":
        response.headers["Content-Security-Policy"] = SVG_POLICY
    if public:
        # The same bytes for everyone, logged in or not.
        response.cache_control.public = True
        response.cache_control.max_age = CHART_MAX_AGE
    else:
        response.headers["Cache-Control"] = "private, no-store"
    response.set_etag(stored.source_hash)
    return response.make_conditional(request)


@bp.get("/challenges/<int:challenge_id>/results/press-kit.zip")
def press_kit(challenge_id: int):
    challenge, announcement = require_public_results(challenge_id)
    try:
        handle = kit.build_press_kit(challenge, announcement)
    except LookupError:
        abort(404)
    size = handle.seek(0, 2)
    handle.seek(0)
    response = Response(kit.stream_file(handle), mimetype="application/zip")
    response.call_on_close(handle.close)  # also when the body is never read (HEAD)
    response.content_length = size
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{kit.kit_filename(challenge)}"'
    )
    if current_user.is_authenticated or session.modified:
        response.headers["Cache-Control"] = "private, no-store"
    else:
        response.cache_control.public = True
        response.cache_control.max_age = KIT_MAX_AGE
    return response
