"""Helpers for the browser tests (imported by name; pytest does not collect this file)."""

from flask_babel import force_locale, gettext
from playwright.sync_api import expect
from testdata import PASSWORD


def tr(locale: str, msgid: str, **values) -> str:
    """``msgid`` in ``locale``, as the page shows it."""
    with force_locale(locale):
        return gettext(msgid, **values)


def log_in(page, check, locale: str, user) -> None:
    """Through the login form, checking the page before and after (axe, CSP, hosts)."""
    page.goto("/account/login")
    check(page)
    page.get_by_label(tr(locale, "E-mail address")).fill(user.email)
    page.get_by_label(tr(locale, "Password"), exact=True).fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name=tr(locale, "Log in"), exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", locale)
    check(page)


def main_nav(page, name: str):
    """The header's navigation, ready to click: on a phone its links are in the "Menu"
    disclosure, which is opened first (a person taps "Menu" too)."""
    nav = page.get_by_role("navigation", name=name)
    menu = nav.locator("details.nav-menu")
    if menu.is_visible() and menu.get_attribute("open") is None:
        menu.locator("summary").click()
    return nav
