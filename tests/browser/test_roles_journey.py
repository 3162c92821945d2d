"""Staff remove a role at a desk without JavaScript: the page asks first and says what the
removal means; the person then reads the true reason why they may not take part; staff read
the German audit log as sentences with links.

Every page is checked by ``check`` (axe-core WCAG 2.1 AA, CSP, no third-party requests).
"""

import re

import pytest
from browser_support import enter_code
from flask import current_app
from flask_babel import force_locale, gettext
from playwright.sync_api import expect
from testdata import PASSWORD
from voting.voting_support import make_challenge, make_idea

from consult.accounts.models import User
from consult.extensions import db

pytestmark = pytest.mark.browser


def tr(msgid: str, **values) -> str:
    with force_locale("de"):
        return gettext(msgid, **values)


def log_in(page, check, user) -> None:
    page.goto("/account/login")
    check(page)
    page.get_by_label(tr("E-mail address")).fill(user.email)
    page.get_by_label(tr("Password"), exact=True).fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name=tr("Log in"), exact=True).click()
    enter_code(page, check, "de", user)
    expect(page.locator("html")).to_have_attribute("lang", "de")
    check(page)


def test_staff_confirm_a_role_removal_and_read_it_in_the_audit_log(
    app, make_user, phone, check, live_server
):
    challenge = make_challenge(budget=3)
    idea = make_idea(challenge, title="Bäume am Markt")
    staff = make_user(email="team@stadt.example", pseudonym="KoSI Team", roles=("staff",))
    anna = make_user(email="anna@example.org", pseudonym="Anna", roles=("citizen",))
    citizen = tr("Citizen")

    # Staff, at a desk, with JavaScript off: the confirmation is a page of its own.
    desk = phone("de-DE", javascript=False, desktop=True)
    log_in(desk, check, staff)
    desk.goto("/staff/users?q=Anna")
    check(desk)
    desk.get_by_role(
        "button", name=tr("Revoke role %(role)s from %(name)s", role=citizen, name="Anna")
    ).click()
    heading = tr("Remove the role %(role)s from %(name)s?", role=citizen, name="Anna")
    expect(desk.get_by_role("heading", level=1)).to_have_text(heading)
    expect(desk.get_by_role("main")).to_contain_text(
        tr(
            "%(name)s will no longer be able to %(abilities)s.",
            name="Anna",
            abilities=tr("submit ideas, comment, vote or ask for the results by mail"),
        )
    )
    check(desk)
    db.session.expire_all()
    assert db.session.get(User, anna.id).roles == {"citizen"}  # asking changed nothing
    desk.get_by_role("button", name=tr("Remove the role %(role)s", role=citizen)).click()
    expect(desk.locator("main")).to_contain_text(
        tr("%(name)s no longer has the role %(role)s.", name="Anna", role=citizen)
    )
    check(desk)
    db.session.expire_all()
    assert db.session.get(User, anna.id).roles == set()

    # Anna, on her phone, is told the truth, not to confirm an address she confirmed long ago.
    mobile = phone("de-DE")
    log_in(mobile, check, anna)
    mobile.goto(f"/ideas/{idea.id}")
    refusal = tr(
        "Your account may not take part at the moment: it does not have the citizen role. "
        "If you think this is a mistake, please write to %(email)s.",
        email=current_app.config["CONTACT_EMAIL"],
    )
    expect(mobile.get_by_role("main")).to_contain_text(refusal)
    expect(mobile.get_by_role("main")).not_to_contain_text("bestätigen Sie")
    check(mobile)

    # The German audit log: one sentence per change, with links, no stored values.
    desk.goto("/staff/audit")
    entry = desk.locator(".audit-log li").first
    expect(entry).to_contain_text(
        tr(
            "%(actor)s took the role %(role)s away from %(user)s.",
            actor="KoSI Team",
            role=citizen,
            user="Anna",
        )
    )
    expect(entry.get_by_role("link", name="Anna")).to_have_attribute("href", "/staff/users?q=Anna")
    text = desk.locator(".audit-log").inner_text()
    assert not re.search(r"None|[\[\]{}']|role:|citizen\b", text), text
    check(desk)
    # Words wrap between words: no letter-by-letter breaking in the log.
    assert desk.locator(".audit-log").evaluate("e => getComputedStyle(e).overflowWrap") == (
        "break-word"
    )
