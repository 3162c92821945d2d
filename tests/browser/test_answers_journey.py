"""The official answer journey, in German and English: staff at a desk find the ideas
waiting for an answer from the challenge's staff page and answer one; a citizen on a phone
(without JavaScript) filters the idea list by the answer's state and reads the answer on
the idea page.

Every page is checked by ``check`` (axe-core WCAG 2.1 AA, CSP, no third-party requests).
"""

import pytest
from browser_support import log_in, tr
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

BROWSER_LOCALE = {"de": "de-DE", "en": "en-GB"}


@pytest.fixture
def world(app, make_user, locale):
    from jury.jury_support import evaluation_challenge, make_idea

    challenge = evaluation_challenge()
    staff = make_user(email="team@stadt.example", pseudonym="Stadt Team",
                      roles=("citizen", "staff"), locale=locale)  # fmt: skip
    citizen = make_user(email="anna@example.org", pseudonym="Anna", locale=locale)
    ideas = [
        make_idea(challenge, "Bäume am Markt", author=citizen, submitted_days_ago=22),
        make_idea(challenge, "Trinkbrunnen", submitted_days_ago=21),
    ]
    return challenge, staff, citizen, ideas


@pytest.mark.parametrize("locale", ["de", "en"])
def test_staff_answer_an_idea_and_a_citizen_finds_and_reads_the_answer(
    app, phone, check, live_server, world, locale
):
    challenge, staff, citizen, ideas = world

    # Staff, at a desk: from the challenge's staff page to the ideas waiting for an answer.
    desk = phone(BROWSER_LOCALE[locale], desktop=True)
    log_in(desk, check, locale, staff)
    desk.goto(f"/staff/challenges/{challenge.id}/edit")
    check(desk)
    desk.get_by_role("link", name=tr(locale, "Official answers"), exact=True).click()
    check(desk)
    waiting = desk.locator("table")
    expect(waiting.get_by_role("row")).to_have_count(3)  # the header and two ideas
    row = waiting.get_by_role("row").filter(has_text="Bäume am Markt")
    row.get_by_role("link", name=tr(locale, "Write the answer")).click()
    check(desk)
    desk.get_by_label(tr(locale, "State"), exact=True).select_option(
        label=tr(locale, "Already planned")
    )
    desk.get_by_label(tr(locale, "Answer (German)")).fill(
        "Der Markt bekommt **zwölf Bäume** im Herbst."
    )
    desk.get_by_label(tr(locale, "Answer (English)")).fill(
        "The market gets **twelve trees** this autumn."
    )
    department = desk.get_by_label(tr(locale, "Department that answers"))
    department.fill("Grünflächenamt")
    # Sent from the keyboard, as many staff do.
    department.press("Enter")
    expect(desk.locator(".flash")).to_contain_text(
        tr(locale, "The answer has been saved. The author, followers and voters are told by mail.")
    )
    check(desk)
    expect(waiting.get_by_role("row")).to_have_count(2)  # one idea still waits

    # A citizen on a phone, without JavaScript: the idea list, filtered by the answer.
    mobile = phone(BROWSER_LOCALE[locale], javascript=False)
    log_in(mobile, check, locale, citizen)
    mobile.goto(f"/challenges/{challenge.id}")
    check(mobile)
    mobile.get_by_text(tr(locale, "Search and filter"), exact=True).click()
    mobile.get_by_label(tr(locale, "Official answer"), exact=True).select_option(
        label=tr(locale, "Already planned")
    )
    mobile.get_by_role("button", name=tr(locale, "Show ideas"), exact=True).click()
    check(mobile)
    listed = mobile.locator("ol.idea-list > li")
    expect(listed).to_have_count(1)
    expect(listed.first).to_contain_text("Bäume am Markt")
    expect(listed.first).to_contain_text(tr(locale, "Already planned"))
    listed.first.get_by_role("link", name="Bäume am Markt").click()
    check(mobile)
    box = mobile.get_by_role("region", name=tr(locale, "The city's answer"))
    expect(box).to_contain_text(tr(locale, "Already planned"))
    expect(box).to_contain_text("Grünflächenamt")
    if locale == "de":
        expect(box.locator('[lang="de"]')).to_contain_text("Der Markt bekommt zwölf Bäume")
    else:
        expect(box.locator('[lang="en"]')).to_contain_text("The market gets twelve trees")
    strong = "twelve trees" if locale == "en" else "zwölf Bäume"
    expect(box.locator("strong", has_text=strong)).to_have_count(1)
