"""Everything about languages: which locale a request gets, and the translation helpers.

All user-visible text goes through the helpers exported here; English is the source
language and German the default locale.
"""

from datetime import UTC, date, datetime
from urllib.parse import urlencode

from babel import Locale
from babel.dates import format_skeleton
from flask import Flask, has_request_context, redirect, request
from flask.globals import _cv_app
from flask_babel import (
    force_locale,
    format_date,
    format_datetime,
    get_locale,
    get_timezone,
    get_translations,
    lazy_gettext,
)
from flask_login import current_user

from .extensions import babel

SUPPORTED_LOCALES = ("de", "en")
DEFAULT_LOCALE = "de"
LANG_COOKIE = "consult_lang"
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600
LANGUAGE_NAMES = {"de": "Deutsch", "en": "English"}


# --- the request's locale and catalog, looked up once --------------------------------------
# Flask-Babel looks the locale and the catalog up again on every translation (a page has
# well over a hundred of them, each costing several context lookups). Here they are kept
# in Flask-Babel's own per-request namespace, next to the locale they belong to: when
# ``force_locale`` (mails in the recipient's language) or ``refresh`` changes that locale,
# the next translation sees a different locale object and looks the catalog up again.


def _current() -> tuple:
    """(locale, translations, locale name) of the current context."""
    app_ctx = _cv_app.get(None)
    if app_ctx is None:  # no application: English source strings
        return None, get_translations(), DEFAULT_LOCALE
    state = app_ctx.g.__dict__.get("_flask_babel")
    locale = getattr(state, "babel_locale", None)
    if locale is None:
        locale = get_locale()  # asks select_locale once, and creates the namespace
        state = app_ctx.g._flask_babel
    cached = getattr(state, "consult_catalog", None)
    if cached is None or cached[0] is not locale:
        cached = state.consult_catalog = (locale, get_translations(), str(locale))
    return cached


def gettext(string: str, **variables) -> str:
    """Flask-Babel's ``gettext``, with the catalog looked up once per request."""
    translated = _current()[1].ugettext(string)
    return translated % variables if variables else translated


def ngettext(singular: str, plural: str, num: int, **variables) -> str:
    """Flask-Babel's ``ngettext``, with the catalog looked up once per request."""
    variables.setdefault("num", num)
    return _current()[1].ungettext(singular, plural, num) % variables


_ = gettext
_l = lazy_gettext

__all__ = [
    "_",
    "_l",
    "ngettext",
    "force_locale",
    "format_datetime",
    "get_locale",
    "SUPPORTED_LOCALES",
    "select_locale",
]


def select_locale() -> str:
    """User setting, then explicit choice (cookie), then Accept-Language, then German."""
    if not has_request_context():  # command line and jobs: callers force the locale they need
        return DEFAULT_LOCALE
    if current_user and current_user.is_authenticated:
        locale = getattr(current_user, "locale", None)
        if locale in SUPPORTED_LOCALES:
            return locale
    cookie = request.cookies.get(LANG_COOKIE)
    if cookie in SUPPORTED_LOCALES:
        return cookie
    return request.accept_languages.best_match(SUPPORTED_LOCALES, default=DEFAULT_LOCALE)


def current_locale() -> str:
    return _current()[2] or DEFAULT_LOCALE


def mail_locale(user) -> str:
    """The language to write to ``user`` in: their setting, else the default."""
    return user.locale if user.locale in SUPPORTED_LOCALES else DEFAULT_LOCALE


def set_language_cookie(response, locale: str):
    """Remember an explicit language choice; an essential cookie, so no consent needed."""
    from flask import current_app

    response.set_cookie(
        LANG_COOKIE,
        locale,
        max_age=LANG_COOKIE_MAX_AGE,
        httponly=True,
        samesite="Lax",
        secure=current_app.config["SESSION_COOKIE_SECURE"],
    )
    return response


def _handle_lang_parameter():
    """``?lang=en`` on any GET: remember the choice and redirect to the clean URL.

    The redirect keeps one URL per page (good for caches and shared links); an unknown
    language is ignored, so the page falls back to the usual choice.
    """
    if request.method != "GET" or "lang" not in request.args:
        return None
    chosen = request.args.get("lang", "")
    rest = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    target = request.path + ("?" + urlencode(rest) if rest else "")
    response = redirect(target, code=303)
    if chosen in SUPPORTED_LOCALES:
        set_language_cookie(response, chosen)
    return response


def language_switch_url(locale: str) -> str:
    """The current page's URL asking for ``locale`` (used by the language switcher)."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    args.append(("lang", locale))
    return request.path + "?" + urlencode(args)


def format_local(dt, fmt: str = "medium") -> str:
    """A UTC datetime shown in Europe/Berlin for the current locale, to the minute.

    The date in the locale's ``fmt`` style; the time always without seconds, which only
    make a date harder to read ("03.12.2026, 09:00", not "03.12.2026, 09:00:00").
    """
    if not dt:
        return ""
    locale = current_locale()
    time = format_skeleton("Hm", dt, tzinfo=get_timezone(), locale=locale)
    return Locale.parse(locale).datetime_formats[fmt].format(time, format_date(dt, fmt))


def machine_datetime(value) -> str:
    """The value of a ``<time datetime>`` attribute: to the second, with the zone.

    HTML allows at most three fraction digits, so Python's microseconds fail the W3C
    checker; a date stays a date ("2026-12-03").
    """
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return ""


def _vary_on_language(response):
    """Pages differ by Accept-Language and the language cookie: tell every cache so.

    Images, styles and scripts are the same in every language and stay shareable.
    """
    if response.mimetype in ("text/html", "application/json"):
        response.vary.update(("Accept-Language", "Cookie"))
    return response


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    # Templates translate through the same once-per-request catalog.
    app.jinja_env.install_gettext_callables(
        gettext=lambda string: _current()[1].ugettext(string),
        ngettext=lambda singular, plural, n: _current()[1].ungettext(singular, plural, n),
        newstyle=True,
        pgettext=lambda context, string: _current()[1].upgettext(context, string),
        npgettext=lambda context, singular, plural, n: _current()[1].unpgettext(
            context, singular, plural, n
        ),
    )
    app.before_request(_handle_lang_parameter)
    app.after_request(_vary_on_language)
    app.jinja_env.globals.update(
        current_locale=current_locale,
        language_switch_url=language_switch_url,
        LANGUAGE_NAMES=LANGUAGE_NAMES,
        SUPPORTED_LOCALES=SUPPORTED_LOCALES,
    )
    app.jinja_env.filters["local_datetime"] = format_local
    app.jinja_env.filters["machine_datetime"] = machine_datetime
