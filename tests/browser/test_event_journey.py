"""A Helpathon evening in the browser, in German (on SQLite) and English (on PostgreSQL).

Staff create an event at a desk and open it, print its QR poster and put the wall on the
projector (1920×1080); three phones (390×844) join by code, one of them with JavaScript
off (it joins, posts and votes by plain forms); two post ideas; the moderator, on a phone,
approves one and merges the other, a duplicate, into it; the wall shows both without
reloading. Staff run a one-minute round, the phones vote, the round closes by the clock
(the server's clock and the wall's are moved together) and the wall shows the result.
Staff take the outcome into the challenge, and the idea pages show the event votes apart
from the online votes, with the total. Every page is checked by ``check`` (axe-core WCAG
2.1 AA, CSP, no third-party requests), the wall, poster, moderation, join and import pages
included.

With CONSULT_JOURNEY_SHOTS=<folder> set, screenshots of the wall and of a phone's room and
voting screen are written there (not in CI).
"""

import os
import re
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

import pytest
from browser_support import log_in, tr
from flask_babel import force_locale, ngettext
from playwright.sync_api import expect
from sqlalchemy import select

from consult.clock import now, travel
from consult.events.models import Event
from consult.extensions import db
from consult.ideas.models import Idea

pytestmark = pytest.mark.browser

BROWSER_LOCALE = {"de": "de-DE", "en": "en-GB"}
LANGUAGE_NAME = {"de": "Deutsch", "en": "English"}
WALL = {"width": 1920, "height": 1080}
SHOTS = os.environ.get("CONSULT_JOURNEY_SHOTS")
FOUNTAIN = "Trinkbrunnen am Marktplatz"
DUPLICATE = "Wasserspender auf dem Markt"


@pytest.fixture
def world(app, make_user, locale):
    from voting.voting_support import make_challenge, make_idea

    from consult.voting.models import Vote

    challenge = make_challenge(budget=3, count_paper_votes=True)
    library = make_idea(challenge, title="Stadtteilbibliothek länger öffnen")
    staff = make_user(email="team@stadt.example", pseudonym="Amt", roles=("staff",), locale=locale)
    moderator = make_user(
        email="moderation@stadt.example", pseudonym="Moritz", roles=("moderator",), locale=locale
    )
    # One online vote for the library, so that its page shows both kinds of votes.
    voter = make_user(email="vera@example.org", pseudonym="Vera", locale=locale)
    db.session.add(Vote(challenge_id=challenge.id, idea_id=library.id, user_id=voter.id))
    library.vote_count = 1
    db.session.commit()
    return challenge, library, staff, moderator


def berlin_input(moment) -> str:
    """A ``datetime-local`` value in Berlin time."""
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo("Europe/Berlin")).strftime("%Y-%m-%dT%H:%M")


def shot(page, locale: str, name: str, full_page: bool = True) -> None:
    if SHOTS:
        folder = Path(SHOTS)
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / f"{locale}-{name}.png"), full_page=full_page)


def window(phone, page, viewport: dict):
    """Another window of ``page``'s browser (same login), watched like every page."""
    other = page.context.new_page()
    other.set_viewport_size(viewport)
    recorder = phone.recorder(page)
    other.on("console", recorder.on_console)
    other.on("pageerror", recorder.on_page_error)
    return other


def count_detail(locale: str, total: int, online: int, event: int) -> str:
    with force_locale(locale):
        return ngettext(
            "%(num)d vote: %(online)d online, %(event)d at events",
            "%(num)d votes: %(online)d online, %(event)d at events",
            total,
            online=online,
            event=event,
        )


def join(page, check, locale: str, name: str, code: str | None = None) -> None:
    """From the code page (``code``) or the QR's address (already open) to the room."""
    if code is not None:
        page.goto("/join")
        check(page)
        page.get_by_label(tr(locale, "Event code")).fill(code)
        page.get_by_role("button", name=tr(locale, "Continue")).click()
    expect(page.get_by_label(tr(locale, "Your name for this event"))).to_be_visible()
    check(page)
    page.get_by_label(tr(locale, "Your name for this event")).fill(name)
    page.get_by_label(LANGUAGE_NAME[locale], exact=True).check()
    page.get_by_label(tr(locale, "I have read the privacy note and want to join.")).check()
    page.get_by_role("main").get_by_role("button", name=tr(locale, "Join"), exact=True).click()
    expect(page.locator("main")).to_contain_text(
        tr(locale, "You take part as %(name)s.", name=name)
    )
    check(page)


def post_idea(page, check, locale: str, title: str, text: str) -> None:
    form = page.locator("form", has=page.get_by_label(tr(locale, "Title"), exact=True))
    form.get_by_label(tr(locale, "Title"), exact=True).fill(title)
    form.locator("textarea").fill(text)
    form.get_by_role("button", name=tr(locale, "Send idea")).click()
    expect(page.locator("main")).to_contain_text(tr(locale, "Waiting for moderation"))
    check(page)


