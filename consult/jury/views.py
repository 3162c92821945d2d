"""The jury blueprint: staff set the jury up, jurors score, staff freeze the results.

The routes live in three modules, one per part of the journey; each registers on ``bp``.
"""

from flask import Blueprint

bp = Blueprint("jury", __name__)

from . import results_views, scoring_views, setup_views  # noqa: E402, F401
