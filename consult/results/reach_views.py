"""Reach (registered on the results blueprint): the Atom feed, sitemap.xml, robots.txt, the
short link printed on posters, the poster itself, and the link previews of public pages.

Feed and sitemap read the clock through ``visibility``: a cached copy made before an embargo
can only lack the results, never show them early.
"""

from flask import Response, abort, redirect, render_template, url_for
from flask_login import current_user

from ..caching import make_public, public_page
from ..challenges.services import get_public_challenge
from ..i18n import current_locale
from . import reach
from .views import bp

# Results appear in the feed at their embargo; five minutes late is fine, early is impossible.
FEED_MAX_AGE = 300
SITEMAP_MAX_AGE = 3600
POSTER_MAX_AGE = 300


@bp.app_context_processor
def _reach_helpers():
    def social_meta_for(kind: str, obj):
        """For the ``meta`` block: the page's link preview, or None (no tags)."""
        return reach.describe_page(kind, obj, current_locale())

    return {"social_meta_for": social_meta_for}


@bp.get("/feed.atom")
def feed():
    response = Response(reach.build_feed(current_locale()), mimetype="application/atom+xml")
    # The feed's language follows Accept-Language and the language cookie, like pages.
    response.vary.update(("Accept-Language", "Cookie"))
    return make_public(response, FEED_MAX_AGE)


@bp.get("/sitemap.xml")
def sitemap():
    response = Response(reach.build_sitemap(), mimetype="application/xml")
    return make_public(response, SITEMAP_MAX_AGE)


@bp.get("/robots.txt")
def robots():
    return make_public(Response(reach.robots_txt(), mimetype="text/plain"), SITEMAP_MAX_AGE)


@bp.get("/c/<int:challenge_id>")
def short_link(challenge_id: int):
    # The short address on posters, for people who type instead of scanning.
    challenge = get_public_challenge(challenge_id, current_user) or abort(404)
    return redirect(url_for("challenges.show", challenge_id=challenge.id), code=301)


@bp.get("/challenges/<int:challenge_id>/poster")
@public_page(POSTER_MAX_AGE)
def poster(challenge_id: int):
    # Drafts are 404 for the public; staff see them, to print posters before the start.
    challenge = get_public_challenge(challenge_id, current_user) or abort(404)
    return render_template(
        "results/poster.html", poster=reach.build_poster(challenge, current_locale())
    )
