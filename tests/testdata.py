"""Values and helpers shared by tests in several folders (imported by name, never collected).

Not in conftest.py: with several conftest.py files, ``from conftest import …`` picks
whichever was imported first.
"""

# The password of every account the fixtures make.
PASSWORD = "a long and lovely passphrase"


def plain(text: str, locale: str = "de", **kwargs) -> str:
    """``text`` translated into ``locale``, placeholders filled, unescaped (mails, JSON)."""
    from flask_babel import force_locale, gettext

    with force_locale(locale):
        return gettext(text, **kwargs)


def says(text: str, locale: str = "de", **kwargs) -> str:
    """``text`` as a page in ``locale`` shows it: translated, placeholders filled, escaped."""
    from markupsafe import escape

    return str(escape(plain(text, locale, **kwargs)))


def html(response) -> str:
    return response.get_data(as_text=True)


def shows(response, text: str, locale: str = "de", **kwargs) -> bool:
    return says(text, locale, **kwargs) in html(response)


# --- two factors ---------------------------------------------------------------------


def totp_code(user) -> str:
    """The current code of ``user``'s authenticator, usable again: the account's record of
    the last accepted window is cleared first, so one test can log in twice in 30 s."""
    import pyotp
    from sqlalchemy import update

    from consult.accounts.models import User
    from consult.clock import now
    from consult.extensions import db

    db.session.execute(update(User).where(User.id == user.id).values(totp_last_step=None))
    db.session.commit()
    return pyotp.TOTP(user.totp_secret).at(now())


def pass_code_step(client, response, user):
    """Answer the code step that the password step of a login redirected to, if any
    (``client``: the fixture's client or a plain Flask test client)."""
    import contextvars
    import re

    if "/account/two-factor/code" not in response.headers.get("Location", ""):
        return response
    url = response.headers["Location"]
    if hasattr(client, "forget_csrf"):
        client.forget_csrf()  # the password step started a new session
    http = getattr(client, "http", client)
    # Each request in a context of its own, as IsolatedClient does: a plain client would
    # reuse the CSRF token cached in ``g`` for the session that the password step cleared.
    page = contextvars.Context().run(http.get, url).get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    data = {"csrf_token": token, "code": totp_code(user)}
    return contextvars.Context().run(http.post, url, data=data)


def set_up_totp(client, user, next_url: str = "/") -> list[str]:
    """Set up TOTP for the logged-in ``user`` through the set-up page; the recovery codes."""
    import re

    import pyotp

    from consult.clock import now
    from consult.extensions import db

    client = getattr(client, "http", client)
    page = client.get("/account/two-factor/setup").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    db.session.refresh(user)
    code = pyotp.TOTP(user.totp_secret).at(now())
    response = client.post(
        f"/account/two-factor/setup?next={next_url}", data={"csrf_token": token, "code": code}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return re.findall(r"<code>([a-z0-9]{4}-[a-z0-9]{4})</code>", response.get_data(as_text=True))
