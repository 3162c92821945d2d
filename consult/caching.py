"""HTTP caching of public pages: ETag, 304 and ``Cache-Control: public`` for visitors.

Only pages that are the same for every anonymous visitor in a language are marked public
(the language is covered by ``Vary: Accept-Language, Cookie``, see consult.i18n). Pages
seen while logged in stay personal: consult.security marks them ``private, no-store``.
"""

from functools import wraps

from flask import make_response, request, session
from flask_login import current_user


def public_page(max_age: int):
    """Decorate a view whose page is the same for every anonymous visitor."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            return make_public(make_response(view(*args, **kwargs)), max_age)

        return wrapper

    return decorator


def make_public(response, max_age: int):
    """Let browsers and shared caches keep the page, and answer If-None-Match with 304.

    The ETag is a hash of the body, so it changes with anything shown, including the
    relative dates ("voting ends in 3 days"); max_age bounds how stale a cached copy is.
    """
    if request.method not in ("GET", "HEAD") or response.status_code != 200:
        return response
    if "Cache-Control" in response.headers or current_user.is_authenticated:
        return response
    if session.modified:
        # Something personal happened on the way, e.g. a flashed message was shown once.
        response.headers["Cache-Control"] = "private, no-store"
        return response
    response.cache_control.public = True
    response.cache_control.max_age = max_age
    response.add_etag()
    return response.make_conditional(request)
