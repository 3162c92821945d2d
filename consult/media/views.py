"""Serving stored images with long-lived caching."""

from flask import Blueprint, Response, abort, request
from flask_login import current_user

from . import services

bp = Blueprint("media", __name__, url_prefix="/media")


@bp.get("/<int:image_id>/<digest>.webp")
def image(image_id: int, digest: str):
    return _serve(image_id, digest, thumbnail=False)


@bp.get("/<int:image_id>/<digest>-thumb.webp")
def thumbnail(image_id: int, digest: str):
    return _serve(image_id, digest, thumbnail=True)


def _serve(image_id: int, digest: str, thumbnail: bool):
    # The content hash in the URL works as a capability: ids alone reveal nothing, and
    # the content never changes under a URL, so caches may keep public images for a year.
    # Only the small columns are read first; the bytes are loaded when they are sent.
    if services.image_digest(image_id) != digest:
        abort(404)
    audience = services.image_audience(image_id, current_user)
    if audience is None:
        abort(404)
    etag = digest + ("-t" if thumbnail else "")
    # A draft's or hidden idea's photo is never kept in a shared cache or after logout.
    cache = "public, max-age=31536000, immutable" if audience == "public" else "private, no-store"
    if etag in request.if_none_match:
        response = Response(status=304)
    else:
        data, complete = services.image_bytes(image_id, thumbnail)
        response = Response(data, mimetype="image/webp")
        if not complete:
            # The full image stands in until the thumbnail job has run: not to be kept.
            etag, cache = digest, "no-cache" if audience == "public" else cache
    response.headers["Cache-Control"] = cache
    response.set_etag(etag)
    return response