def give_dot(page, check, locale: str, title: str) -> None:
    idea = page.locator("#round li", has=page.get_by_role("heading", name=title))
    idea.get_by_role("button", name=tr(locale, "Give a dot")).click()
    expect(
        page.locator("#round li", has=page.get_by_role("heading", name=title)).get_by_role("button")
    ).to_have_attribute("aria-pressed", "true")
    check(page)


@pytest.mark.parametrize("locale", ["de", "en"])
def test_a_helpathon_evening(app, phone, check, live_server, world, locale):
    challenge, library, staff, moderator = world
    browser_locale = BROWSER_LOCALE[locale]
    stack = ExitStack()

    # --- staff create the event at a desk and open it --------------------------------------
    desk = phone(browser_locale, desktop=True)
    log_in(desk, check, locale, staff)
    desk.goto(f"/staff/challenges/{challenge.id}/events")
    check(desk)
    desk.get_by_label(tr(locale, "Title (German)")).fill("Helpathon im Rathaus")
    desk.get_by_label(tr(locale, "Title (English)")).fill("Helpathon at the town hall")
    desk.get_by_label(tr(locale, "Place"), exact=True).fill("Rathaus, Bürgersaal")
    desk.get_by_label(tr(locale, "Starts")).fill(berlin_input(now() - timedelta(minutes=10)))
    desk.get_by_label(tr(locale, "Ends")).fill(berlin_input(now() + timedelta(hours=3)))
    desk.get_by_role("button", name=tr(locale, "Create event")).click()
    expect(desk.locator("main .flashes")).to_contain_text(
        tr(locale, "The event has been created. Open it when the room is ready.")
    )
    check(desk)
    desk.get_by_role("button", name=tr(locale, "Open the event")).click()
    expect(desk.locator("main .flashes")).to_contain_text(
        tr(locale, "The event is open: people can join.")
    )
    check(desk)
    event = db.session.scalar(select(Event))
    code = event.join_code
    control = f"/staff/events/{event.id}"
    expect(desk.locator("code.event-code")).to_have_text(code)

    desk.get_by_role("link", name=tr(locale, "QR poster (A4)")).click()
    expect(desk.locator("main")).to_contain_text(code)
    expect(desk.locator("main svg, main img").first).to_be_visible()
    check(desk)

    # --- the wall on the projector: another window of the staff login ----------------------
    wall = window(phone, desk, WALL)
    wall.clock.install()  # the wall's countdown is moved with the server's clock below
    wall.goto(f"/events/{event.id}/wall")
    expect(wall.locator("#wall-code")).to_have_text(code)
    expect(wall.locator("#wall-no-ideas")).to_be_visible()
    check(wall)
    wall.evaluate("() => { window.stillTheSamePage = true; }")  # gone if the wall reloads

    # --- three phones join: by typing the code, by the QR's address, without JavaScript ----
    anna = phone(browser_locale)
    join(anna, check, locale, "Anna", code=code)
    ben = phone(browser_locale)
    ben.goto(f"/j/{code}")
    join(ben, check, locale, "Ben")
    carl = phone(browser_locale, javascript=False)
    join(carl, check, locale, "Carl", code=code.lower())

    # --- two post ideas (Carl's is a duplicate of Anna's) ----------------------------------
    post_idea(anna, check, locale, FOUNTAIN, "Ein Brunnen mit Trinkwasser für heiße Tage.")
    post_idea(carl, check, locale, DUPLICATE, "Kostenloses Wasser im Sommer, bitte!")
    fountain = db.session.scalar(select(Idea).where(Idea.title == FOUNTAIN))
    duplicate = db.session.scalar(select(Idea).where(Idea.title == DUPLICATE))

    # --- the moderator, on a phone: approve one, merge the duplicate into it --------------
    mod = phone(browser_locale)
    log_in(mod, check, locale, moderator)
    mod.goto(f"/events/{event.id}/moderation")
    check(mod)
    mod.locator(f"#idea-{fountain.id}").get_by_role("button", name=tr(locale, "Approve")).click()
    expect(wall.locator("#wall-ideas")).to_contain_text(FOUNTAIN)  # pushed, not reloaded
    check(mod)
    card = mod.locator(f"#idea-{duplicate.id}")
    card.locator("summary", has_text=tr(locale, "Merge into another idea")).click()
    card.get_by_label(tr(locale, "Merge into")).select_option(str(fountain.id))
    card.get_by_role("button", name=tr(locale, "Merge"), exact=True).click()
    expect(mod.locator("main")).not_to_contain_text(DUPLICATE)
    check(mod)
    credit = wall.locator(".wall-idea", has_text=FOUNTAIN).locator(".wall-idea-names")
    expect(credit).to_contain_text("Anna")
    expect(credit).to_contain_text("Carl")
    assert wall.evaluate("() => window.stillTheSamePage") is True
    check(wall)

    # --- staff run a one-minute round; the phones vote -------------------------------------
    desk.goto(control)
    check(desk)
    desk.get_by_label(tr(locale, "Duration in minutes")).fill("1")
    desk.get_by_label(tr(locale, "Dots per person")).fill("3")
    desk.get_by_label(tr(locale, "Ideas to vote on")).select_option("challenge")
    desk.get_by_role("button", name=tr(locale, "Start a round")).click()
    expect(desk.locator("main .flashes")).to_contain_text(
        tr(locale, "Round %(number)d has started.", number=1)
    )
    check(desk)
    expect(wall.locator("#wall-round-title")).to_contain_text(
        tr(locale, "Round %(number)s", number=1)
    )
    before, after = tr(locale, "%(time)s left", time="TIME").split("TIME")
    expect(wall.locator("#wall-countdown")).to_have_text(
        re.compile("^" + re.escape(before) + r"(1:00|0:[0-5]\d)" + re.escape(after) + "$")
    )
    # Staff let the wall show the running tally while the round runs.
    desk.get_by_role("button", name=tr(locale, "Show the running tally")).click()
    expect(desk.get_by_role("button", name=tr(locale, "Hide the running tally"))).to_be_visible()
    check(desk)
    expect(wall.locator("#wall-tally-note")).to_have_text(tr(locale, "No dots yet."))

    for page in (anna, ben, carl):
        page.reload()
    check(anna)
    give_dot(anna, check, locale, FOUNTAIN)
    give_dot(anna, check, locale, library.title)
    shot(anna, locale, "phone-voting", full_page=False)
    give_dot(ben, check, locale, FOUNTAIN)
    give_dot(carl, check, locale, FOUNTAIN)
    give_dot(carl, check, locale, library.title)
    expect(carl.locator("#round .vote-budget")).to_have_text(
        tr(locale, "%(left)d of %(budget)d dots left", left=1, budget=3)
    )
    with force_locale(locale):
        three = ngettext("%(num)s dot", "%(num)s dots", 3)
        two = ngettext("%(num)s dot", "%(num)s dots", 2)
    rows = wall.locator("#wall-tally .wall-tally-row")
    expect(rows.nth(0).locator(".wall-tally-count")).to_have_text(three)  # pushed, live
    expect(rows.nth(1).locator(".wall-tally-count")).to_have_text(two)
    shot(wall, locale, "wall-round", full_page=False)

    # --- the round closes by the clock; the wall shows the result -------------------------
    stack.enter_context(travel(timedelta(seconds=61)))
    with stack:
        wall.clock.fast_forward(61_000)
        expect(wall.locator("#wall-round-title")).to_have_text(
            tr(locale, "Result of round %(number)s", number=1)
        )
        expect(wall.locator("#wall-countdown")).to_have_text(tr(locale, "Voting has ended."))
        expect(rows).to_have_count(2)
        expect(rows.nth(0)).to_contain_text(FOUNTAIN)
        expect(rows.nth(0).locator(".wall-tally-count")).to_have_text(three)
        expect(rows.nth(1)).to_contain_text(library.title)
        expect(rows.nth(1).locator(".wall-tally-count")).to_have_text(two)
        assert wall.evaluate("() => window.stillTheSamePage") is True
        check(wall)
        shot(wall, locale, "wall", full_page=False)

        anna.reload()
        expect(anna.locator("#round")).to_contain_text(
            tr(locale, "Results of round %(number)d", number=1)
        )
        check(anna)
        shot(anna, locale, "phone-room")

        # --- staff take the outcome into the challenge ---------------------------------------
        desk.goto(control)
        check(desk)
        desk.get_by_role("link", name=tr(locale, "Take the event into the challenge…")).click()
        check(desk)
        desk.get_by_role("main").get_by_role(
            "button", name=tr(locale, "Take the event into the challenge")
        ).click()
        with force_locale(locale):
            taken = ngettext(
                "The event is now part of the challenge: %(num)d idea and %(votes)d event votes.",
                "The event is now part of the challenge: %(num)d ideas and %(votes)d event votes.",
                1, votes=5,
            )  # fmt: skip
        expect(desk.locator("main .flashes")).to_contain_text(taken)
        check(desk)
        db.session.expire_all()
        assert (fountain.status, fountain.origin) == ("published", "event")
        assert duplicate.status == "merged"

        # --- the idea pages: event votes apart from online votes, and the total ------------
        anna.goto(f"/ideas/{library.id}")
        expect(anna.locator(f"#votes-{library.id}")).to_have_text(
            count_detail(locale, 3, online=1, event=2)
        )
        check(anna)
        anna.goto(f"/ideas/{fountain.id}")
        expect(anna.locator(f"#votes-{fountain.id}")).to_have_text(
            count_detail(locale, 3, online=0, event=3)
        )
        expect(anna.locator("main")).to_contain_text(
            tr(locale, "From the event %(name)s", name="Helpathon im Rathaus")
        )
        check(anna)
