"""The home page, the pages German law asks of a city (imprint, privacy, accessibility),
and a bare health check."""

from flask import Blueprint, Response, render_template

from ..caching import public_page
from ..challenges.services import list_public_challenges
from ..challenges.timeline import deadline_phrase, format_when, phase_label
from ..page_cache import cached_page
from ..results.visibility import public_announcements

bp = Blueprint("pages", __name__)

# The home page shows phases and "voting ends in 3 days": a minute of staleness is fine.
HOME_MAX_AGE = 60
# The legal texts change with a deployment, not with the clock.
LEGAL_MAX_AGE = 3600


@bp.get("/")
@public_page(HOME_MAX_AGE)
@cached_page(HOME_MAX_AGE)
def home():
    current, past = list_public_challenges()
    published = public_announcements(current + past)
    # A challenge whose results are public is finished for visitors, whatever its schedule.
    past = [c for c in current if c.id in published] + past
    current = [c for c in current if c.id not in published]
    return render_template(
        "pages/home.html",
        current=current,
        past=past,
        published=published,
        phase_label=phase_label,
        deadline_phrase=deadline_phrase,
        format_when=format_when,
    )


@bp.get("/imprint")
@public_page(LEGAL_MAX_AGE)
def imprint():
    return render_template("pages/imprint.html")


@bp.get("/privacy")
@public_page(LEGAL_MAX_AGE)
def privacy():
    return render_template("pages/privacy.html")


@bp.get("/accessibility")
@public_page(LEGAL_MAX_AGE)
def accessibility():
    return render_template("pages/accessibility.html")


@bp.get("/healthz")
def healthz():
    # For load balancers and the list-page benchmark: the app's own per-request work
    # (hooks, headers) without templates or the database.
    response = Response("ok\n", mimetype="text/plain")
    response.headers["Cache-Control"] = "no-store"
    return response
