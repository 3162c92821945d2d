"""Merging a duplicate, in German and English: staff at a desk go from the challenge's
staff page to the merge, check what will move and merge; a citizen on a 390 px phone opens
the duplicate's old link, lands on the idea that stays, sees both authors credited and
their vote still counted. Every page is checked by ``check`` (axe-core, CSP, hosts).
"""

import re

import pytest
from browser_support import log_in, tr
from flask_babel import force_locale, ngettext
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

BROWSER_LOCALE = {"de": "de-DE", "en": "en-GB"}


@pytest.fixture
def world(app, make_user, locale):
    from merging.merging_support import merge_world, vote

    from consult.extensions import db

    w = merge_world(make_user, budget=3)
    w.staff.locale = locale
    db.session.commit()
    citizen = make_user(email="vera@example.org", pseudonym="Vera", locale=locale)
    vote(citizen, w.source)
    return w, citizen


@pytest.mark.parametrize("locale", ["de", "en"])
def test_staff_merge_a_duplicate_and_its_old_link_leads_to_the_idea_that_stays(
    app, phone, check, live_server, world, locale
):
    w, citizen = world
    desk = phone(BROWSER_LOCALE[locale], desktop=True)
    log_in(desk, check, locale, w.staff)
    desk.goto(f"/staff/challenges/{w.challenge.id}/edit")
    check(desk)
    desk.get_by_role("link", name=tr(locale, "Merge duplicate ideas")).click()
    check(desk)
    desk.locator(f'a[href="/staff/challenges/{w.challenge.id}/ideas/{w.source.id}/merge"]').click()
    expect(desk.get_by_role("heading", level=1)).to_have_text(tr(locale, "Merge a duplicate idea"))
    check(desk)
    desk.get_by_label(tr(locale, "Idea to keep")).select_option(str(w.target.id))
    desk.get_by_label(tr(locale, "Department")).fill("Grünflächenamt")
    desk.get_by_label(tr(locale, "Why the ideas were merged (German)")).fill(
        "Beide Ideen wollen mehr Bäume am Markt."
    )
    desk.get_by_role("button", name=tr(locale, "Check the merge")).click()
    expect(desk.get_by_role("heading", level=1)).to_have_text(tr(locale, "Confirm the merge"))
    with force_locale(locale):
        moves = ngettext("%(num)d vote moves to the idea that stays.",
                         "%(num)d votes move to the idea that stays.", 1)  # fmt: skip
    expect(desk.locator("main")).to_contain_text(moves)
    check(desk)
    desk.get_by_role("button", name=tr(locale, "Merge the ideas")).focus()
    desk.keyboard.press("Enter")  # by keyboard
    expect(desk).to_have_url(re.compile(rf"/ideas/{w.target.id}$"))
    expect(desk.locator("main .flashes")).to_contain_text(
        tr(locale, "The ideas are merged. This is the idea that stays.")
    )
    check(desk)

    # The citizen follows the old link on a phone.
    page = phone(BROWSER_LOCALE[locale])
    log_in(page, check, locale, citizen)
    page.goto(f"/ideas/{w.source.id}")
    expect(page).to_have_url(re.compile(rf"/ideas/{w.target.id}\?merged_from={w.source.id}$"))
    expect(page.locator("main .notice").first).to_contain_text(
        tr(locale, "The idea you opened has been merged into this one:")
    )
    expect(page.get_by_role("heading", level=1)).to_have_text(w.target.title)
    facts = page.locator("dl.idea-facts")
    expect(facts).to_contain_text("Bob")
    expect(facts).to_contain_text(tr(locale, "Also proposed by"))
    expect(facts).to_contain_text("Alice")
    button = page.locator(f'form[data-idea="{w.target.id}"] button')
    expect(button).to_have_attribute("aria-pressed", "true")
    with force_locale(locale):
        counted = ngettext("%(num)d vote", "%(num)d votes", 1)
    expect(page.locator(f"#votes-{w.target.id}")).to_contain_text(counted)
    check(page)
