from flask import Blueprint

from . import services  # noqa: F401  (registers the account data hooks)

bp = Blueprint("notifications", __name__)


@bp.route("/notifications/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(token: str):
    # Placeholder until the settings page and the unsubscribe step are built.
    return "", 404
