"""Friendly error pages in the visitor's language, for every HTTP error we answer with."""

from flask import Flask, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from .i18n import _, _l

TITLES = {
    400: _l("The request could not be processed"),
    401: _l("Please log in"),
    403: _l("Access denied"),
    404: _l("Page not found"),
    405: _l("This action is not allowed here"),
    413: _l("The upload is too large"),
    429: _l("Too many attempts"),
    500: _l("Something went wrong on our side"),
}

EXPLANATIONS = {
    400: _l("Please check your input and try again."),
    401: _l("You need to log in to see this page."),
    403: _l("You do not have permission to see this page."),
    404: _l("The page you are looking for does not exist or is no longer available."),
    405: _l("Please use the buttons and links on our pages."),
    413: _l("The data you sent is larger than we accept. Please send a smaller file."),
    429: _l("Please wait a moment and try again."),
    500: _l("We have been notified. Please try again later."),
}


def render_error(code: int, message: str | None = None, headers: dict | None = None):
    """Render the error page; ``message`` is a specific, already-translated explanation."""
    body = render_template(
        "errors/error.html",
        code=code,
        title=TITLES.get(code, TITLES[400]),
        message=message or EXPLANATIONS.get(code, EXPLANATIONS[400]),
    )
    return body, code, headers or {}


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
    from flask import current_app

    current_app.logger.exception("unhandled error", exc_info=error)
    return render_error(500)


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _handle_csrf_error)
    app.register_error_handler(HTTPException, _handle_http_error)
    app.register_error_handler(InternalServerError, _handle_unexpected)
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
