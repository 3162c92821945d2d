"""The account journey on a phone, in both languages: register, verify, log in, switch
language, log out. Every page on the way is checked by ``check`` (see conftest.py):
WCAG 2.1 AA via axe-core, no third-party requests, no console or CSP errors.

Expected texts come from the app's own catalogs (``tr``), so the tests stay right while
the German translations are being written; what does not depend on them (``<html lang>``,
URLs, the language names in the switcher) is asserted literally.
"""

import re

import pytest
from browser_support import main_nav
from flask import current_app
from flask_babel import force_locale, gettext
from playwright.sync_api import expect

from consult.i18n import LANGUAGE_NAMES

pytestmark = pytest.mark.browser

PASSWORD = "a long and lovely passphrase"
BROWSER_LOCALE = {"de": "de-DE", "en": "en-GB"}
OTHER = {"de": "en", "en": "de"}


def tr(locale: str, msgid: str, **values) -> str:
    """``msgid`` as the app shows it in ``locale``."""
    with force_locale(locale):
        return gettext(msgid, **values)


def home_heading(locale: str) -> str:
    return tr(locale, "Your ideas for %(city)s", city=current_app.config["CITY_NAME"])


def path_is(live_server, path: str):
    return re.compile("^" + re.escape(live_server(path)) + r"(\?.*)?$")


def expect_language(page, locale: str) -> None:
    expect(page.locator("html")).to_have_attribute("lang", locale)
    current = page.locator("header .lang-current")
    expect(current).to_have_text(LANGUAGE_NAMES[locale])
    expect(current).to_have_attribute("lang", locale)


def expect_heading(page, text: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(text)


def expect_flash(page, text: str) -> None:
    expect(page.locator("main .flashes")).to_contain_text(text)


def expect_focus(locator) -> None:
    """``locator`` has the keyboard focus, and the focus indicator can be seen (WCAG 2.4.7)."""
    expect(locator).to_be_focused()
    expect(locator).to_be_in_viewport()
    outline = locator.evaluate(
        "(el) => { const s = getComputedStyle(el); return [s.outlineStyle, s.outlineWidth]; }"
    )
    assert outline[0] != "none" and outline[1] != "0px", f"no visible focus outline: {outline}"


def header_nav(page, locale: str):
    return main_nav(page, tr(locale, "Main navigation"))


def register(page, check, live_server, locale: str, email: str, pseudonym: str) -> None:
    """From the home page through the registration form to the "check your e-mail" page."""
    page.goto("/")
    expect_language(page, locale)
    expect_heading(page, home_heading(locale))
    check(page)

    header_nav(page, locale).get_by_role("link", name=tr(locale, "Register"), exact=True).click()
    expect(page).to_have_url(path_is(live_server, "/account/register"))
    expect_language(page, locale)
    expect_heading(page, tr(locale, "Register"))
    check(page)

    page.get_by_label(tr(locale, "E-mail address")).fill(email)
    page.get_by_label(tr(locale, "Password"), exact=True).fill(PASSWORD)
    page.get_by_label(tr(locale, "Public name (pseudonym)")).fill(pseudonym)
    # The language for mails starts as the language the visitor sees.
    expect(page.get_by_label(tr(locale, "Language for e-mails and pages"))).to_have_value(locale)
    page.get_by_label(tr(locale, "I have read the privacy policy and agree to it.")).check()
    page.get_by_role("button", name=tr(locale, "Create account"), exact=True).click()

    expect_heading(page, tr(locale, "Please check your e-mail"))
    expect_language(page, locale)
    expect(page.get_by_role("status").filter(has_text=email)).to_contain_text(
        tr(
            locale,
            "We have sent a message to %(email)s. Please open the link in it to confirm your address.",
            email=email,
        )
    )
    check(page)


def verify_from_mail(page, check, live_server, mailbox, locale: str, email: str) -> None:
    """Open the verification mail's link and press the confirm button."""
    message = mailbox.last_to(email)
    assert message["Content-Language"] == locale
    assert message["Subject"] == tr(locale, "Please confirm your e-mail address")
    link = mailbox.link(message, "/account/verify/")
    assert link.startswith(live_server.url + "/account/verify/"), link

    page.goto(link)
    expect_heading(page, tr(locale, "Confirm your e-mail address"))
    expect_language(page, locale)
    check(page)
    page.get_by_role("button", name=tr(locale, "Confirm my e-mail address"), exact=True).click()

    expect(page).to_have_url(path_is(live_server, "/account/login"))
    expect_flash(
        page, tr(locale, "Thank you, your e-mail address is confirmed. You can now take part.")
    )
    expect_heading(page, tr(locale, "Log in"))
    check(page)


def log_in(page, check, live_server, locale: str, email: str, pseudonym: str) -> None:
    """On the login page: fill in the form and land on the home page, logged in."""
    page.get_by_label(tr(locale, "E-mail address")).fill(email)
    page.get_by_label(tr(locale, "Password"), exact=True).fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name=tr(locale, "Log in"), exact=True).click()

    expect(page).to_have_url(path_is(live_server, "/"))
    expect_flash(page, tr(locale, "Welcome back, %(name)s!", name=pseudonym))
    nav = header_nav(page, locale)
    expect(nav.get_by_role("button", name=tr(locale, "Log out"), exact=True)).to_be_visible()
    expect(nav.get_by_role("link", name=tr(locale, "Log in"), exact=True)).to_have_count(0)
    expect_language(page, locale)
    check(page)


