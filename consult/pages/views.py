"""The home page and the pages German law asks of a city: imprint, privacy, accessibility."""

from flask import Blueprint, render_template

bp = Blueprint("pages", __name__)


@bp.get("/")
def home():
    return render_template("pages/home.html")


@bp.get("/imprint")
def imprint():
    return render_template("pages/imprint.html")


@bp.get("/privacy")
def privacy():
    return render_template("pages/privacy.html")


@bp.get("/accessibility")
def accessibility():
    return render_template("pages/accessibility.html")
