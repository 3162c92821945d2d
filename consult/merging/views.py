from flask import Blueprint

bp = Blueprint("merging", __name__)
