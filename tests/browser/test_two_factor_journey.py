"""Two factors for staff, in German and English, at a desk: a staff member without TOTP logs
in, opens a staff page and lands on the set-up; adds the key to an "authenticator" (pyotp
reads the key shown on the page), confirms a first code, sees the ten recovery codes once
and reaches the staff page; logs out and in again with a code.

Every page is checked by ``check`` (axe-core WCAG 2.1 AA, CSP, no third-party requests).
With CONSULT_SCREENSHOT_DIR=<folder> set, screenshots of the set-up, the recovery codes
and the code step are kept there.
"""

import os
import re
from datetime import timedelta
from pathlib import Path

import pyotp
import pytest
from browser_support import log_in, main_nav, tr
from playwright.sync_api import expect

from consult.clock import now, travel
from consult.two_factor.services import STEP

pytestmark = pytest.mark.browser

BROWSER_LOCALE = {"de": "de-DE", "en": "en-GB"}


def shot(page, locale: str, name: str) -> None:
    folder = os.environ.get("CONSULT_SCREENSHOT_DIR")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"two-factor-{name}-{locale}.png"), full_page=True)


@pytest.mark.parametrize("locale", ["de", "en"])
def test_staff_set_up_two_factors_and_log_in_with_a_code(
    app, phone, check, live_server, make_user, locale
):
    staff = make_user(
        email="team@stadt.example",
        pseudonym="KoSI Team",
        roles=("citizen", "staff"),
        locale=locale,
        totp=False,
    )
    desk = phone(BROWSER_LOCALE[locale], desktop=True)
    log_in(desk, check, locale, staff)  # no code yet: TOTP is not on

    # A staff page stays closed: it sends to the set-up, which leads back afterwards.
    desk.goto("/staff/users")
    heading = tr(locale, "Set up two-factor authentication")
    expect(desk.get_by_role("heading", level=1)).to_have_text(heading)
    expect(desk.get_by_role("img", name=tr(locale, "QR code for your app"))).to_be_visible()
    check(desk)
    shot(desk, locale, "setup")
    # The person types the key shown on the page into an app; pyotp plays that app.
    key = desk.locator("code.totp-secret").inner_text().replace(" ", "")
    desk.get_by_label(tr(locale, "Six-digit code from the app")).fill(pyotp.TOTP(key).at(now()))
    desk.get_by_role("button", name=tr(locale, "Turn on two-factor authentication")).click()

    expect(desk.get_by_role("heading", level=1)).to_have_text(tr(locale, "Your recovery codes"))
    codes = desk.locator("ol.recovery-codes li")
    expect(codes).to_have_count(10)
    assert re.fullmatch(r"[a-z2-9]{4}-[a-z2-9]{4}", codes.first.inner_text())
    check(desk)
    shot(desk, locale, "recovery-codes")
    desk.get_by_role("link", name=tr(locale, "I have kept my recovery codes, continue")).click()
    expect(desk.get_by_role("heading", level=1)).to_have_text(tr(locale, "Roles"))
    check(desk)

    # Out and in again: after the password, the code.
    nav = main_nav(desk, tr(locale, "Main navigation"))
    nav.get_by_role("button", name=tr(locale, "Log out")).click()
    desk.goto("/account/login?next=/staff/users")
    desk.get_by_label(tr(locale, "E-mail address")).fill(staff.email)
    desk.get_by_label(tr(locale, "Password"), exact=True).fill("a long and lovely passphrase")
    desk.get_by_role("main").get_by_role("button", name=tr(locale, "Log in"), exact=True).click()
    expect(desk.get_by_role("heading", level=1)).to_have_text(tr(locale, "Enter your code"))
    check(desk)
    shot(desk, locale, "code")
    # Half a minute later: a code from before the set-up is refused, the current one works.
    with travel(timedelta(seconds=STEP)):
        field = desk.get_by_label(tr(locale, "Code"), exact=True)
        field.fill(pyotp.TOTP(key).at(now() - timedelta(seconds=2 * STEP)))
        desk.get_by_role("main").get_by_role("button", name=tr(locale, "Continue")).click()
        expect(desk.locator("#code-error")).to_have_text(
            tr(locale, "This code is not correct. Please enter the current one.")
        )
        phone.recorder(desk).forget()  # the browser logs the 401 as a console error
        check(desk)
        field.fill(pyotp.TOTP(key).at(now()))
        desk.get_by_role("main").get_by_role("button", name=tr(locale, "Continue")).click()
        expect(desk.get_by_role("heading", level=1)).to_have_text(tr(locale, "Roles"))
        check(desk)
