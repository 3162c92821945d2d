"""Similar ideas before posting, on a phone, in German and English.

A citizen writes an idea that is already there in other words, presses "Check for similar
ideas" (without JavaScript), sees the existing idea, opens it in a new tab, and still
saves their own draft with nothing lost. With JavaScript the list appears while typing.
Every page is checked by ``check`` (axe-core WCAG 2.1 AA, CSP, no third-party requests).
"""

import pytest
from browser_support import log_in, tr
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

BROWSER_LOCALE = {"de": "de-DE", "en": "en-GB"}
EXISTING = {
    "de": ("Mehr Bänke am Westenhellweg", "Auf dem Westenhellweg fehlen Bänke zum Ausruhen."),
    "en": ("More benches in the pedestrian zone", "Benches to rest on while shopping."),
}
TYPED = {
    "de": ("Sitzbänke am Westenhellweg", "Bitte Bänke aufstellen, damit man sich ausruhen kann."),
    "en": ("Benches for the pedestrian zone", "Please put up benches so that people can rest."),
}
HEADING = "Is your idea already here? Vote for it instead"


@pytest.fixture
def world(app, make_user, locale):
    from similar.similar_support import make_challenge, make_idea

    challenge = make_challenge()
    existing = make_idea(challenge, *EXISTING[locale], language=locale)
    citizen = make_user(email="anna@example.org", pseudonym="Anna", locale=locale)
    return challenge, existing, citizen


@pytest.mark.parametrize("locale", ["de", "en"])
def test_a_citizen_finds_the_idea_already_there_before_posting(app, phone, check, world, locale):
    challenge, existing, citizen = world
    title, body = TYPED[locale]

    # Without JavaScript: the check button shows the form again, with the list.
    page = phone(BROWSER_LOCALE[locale], javascript=False)
    log_in(page, check, locale, citizen)
    page.goto(f"/challenges/{challenge.id}/ideas/new")
    check(page)
    page.get_by_label(tr(locale, "Title"), exact=True).fill(title)
    page.get_by_label(tr(locale, "Your idea"), exact=True).fill(body)
    page.get_by_role("button", name=tr(locale, "Check for similar ideas")).click()
    check(page)
    expect(page.get_by_role("heading", name=tr(locale, HEADING))).to_be_visible()
    expect(page.get_by_label(tr(locale, "Title"), exact=True)).to_have_value(title)
    expect(page.get_by_label(tr(locale, "Your idea"), exact=True)).to_have_value(body)
    link = page.get_by_role("link", name=existing.title)
    with page.expect_popup() as popup:
        link.click()
    idea_page = popup.value
    idea_page.wait_for_load_state()
    expect(idea_page.get_by_role("heading", level=1)).to_have_text(existing.title)
    check(idea_page)
    idea_page.close()

    # Their idea is something else after all: the draft is saved as usual.
    page.get_by_role("button", name=tr(locale, "Save draft")).click()
    check(page)
    expect(page.locator("main .flashes")).to_contain_text(
        tr(locale, "Your draft has been saved. Only you can see it until you submit it.")
    )

    # With JavaScript the list appears while typing, in a live region.
    page = phone(BROWSER_LOCALE[locale])
    log_in(page, check, locale, citizen)
    page.goto(f"/challenges/{challenge.id}/ideas/new")
    check(page)
    page.get_by_label(tr(locale, "Title"), exact=True).press_sequentially(title, delay=20)
    results = page.locator("#similar-results")
    expect(results).to_have_attribute("aria-live", "polite")
    expect(results.get_by_role("link", name=existing.title)).to_be_visible()
    check(page)
