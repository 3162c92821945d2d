"""The notifications journey on a phone, in German and English: a citizen follows a
challenge from its page, opens the mail settings from there, switches the reminder before
voting closes off and the weekly digest on (with the keyboard), and stops following the
challenge from the settings page. Every page is checked by ``check`` (axe-core WCAG 2.1
AA, CSP, no third-party requests)."""

import pytest
from browser_support import log_in, tr
from playwright.sync_api import expect

from consult.extensions import db
from consult.notifications.models import ChallengeFollower
from consult.notifications.services import unsubscribe_url

pytestmark = pytest.mark.browser

BROWSER_LOCALE = {"de": "de-DE", "en": "en-GB"}


@pytest.fixture
def world(app, make_user, locale):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent.parent / "voting"))
    from voting_support import DAY, make_challenge

    challenge = make_challenge(opens=DAY, closes=6 * DAY)
    citizen = make_user(email="folgt@example.org", pseudonym="Fiona", locale=locale)
    return challenge, citizen


@pytest.mark.parametrize("locale", ["de", "en"])
def test_a_citizen_follows_a_challenge_and_chooses_the_mails(
    app, phone, check, live_server, world, locale
):
    challenge, citizen = world
    page = phone(BROWSER_LOCALE[locale])
    log_in(page, check, locale, citizen)

    page.goto(f"/challenges/{challenge.id}")
    check(page)
    page.get_by_role("button", name=tr(locale, "Follow this challenge")).click()
    expect(page.locator("main .flashes")).to_contain_text(
        tr(
            locale,
            "You follow this challenge. We will mail you when voting opens, a day before it closes and when the results are out.",
        )  # fmt: skip
    )
    expect(page.get_by_role("button", name=tr(locale, "Stop following this challenge"))).to_be_visible()  # fmt: skip
    check(page)

    page.locator("#follow").get_by_role("link", name=tr(locale, "Mail settings")).click()
    expect(page.locator("main h1")).to_have_text(tr(locale, "Mail settings"))
    check(page)
    closes = page.get_by_label(tr(locale, "Voting closes in 24 hours in a challenge I follow, while I have votes left"))  # fmt: skip
    expect(closes).to_be_checked()
    closes.uncheck()
    # The digest and the save button with the keyboard alone.
    digest = page.get_by_label(tr(locale, "One mail a week with all of these instead of single mails"))  # fmt: skip
    expect(digest).not_to_be_checked()
    digest.focus()
    page.keyboard.press("Space")
    expect(digest).to_be_checked()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name=tr(locale, "Save"), exact=True)).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main .flashes")).to_contain_text(tr(locale, "Your mail settings have been saved."))  # fmt: skip
    check(page)
    expect(closes).not_to_be_checked()
    expect(digest).to_be_checked()
    db.session.expire_all()
    stored = db.session.get(type(citizen), citizen.id)
    assert stored.digest_weekly and not stored.notify_voting_closes and stored.notify_voting_opens

    # The followed challenge is listed, and can be left from here.
    followed = page.locator("#followed")
    expect(followed.get_by_role("link", name=challenge.text("title", locale)[0])).to_be_visible()
    followed.get_by_role("button", name=tr(locale, "Stop following")).click()
    expect(page.locator("main .flashes")).to_contain_text(
        tr(locale, "You no longer follow this challenge. We will not mail you about it.")
    )
    expect(page.locator("#followed")).to_contain_text(
        tr(
            locale,
            "You do not follow any challenge yet. Use the Follow button on a challenge's page.",
        )  # fmt: skip
    )
    check(page)
    db.session.expire_all()
    assert db.session.get(ChallengeFollower, (challenge.id, citizen.id)) is None

    # The unsubscribe link of a mail, opened on a phone that is not logged in: a button
    # first (a link scanner's GET changes nothing), then the answer.
    link = phone(BROWSER_LOCALE[locale])
    link.goto(unsubscribe_url(citizen, "answers"))
    check(link)
    link.get_by_role("button", name=tr(locale, "Stop these mails")).click()
    expect(link.locator("main p[role=status]")).to_have_text(
        tr(locale, "You will no longer receive these mails.")
    )
    check(link)
    db.session.expire_all()
    assert not db.session.get(type(citizen), citizen.id).notify_answers
