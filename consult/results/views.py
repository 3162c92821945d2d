"""Results: the press office's announcement workflow and the public results, exports and kit.

Public routes check ``visibility.require_public_results`` first; press routes the press role.
"""

from flask import Blueprint

bp = Blueprint("results", __name__)
