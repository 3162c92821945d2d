"""The public pages on a phone (390×844 and 320 px wide), in German and English, measured in
the browser: the header is one line, search and filters do not push the ideas down, the
answer to a vote appears (and is announced) at the button that was tapped, voted and
not-voted buttons look different, the budget is shown once. Every page passes ``check``
(axe-core WCAG 2.1 AA, CSP, no third-party requests)."""

import re
from datetime import timedelta

import pytest
from flask_babel import force_locale, gettext
from playwright.sync_api import expect
from testdata import PASSWORD

from consult.challenges.models import Category
from consult.clock import now
from consult.districts import District
from consult.extensions import db
from consult.ideas.models import Idea
from consult.text import render_markdown

pytestmark = pytest.mark.browser

BROWSER_LOCALE = {"de": "de-DE", "en": "en-GB"}
BUDGET = 2
IDEAS = 8
# One line of header: a 44 px touch target and the header's padding (0.5rem top and bottom).
HEADER_ONE_LINE = 64
# From the top of the "Ideas" heading to the first idea: heading, "Search and filter",
# the number of ideas and the budget. Unfolded, the four fields alone took 450 px.
IDEAS_BELOW_HEADING = 260
# Where the first idea may start on the screen when the list is opened at #ideas.
FIRST_IDEA_ON_SCREEN = 844 // 3
# How far below the tapped button its answer may start.
NOTE_BELOW_BUTTON = 40
SECONDS = re.compile(r"\b\d{1,2}:\d{2}:\d{2}\b")


def tr(locale: str, msgid: str, **values) -> str:
    with force_locale(locale):
        return gettext(msgid, **values)


def left(locale: str, n: int) -> str:
    return tr(locale, "%(left)d of %(budget)d votes left", left=n, budget=BUDGET)


@pytest.fixture
def world(app, make_user, locale):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent.parent / "voting"))
    from voting_support import make_challenge

    challenge = make_challenge(budget=BUDGET)
    db.session.add_all(
        [
            Category(challenge_id=challenge.id, name_de="Grün", name_en="Green", position=0),
            Category(challenge_id=challenge.id, name_de="Verkehr", name_en="Traffic", position=1),
            District(name="Innenstadt-West", position=0),
            District(name="Hörde", position=1),
        ]
    )
    body = "Mehr Bäume, mehr Schatten und Bänke für alle, die im Sommer draußen sitzen. " * 3
    t = now()
    ideas = []
    for n in range(1, IDEAS + 1):
        idea = Idea(
            challenge_id=challenge.id, title=f"Idee {n}", body=body,
            body_html=render_markdown(body), language="de", status="published",
            submitted_at=t, published_at=t - timedelta(minutes=n),
        )  # fmt: skip
        db.session.add(idea)
        ideas.append(idea)
    db.session.commit()
    citizen = make_user(email="vera@example.org", pseudonym="Vera", locale=locale)
    return challenge, ideas, citizen


def log_in(page, locale: str, citizen) -> None:
    page.goto("/account/login")
    page.get_by_label(tr(locale, "E-mail address")).fill(citizen.email)
    page.get_by_label(tr(locale, "Password"), exact=True).fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name=tr(locale, "Log in"), exact=True).click()
    expect(page).not_to_have_url(re.compile(r".*/account/login"))
    expect(page.get_by_role("main").get_by_role("heading", level=1)).to_be_visible()


def box(locator) -> dict:
    found = locator.bounding_box()
    assert found is not None, locator
    return found


def assert_header_is_one_line(page) -> None:
    # Measured once the page and its stylesheet have loaded, never a page in between.
    page.wait_for_load_state("load")
    header = box(page.locator(".site-header"))
    print(f"header at {page.viewport_size['width']} px: {header['height']:.0f} px high")
    assert header["height"] <= HEADER_ONE_LINE, header
    # Nothing sticks out to the side either.
    assert (
        page.evaluate("() => document.documentElement.scrollWidth") <= page.viewport_size["width"]
    )


def form_of(page, idea):
    return page.locator(f'form[data-idea="{idea.id}"]')


def background(locator) -> str:
    return locator.evaluate("(el) => getComputedStyle(el).backgroundColor")


