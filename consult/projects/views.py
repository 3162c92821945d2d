"""Lab projects: the public list and pages, and the staff pages that run them."""

from flask import Blueprint

bp = Blueprint("projects", __name__)
