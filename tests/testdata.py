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
