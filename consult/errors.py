"""Friendly error pages in the visitor's language, for every HTTP error we answer with."""

import contextlib

from flask import Flask, current_app, g, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from werkzeug.exceptions import HTTPException, InternalServerError

from .extensions import db, login_manager
from .i18n import _, _l

# The database cannot be reached or did not answer (connection refused or lost, pool
# exhausted, lock or statement timeout): a 503, the request may succeed in a moment.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError, DisconnectionError, PoolTimeoutError)

TITLES = {
    400: _l("The request could not be processed"),
    401: _l("Please log in"),
    403: _l("Access denied"),
    404: _l("Page not found"),
    405: _l("This action is not allowed here"),
    411: _l("The upload could not be read"),
    413: _l("The upload is too large"),
    429: _l("Too many attempts"),
    500: _l("Something went wrong on our side"),
    503: _l("This service is briefly unavailable"),
}

EXPLANATIONS = {
    400: _l("Please check your input and try again."),
    401: _l("You need to log in to see this page."),
    403: _l("You do not have permission to see this page."),
    404: _l("The page you are looking for does not exist or is no longer available."),
    405: _l("Please use the buttons and links on our pages."),
    411: _l("Please send the data with its length (Content-Length)."),
    413: _l("The data you sent is larger than we accept. Please send a smaller file."),
    429: _l("Please wait a moment and try again."),
    500: _l("We have been notified. Please try again later."),
    503: _l("Please try again in a minute. If you sent a form, please send it again then."),
}


def render_error(code: int, message: str | None = None, headers: dict | None = None):
    """Render the error page; ``message`` is a specific, already-translated explanation.

    It renders without the database too: when loading the signed-in user (for the menu
    and their language) fails, the page is drawn as for a visitor, in the language of the
    cookie or the browser.
    """
    headers = dict(headers or {})

    def page() -> str:
        return render_template(
            "errors/error.html",
            code=code,
            title=TITLES.get(code, TITLES[400]),
            message=message or EXPLANATIONS.get(code, EXPLANATIONS[400]),
        )

    try:
        body = page()
    except SQLAlchemyError as exc:
        current_app.logger.warning("error page %s drawn without the database: %s", code, exc)
        _draw_without_database()
        body = page()
    if g.get("consult_without_database"):
        headers["Cache-Control"] = "no-store"
    return body, code, headers


def _draw_without_database() -> None:
    """From here on the request neither asks the database nor shows who is signed in.

    The signed-in user is replaced by an anonymous one for this request only (Flask-Login
    keeps it in ``g._login_user``); the session cookie is untouched, so the person is still
    signed in once the database is back.
    """
    with contextlib.suppress(SQLAlchemyError):
        db.session.rollback()
    g._login_user = login_manager.anonymous_user()
    g.consult_without_database = True


def _handle_http_error(error: HTTPException):
    code = error.code or 500
    # Werkzeug's own English descriptions are not shown; ours are translated.
    custom = getattr(error, "consult_message", None)
    if custom is None and error.description and error.description != type(error).description:
        custom = error.description
    # Keep the protocol headers Werkzeug attaches (Allow on 405, Retry-After on 429).
    headers = {
        name: value
        for name, value in error.get_headers(request.environ)
        if name.lower() != "content-type"
    }
    return render_error(code, custom, headers)


def _handle_csrf_error(error: CSRFError):
    return render_error(
        400, _("Your form has expired or was not sent from our site. Please try again.")
    )


def _handle_unexpected(error: Exception):
    if isinstance(error, HTTPException):
        return _handle_http_error(error)
    current_app.logger.exception("unhandled error", exc_info=error)
    return render_error(500)


def _handle_database_unavailable(error: Exception):
    current_app.logger.error("database unavailable: %s", error)
    # Do not wait for it again while drawing the page.
    _draw_without_database()
    return render_error(503, headers={"Retry-After": "30"})


def _too_large_page():
    # nginx refuses an oversized body itself (client_max_body_size) and fetches this page
    # to answer with (deploy/nginx); the status stays 413 either way.
    return render_error(413)


def init_app(app: Flask) -> None:
    app.add_url_rule("/errors/413", "errors_too_large", _too_large_page)
    app.register_error_handler(CSRFError, _handle_csrf_error)
    app.register_error_handler(HTTPException, _handle_http_error)
    app.register_error_handler(InternalServerError, _handle_unexpected)
    for error in DATABASE_UNAVAILABLE:
        app.register_error_handler(error, _handle_database_unavailable)
    app.register_error_handler(Exception, _handle_unexpected)


class UserError(Exception):
    """A use case refused by a service: ``message`` is translated; ``field`` names the form field."""

    def __init__(self, message: str, field: str | None = None, status: int = 400):
        super().__init__(message)
        self.message = message
        self.field = field
        self.status = status


class FieldErrors(UserError):
    """Several fields refused at once: ``errors`` maps each form field to its message.

    The first one is the ``message``/``field`` of a plain ``UserError``, so callers that
    show a single refusal still work.
    """

    def __init__(self, errors: dict[str, str], status: int = 400):
        first_field, first_message = next(iter(errors.items()))
        super().__init__(first_message, field=first_field, status=status)
        self.errors = errors
