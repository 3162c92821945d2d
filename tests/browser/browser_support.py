"""Helpers for the browser tests (imported by name; pytest does not collect this file)."""

from flask_babel import force_locale, gettext
from playwright.sync_api import expect
from testdata import PASSWORD, totp_code


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
    enter_code(page, check, locale, user)
    expect(page.locator("html")).to_have_attribute("lang", locale)
    check(page)


def enter_code(page, check, locale: str, user) -> None:
    """The code step after the password, for an account with TOTP: types the code that the
    authenticator app would show."""
    if not user.totp_enabled_at:
        return
    expect(page.get_by_role("heading", level=1)).to_have_text(tr(locale, "Enter your code"))
    check(page)
    page.get_by_label(tr(locale, "Code"), exact=True).fill(totp_code(user))
    page.get_by_role("main").get_by_role("button", name=tr(locale, "Continue")).click()


def main_nav(page, name: str):
    """The header's navigation, ready to click: on a phone its links are in the "Menu"
    disclosure, which is opened first (a person taps "Menu" too)."""
    nav = page.get_by_role("navigation", name=name)
    menu = nav.locator("details.nav-menu")
    if menu.is_visible() and menu.get_attribute("open") is None:
        menu.locator("summary").click()
    return nav
