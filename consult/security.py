"""The security baseline applied to every response and every request."""

from urllib.parse import unquote_to_bytes, urlsplit

from flask import Flask, abort, request
from flask import Request as FlaskRequest
from flask_login import current_user
from werkzeug.exceptions import LengthRequired, RequestEntityTooLarge
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter
from werkzeug.utils import cached_property
from werkzeug.wsgi import LimitedStream, get_content_length, get_input_stream

from .i18n import _

# No inline script or style, nothing from elsewhere, no framing.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

# Characters that have no business in form input: NUL, and the replacement character
# that a decoder puts where the bytes were not valid UTF-8.
_FORBIDDEN = ("\x00", "\ufffd")
_URLENCODED = "application/x-www-form-urlencoded"


def is_safe_next(target: str | None) -> bool:
    """Only same-site relative paths: blocks //evil.example, https://evil.example, \\\\evil."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(ord(c) < 32 for c in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def safe_next(target: str | None, default: str) -> str:
    return target if is_safe_next(target) else default


def _is_clean(raw: bytes) -> bool:
    """Whether URL-encoded bytes decode to UTF-8 text without NUL."""
    try:
        text = unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return "\x00" not in text


def _reject_malformed_input():
    """Refuse NUL bytes and invalid UTF-8 anywhere in query or form, before any view runs.

    Werkzeug 3 re-quotes invalid UTF-8 as literal text ("%FF") and drops a whole form
    whose raw bytes are not UTF-8, so the raw query and URL-encoded body are checked
    before anything parses them (this runs ahead of the CSRF check, which reads the form).
    """
    raw = [request.query_string]
    if request.method in ("POST", "PUT", "PATCH", "DELETE") and request.mimetype == _URLENCODED:
        # Cached, so that the form is parsed from the same bytes afterwards.
        raw.append(request.get_data(cache=True))
    if not all(_is_clean(chunk) for chunk in raw):
        abort(400, description=_("The form contained characters that are not allowed."))
    values = list(request.args.values())
    if request.method in ("POST", "PUT", "PATCH", "DELETE"):
        values += list(request.form.values())
        values += [f.filename or "" for f in request.files.values()]
    for value in values:
        if any(bad in value for bad in _FORBIDDEN):
            abort(400, description=_("The form contained characters that are not allowed."))


def _set_security_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault(
        "Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()"
    )
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    # Pages seen while logged in are personal: no shared cache (or a library PC's
    # back button) may keep them. (is_anonymous, not is_authenticated: the loader only
    # gives active accounts, and is_authenticated would read the account again after a
    # commit expired it: one query more for every form a logged-in person sends.)
    if not current_user.is_anonymous and "Cache-Control" not in headers:
        headers["Cache-Control"] = "private, no-store"
    return response


class _StreamedBodyLimit(LimitedStream):
    """A body of unknown length (chunked) cut at MAX_CONTENT_LENGTH: more is a 413.

    Werkzeug's own limit only raises on a read *after* the limit, and reading a
    URL-encoded form stops exactly at it, so a longer body was silently cut off: the
    form then lacked its CSRF token (a 400 "form expired") or, worse, a field was
    shortened. One byte read past the limit tells a body that ends there from a longer one.
    """

    _ended = False

    def readinto(self, b):
        size = super().readinto(b)
        if self.is_exhausted:
            self._refuse_more()
        return size

    def on_exhausted(self) -> None:
        self._refuse_more()

    def _refuse_more(self) -> None:
        if not self._ended:
            if self._stream.read(1):
                raise RequestEntityTooLarge()
            self._ended = True


class Request(FlaskRequest):
    """Flask's request, with MAX_CONTENT_LENGTH enforced on chunked bodies too."""

    @cached_property
    def stream(self):
        environ = self.environ
        limit = self.max_content_length
        if get_content_length(environ) is None and limit is not None and not self.shallow:
            if "wsgi.input_terminated" in environ:
                return _StreamedBodyLimit(environ["wsgi.input"], limit, is_max=True)
            if environ.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked":
                # A server that does not end a chunked body for us (gunicorn and
                # Werkzeug's server do): reading it could hang, and an empty form would
                # be answered as "form expired". Ask for a length instead.
                raise LengthRequired()
        return get_input_stream(environ, max_content_length=limit)


class DatabaseInt(IntegerConverter):
    """``<int:…>`` in every route: only ids a database column can hold, else 404.

    A 300-digit id would otherwise overflow SQLite's integers and end in a 500.
    """

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(map, *args, **kwargs)


def init_app(app: Flask) -> None:
    app.request_class = Request
    app.url_map.converters["int"] = DatabaseInt
    if app.config["PROXY_COUNT"]:
        count = int(app.config["PROXY_COUNT"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count)
    # First of all before-request hooks: CSRF protection would otherwise parse the form.
    app.before_request_funcs.setdefault(None, []).insert(0, _reject_malformed_input)
    app.after_request(_set_security_headers)
