"""Serving stored images with long-lived caching."""

from flask import Blueprint, Response, abort
from sqlalchemy.orm import undefer

from ..extensions import db
from .models import Image

bp = Blueprint("media", __name__, url_prefix="/media")


@bp.get("/<int:image_id>/<digest>.webp")
def image(image_id: int, digest: str):
    return _serve(image_id, digest, thumbnail=False)


@bp.get("/<int:image_id>/<digest>-thumb.webp")
def thumbnail(image_id: int, digest: str):
    return _serve(image_id, digest, thumbnail=True)


def _serve(image_id: int, digest: str, thumbnail: bool):
    # The content hash in the URL works as a capability: ids alone reveal nothing, and
    # the content never changes under a URL, so caches may keep it for a year.
    found = db.session.get(Image, image_id, options=[undefer(Image.data), undefer(Image.thumbnail)])
    if found is None or found.digest != digest:
        abort(404)
    data = (found.thumbnail or found.data) if thumbnail else found.data
    response = Response(data, mimetype="image/webp")
    response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    response.set_etag(found.digest + ("-t" if thumbnail else ""))
    return response