@pytest.mark.parametrize("lang", ["de", "en"])
def test_account_journey(app, phone, check, live_server, mailbox, lang):
    from consult.accounts.models import User
    from consult.extensions import db

    other = OTHER[lang]
    email = f"journey-{lang}@example.org"
    pseudonym = f"Journey {lang.upper()}"
    page = phone(BROWSER_LOCALE[lang])

    register(page, check, live_server, lang, email, pseudonym)
    verify_from_mail(page, check, live_server, mailbox, lang, email)
    log_in(page, check, live_server, lang, email, pseudonym)

    header_nav(page, lang).get_by_role("link", name=tr(lang, "My account"), exact=True).click()
    expect(page).to_have_url(path_is(live_server, "/account/profile"))
    expect_heading(page, tr(lang, "My account"))
    expect(page.get_by_role("main")).to_contain_text(email)
    check(page)

    # The switcher in the header: a logged-in user changes their setting, and stays put.
    switcher = page.locator("header .lang-switch")
    header_before = page.locator("header").inner_text()
    switcher.get_by_role("button", name=LANGUAGE_NAMES[other]).click()
    expect(page).to_have_url(path_is(live_server, "/account/profile"))
    expect_language(page, other)
    assert page.locator("header").inner_text() != header_before
    expect(switcher.get_by_role("button", name=LANGUAGE_NAMES[lang])).to_be_visible()
    expect(switcher.get_by_role("button", name=LANGUAGE_NAMES[other])).to_have_count(0)
    expect_heading(page, tr(other, "My account"))
    expect(page.get_by_label(tr(other, "Language for e-mails and pages"))).to_have_value(other)
    expect(
        header_nav(page, other).get_by_role("button", name=tr(other, "Log out"), exact=True)
    ).to_be_visible()
    check(page)
    db.session.expire_all()
    assert db.session.execute(db.select(User.locale).filter_by(email=email)).scalar_one() == other

    header_nav(page, other).get_by_role("button", name=tr(other, "Log out"), exact=True).click()
    expect(page).to_have_url(path_is(live_server, "/"))
    expect_flash(page, tr(other, "You have been logged out."))
    nav = header_nav(page, other)
    expect(nav.get_by_role("link", name=tr(other, "Log in"), exact=True)).to_be_visible()
    expect(nav.get_by_role("button", name=tr(other, "Log out"), exact=True)).to_have_count(0)
    expect_language(page, other)
    expect_heading(page, home_heading(other))
    check(page)

    # Logged out, the choice outlives the session although Accept-Language says otherwise.
    page.goto("/account/login")
    expect_language(page, other)
    expect_heading(page, tr(other, "Log in"))
    check(page)
    page.goto("/account/profile")
    expect(page).to_have_url(re.compile(re.escape(live_server("/account/login")) + r"\?next="))
    expect_language(page, other)
    check(page)


def test_login_page_works_with_the_keyboard(app, phone, check, live_server, make_user):
    make_user(email="keys@example.org", pseudonym="Keyboard User", password=PASSWORD, locale="en")
    page = phone("en-GB")
    page.goto("/account/login")
    check(page)

    # The first Tab stop is the skip link, visible when focused; it moves focus to <main>.
    page.keyboard.press("Tab")
    skip = page.locator("a.skip-link")
    expect_focus(skip)
    expect(skip).to_have_text(tr("en", "Skip to content"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("main")).to_be_focused()

    # From there, Tab walks through the form in order, each stop with a visible focus,
    # and Space ticks the checkbox.
    main = page.get_by_role("main")
    page.keyboard.press("Tab")
    expect_focus(main.get_by_label("E-mail address"))
    page.keyboard.type("keys@example.org")
    page.keyboard.press("Tab")
    expect_focus(main.get_by_label("Password", exact=True))
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Tab")
    remember = main.get_by_label("Stay logged in on this device")
    expect_focus(remember)
    page.keyboard.press("Space")
    expect(remember).to_be_checked()
    page.keyboard.press("Tab")
    expect_focus(main.get_by_role("button", name="Log in", exact=True))

    # Enter in a text field submits the form.
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    expect(main.get_by_label("Password", exact=True)).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(path_is(live_server, "/"))
    expect_flash(page, "Welcome back, Keyboard User!")
    check(page)
    assert "remember_token" in {c["name"] for c in page.context.cookies()}


def test_register_and_log_in_without_javascript(app, phone, check, live_server, mailbox):
    email = "no-script@example.org"
    pseudonym = "No Script"
    page = phone("en-GB", javascript=False)

    register(page, check, live_server, "en", email, pseudonym)
    verify_from_mail(page, check, live_server, mailbox, "en", email)
    log_in(page, check, live_server, "en", email, pseudonym)
