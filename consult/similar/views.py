from flask import Blueprint

bp = Blueprint("similar", __name__)