def tap(page, locator) -> None:
    locator.scroll_into_view_if_needed()
    locator.click()


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
@pytest.mark.parametrize("locale", ["de", "en"])
def test_the_challenge_page_on_a_phone(phone, check, live_server, world, locale, javascript):
    challenge, ideas, citizen = world
    page = phone(BROWSER_LOCALE[locale], javascript=javascript)
    list_path = f"/challenges/{challenge.id}"

    # Visitors: the header is one line, at 390 and at 320 px; the menu opens without script.
    page.goto("/")
    assert_header_is_one_line(page)
    check(page)
    page.set_viewport_size({"width": 320, "height": 640})
    assert_header_is_one_line(page)
    menu = page.locator("details.nav-menu")
    menu.locator("summary").focus()
    page.keyboard.press("Enter")  # a keyboard opens it too
    nav = page.get_by_role("navigation", name=tr(locale, "Main navigation"))
    expect(nav.get_by_role("link", name=tr(locale, "Register"), exact=True)).to_be_visible()
    check(page)
    page.set_viewport_size({"width": 390, "height": 844})

    log_in(page, locale, citizen)
    assert_header_is_one_line(page)
    page.goto(list_path)
    assert_header_is_one_line(page)
    check(page)

    # Search and filters are folded: the first idea follows the heading closely.
    heading = box(page.get_by_role("heading", name=tr(locale, "Ideas"), exact=True))
    first = box(page.locator("li.idea").first)
    print(f"first idea {first['y'] - heading['y']:.0f} px below the heading")
    assert first["y"] - heading["y"] <= IDEAS_BELOW_HEADING, (heading, first)
    # Arriving at the list (#ideas, where the list's own links lead), the first idea is in
    # the top third of the screen.
    page.goto(list_path + "#ideas")
    top = box(page.locator("li.idea").first)["y"]  # relative to the screen (viewport)
    print(f"first idea {top:.0f} px below the top of the screen at #ideas")
    assert 0 <= top <= FIRST_IDEA_ON_SCREEN, top
    page.get_by_text(tr(locale, "Search and filter"), exact=True).click()
    page.get_by_label(tr(locale, "District")).select_option(label="Hörde")
    page.get_by_role("button", name=tr(locale, "Show ideas"), exact=True).click()
    expect(page.locator("details.list-tools")).to_have_attribute("open", "")  # in use: open
    page.goto(list_path)

    # Voted and not voted differ by more than the label.
    tap(page, form_of(page, ideas[0]).locator("button"))
    expect(form_of(page, ideas[0]).locator("button")).to_have_attribute("aria-pressed", "true")
    voted = form_of(page, ideas[0]).locator("button")
    not_voted = form_of(page, ideas[1]).locator("button")
    print(f"voted {background(voted)}, not voted {background(not_voted)}")
    assert background(voted) != background(not_voted)
    check(page)

    # A withdrawal: its answer at the button, the budget once on the page.
    tap(page, form_of(page, ideas[0]).locator("button"))
    note = form_of(page, ideas[0]).locator("[data-vote-note]")
    expect(note).to_have_text(tr(locale, "Your vote has been withdrawn."))
    expect(note).to_be_in_viewport()
    assert page.locator("main").inner_text().count(left(locale, BUDGET)) == 1
    check(page)

    # Over the budget, at the bottom of the list: the answer is where the person tapped.
    for idea in ideas[:BUDGET]:
        tap(page, form_of(page, idea).locator("button"))
        expect(form_of(page, idea).locator("button")).to_have_attribute("aria-pressed", "true")
    last = form_of(page, ideas[-1])
    tap(page, last.locator("button"))
    expect(last.locator("[data-vote-note]")).not_to_be_empty()
    phone.recorder(page).forget()  # the refusal is a 409 answer, which the console reports
    if not javascript:
        assert page.url.endswith(f"#vote-{ideas[-1].id}")
    refused = tr(
        locale,
        "You have used all %(budget)d of your votes. Withdraw one to vote for this idea.",
        budget=BUDGET,
    )
    note = last.locator("[data-vote-note]")
    expect(note).to_have_text(refused)
    expect(note).to_have_attribute("role", "status")
    expect(note).to_be_in_viewport()
    expect(last.locator("button")).to_be_in_viewport()
    gap = box(note)["y"] - (
        box(last.locator("button"))["y"] + box(last.locator("button"))["height"]
    )
    print(f"over-budget message {gap:.0f} px below the tapped button")
    assert 0 <= gap <= NOTE_BELOW_BUTTON, gap
    expect(page.locator(".flashes")).not_to_contain_text(refused)  # not a second time on top
    check(page)

    # No date on the page shows seconds.
    assert not SECONDS.search(page.locator("body").inner_text())
