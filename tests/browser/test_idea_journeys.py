"""The challenges-and-ideas journeys on a phone, in German and in English.

1. Staff create and schedule a challenge, add a category, and find it in the staff list
   and on the public page.
2. A verified citizen writes a draft with a photo, sees it as a draft only they see, and
   submits it (also once with JavaScript disabled).
3. A moderator publishes the idea; the author gets the mail.
4. A visitor finds the idea through the search box and the category and district filters.

Journeys 2-4 run on a challenge stored directly in the database, so they do not depend on
journey 1. Every page visited goes through ``check`` (see conftest.py): WCAG 2.1 AA via
axe-core, no third-party requests, no console or CSP errors.
"""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
from browser_support import enter_code, main_nav
from flask_babel import force_locale, gettext, ngettext
from PIL import Image as PILImage
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

PASSWORD = "a long and lovely passphrase"
BROWSER_LOCALE = {"de": "de-DE", "en": "en-GB"}
BERLIN = ZoneInfo("Europe/Berlin")
LOCAL_INPUT = "%Y-%m-%dT%H:%M"


# --- helpers ------------------------------------------------------------------------------


@pytest.fixture
def check(check, phone):
    """conftest's ``check``, plus: on a page without JavaScript, axe's scripted mirror
    gets the page's cookies first. A draft's photo is only served to its author, so a
    mirror without the author's session would load it as a 404 (a console error)."""

    def check_page(page) -> None:
        if not phone.recorder(page).javascript:
            if phone._mirror is None:
                phone.mirror(page)
            mirror = phone._mirror.context
            mirror.clear_cookies()
            mirror.add_cookies(page.context.cookies())
        check(page)

    return check_page


def tr(locale: str, msgid: str, **values) -> str:
    """``msgid`` as the app shows it in ``locale``."""
    with force_locale(locale):
        return gettext(msgid, **values)


def trn(locale: str, singular: str, plural: str, num: int) -> str:
    with force_locale(locale):
        return ngettext(singular, plural, num)


def path_is(live_server, path: str):
    return re.compile("^" + re.escape(live_server(path)) + r"(\?.*)?(#.*)?$")


def expect_heading(page, text) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(text)


def expect_flash(page, text: str) -> None:
    expect(page.locator("main .flashes")).to_contain_text(text)


def header_nav(page, locale: str):
    return main_nav(page, tr(locale, "Main navigation"))


def log_in(page, check, live_server, locale: str, user) -> None:
    """Log ``user`` in through the login page, as a person would."""
    page.goto("/account/login")
    check(page)
    page.get_by_label(tr(locale, "E-mail address")).fill(user.email)
    page.get_by_label(tr(locale, "Password"), exact=True).fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name=tr(locale, "Log in"), exact=True).click()
    enter_code(page, check, locale, user)
    expect(page).to_have_url(path_is(live_server, "/"))
    expect_flash(page, tr(locale, "Welcome back, %(name)s!", name=user.pseudonym))
    expect(page.locator("html")).to_have_attribute("lang", locale)
    check(page)


def photo_file(tmp_path) -> str:
    """A small JPEG, as a phone camera would make one."""
    image = PILImage.new("RGB", (120, 80), (40, 140, 60))
    for x in range(60):
        image.putpixel((x, 0), (0, 0, 255))
    out = BytesIO()
    image.save(out, "JPEG", quality=85)
    path = tmp_path / "schatten.jpg"
    path.write_bytes(out.getvalue())
    return str(path)


def local_input(moment: datetime) -> str:
    return moment.astimezone(BERLIN).strftime(LOCAL_INPUT)


# --- the world for journeys 2-4 -----------------------------------------------------------


@dataclass
class World:
    challenge: object
    green: object  # the category the citizen chooses
    traffic: object
    district: object  # the district the citizen chooses
    other_district: object
    author: object
    moderator: object


def build_world(make_user, lang: str) -> World:
    """A pre-moderated challenge open for ideas, two categories, two districts, and two
    published ideas that the visitor's filters must leave out."""
    from consult.challenges.models import Category, Challenge
    from consult.clock import now
    from consult.districts import District
    from consult.extensions import db
    from consult.ideas.models import Idea
    from consult.text import render_markdown

    t = now()
    day = timedelta(days=1)
    challenge = Challenge(
        title_de="Kühle Innenstadt",
        title_en="A cool city centre",
        question_de="Wie bleibt die Innenstadt im Sommer kühl?",
        question_en="How does the city centre stay cool in summer?",
        submission_opens_at=t - day,
        submission_closes_at=t + 7 * day,
        voting_opens_at=t + 7 * day,
        voting_closes_at=t + 14 * day,
        results_at=t + 21 * day,
        moderation="pre",
    )
    challenge.categories = [
        Category(name_de="Grün", name_en="Green", position=0),
        Category(name_de="Verkehr", name_en="Traffic", position=1),
    ]
    district = District(name="Hörde", position=1)
    other_district = District(name="Innenstadt-West", position=2)
    db.session.add_all([challenge, district, other_district])
    db.session.commit()
    green, traffic = challenge.categories
    neighbour = make_user(email="nachbar@example.org", pseudonym="Nachbar")

    def published(title, body, category, district_):
        db.session.add(
            Idea(
                challenge_id=challenge.id,
                author_id=neighbour.id,
                title=title,
                body=body,
                body_html=render_markdown(body),
                language="de",
                status="published",
                submitted_at=t,
                published_at=t,
                category_id=category.id,
                district_id=district_.id,
            )
        )

    # Same category, other district; other category, same district: each filter matters.
    published("Bäume an der Ruhrallee", "Mehr Bäume, mehr Schatten.", green, other_district)
    published("Tempo 30 am Markt", "Langsamer fahren, leiser wohnen.", traffic, district)
    db.session.commit()
    return World(
        challenge=challenge,
        green=green,
        traffic=traffic,
        district=district,
        other_district=other_district,
        author=make_user(email=f"anna-{lang}@example.org", pseudonym="Anna", locale=lang),
        moderator=make_user(
            email=f"mona-{lang}@example.org",
            pseudonym="Mona",
            roles=("citizen", "moderator"),
            locale=lang,
        ),
    )


IDEA = {
    "de": {
        "title": "Sonnensegel über dem Wochenmarkt",
        "body": "Im Sommer ist es am Markt **zu heiß**.\n\n- Sonnensegel\n- Trinkbrunnen",
        "alt": "Ein grünes Sonnensegel über Marktständen",
        "word": "Sonnensegel",
    },
    "en": {
        "title": "Shade sails over the market",
        "body": "In summer the market is **too hot**.\n\n- shade sails\n- drinking fountains",
        "alt": "A green shade sail above market stalls",
        "word": "sails",
    },
}


# --- journey 1: staff create and schedule a challenge -------------------------------------


@pytest.mark.parametrize("lang", ["de", "en"])
def test_staff_create_and_schedule_a_challenge(app, phone, check, live_server, make_user, lang):
    from consult.challenges.models import Challenge
    from consult.extensions import db

    staff = make_user(
        email=f"sam-{lang}@example.org",
        pseudonym="Sam",
        roles=("citizen", "staff"),
        locale=lang,
    )
    page = phone(BROWSER_LOCALE[lang])
    log_in(page, check, live_server, lang, staff)

    header_nav(page, lang).get_by_role("link", name=tr(lang, "Challenges"), exact=True).click()
    expect(page).to_have_url(path_is(live_server, "/staff/challenges"))
    expect_heading(page, tr(lang, "Challenges"))
    check(page)

    page.get_by_role("link", name=tr(lang, "New challenge"), exact=True).click()
    expect(page).to_have_url(path_is(live_server, "/staff/challenges/new"))
    expect_heading(page, tr(lang, "New challenge"))
    check(page)

    # Berlin wall-clock times; submission opened a few minutes ago, later dates at noon
    # (never inside the hour skipped when the clocks go forward).
    berlin_now = datetime.now(BERLIN).replace(second=0, microsecond=0)
    opens = berlin_now - timedelta(minutes=5)
    noon = (berlin_now + timedelta(days=14)).replace(hour=12, minute=0)
    schedule = {
        "Submission opens": local_input(opens),
        "Submission closes": noon.strftime(LOCAL_INPUT),
        "Voting opens": noon.strftime(LOCAL_INPUT),
        "Voting closes": (noon + timedelta(days=14)).strftime(LOCAL_INPUT),
        "Results are published": (noon + timedelta(days=28)).strftime(LOCAL_INPUT),
    }
    texts = {
        "Title (German)": "Plätze zum Verweilen",
        "Title (English)": "Places to linger",
        "Question (German)": "Wo möchten Sie in der Stadt verweilen?",
        "Question (English)": "Where would you like to linger in the city?",
    }
    main = page.get_by_role("main")
    for label, value in {**texts, **schedule}.items():
        main.get_by_label(tr(lang, label), exact=True).fill(value)
    main.get_by_label(tr(lang, "Votes per citizen"), exact=True).fill("3")
    main.get_by_label(tr(lang, "Hide vote counts while voting runs")).check()
    main.get_by_label(tr(lang, "Moderation"), exact=True).select_option("pre")
    main.get_by_role("button", name=tr(lang, "Create challenge"), exact=True).click()

    title = texts["Title (German)"] if lang == "de" else texts["Title (English)"]
    expect_flash(
        page, tr(lang, "The challenge has been created. It stays a draft until submission opens.")
    )
    expect(page).to_have_url(re.compile(re.escape(live_server("/staff/challenges/")) + r"\d+/edit"))
    expect_heading(page, f"{tr(lang, 'Edit challenge')}: {title}")
    check(page)

    challenge = db.session.execute(db.select(Challenge)).scalar_one()
    assert challenge.submission_opens_at == opens.astimezone(challenge.submission_opens_at.tzinfo)
    assert challenge.vote_budget == 3
    assert challenge.hide_counts_while_voting is True
    assert challenge.submission_open()

    categories = page.locator("#categories")
    categories.get_by_label(tr(lang, "Name (German)"), exact=True).fill("Sitzplätze")
    categories.get_by_label(tr(lang, "Name (English)"), exact=True).fill("Seating")
    categories.get_by_role("button", name=tr(lang, "Add category"), exact=True).click()
    expect_flash(page, tr(lang, "The category has been added."))
    category_name = "Sitzplätze" if lang == "de" else "Seating"
    expect(categories.get_by_role("heading", level=3, name=category_name)).to_be_visible()
    check(page)

    header_nav(page, lang).get_by_role("link", name=tr(lang, "Challenges"), exact=True).click()
    card = page.locator("main .card").filter(has_text=title)
    expect(card.get_by_role("heading", level=2)).to_have_text(title)
    expect(card).to_contain_text(tr(lang, "Submitting ideas"))
    check(page)

    # The title is in a visually hidden span (absolutely positioned, so a block: the
    # accessible name may get a space before the colon).
    public_link = re.compile(rf"^{re.escape(tr(lang, 'Public page'))}\s*: {re.escape(title)}$")
    card.get_by_role("link", name=public_link).click()
    expect(page).to_have_url(path_is(live_server, f"/challenges/{challenge.id}"))
    expect_heading(page, title)
    expect(page.get_by_role("heading", level=1)).to_have_attribute("lang", lang)
    expect(page.locator("main .lead")).to_have_text(
        texts[f"Question ({'German' if lang == 'de' else 'English'})"]
    )
    expect(page.get_by_role("link", name=tr(lang, "Submit an idea"), exact=True)).to_be_visible()
    expect(page.get_by_label(tr(lang, "Category"), exact=True)).to_contain_text(category_name)
    check(page)

    # A visitor sees the same public page.
    visitor = phone(BROWSER_LOCALE[lang])
    visitor.goto(f"/challenges/{challenge.id}")
    expect_heading(visitor, title)
    check(visitor)


# --- journey 2: a citizen writes, saves and submits an idea -------------------------------


def write_and_submit_idea(page, phone, check, live_server, world: World, lang: str, tmp_path):
    """From the challenge page to a submitted idea; returns the idea's id."""
    idea = IDEA[lang]
    challenge_title = world.challenge.text("title", lang)[0]
    page.goto(f"/challenges/{world.challenge.id}")
    expect_heading(page, challenge_title)
    check(page)

    page.get_by_role("link", name=tr(lang, "Submit an idea"), exact=True).click()
    expect(page).to_have_url(path_is(live_server, f"/challenges/{world.challenge.id}/ideas/new"))
    expect_heading(page, tr(lang, "Write an idea"))
    check(page)

    main = page.get_by_role("main")
    main.get_by_label(tr(lang, "Title"), exact=True).fill(idea["title"])
    main.get_by_label(tr(lang, "Your idea"), exact=True).fill(idea["body"])
    main.get_by_label(tr(lang, "Category"), exact=True).select_option(str(world.green.id))
    main.get_by_label(tr(lang, "District (optional)"), exact=True).select_option(
        str(world.district.id)
    )
    language = main.get_by_label(tr(lang, "Language of your idea"), exact=True)
    expect(language).to_have_value(lang)  # starts as the language of the page
    language.select_option(lang)
    main.get_by_label(tr(lang, "Photo (optional)"), exact=True).set_input_files(
        photo_file(tmp_path)
    )
    main.get_by_label(tr(lang, "Description of the photo"), exact=True).fill(idea["alt"])
    main.get_by_role("button", name=tr(lang, "Save draft"), exact=True).click()

    expect(page).to_have_url(re.compile(re.escape(live_server("/ideas/")) + r"\d+$"))
    idea_id = int(page.url.rsplit("/", 1)[1])
    expect_flash(
        page, tr(lang, "Your draft has been saved. Only you can see it until you submit it.")
    )
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text(idea["title"])
    expect(heading).to_have_attribute("lang", lang)
    status = page.locator("main .idea-status")
    expect(status).to_contain_text(tr(lang, "Draft: only you can see it"))
    expect(status).to_contain_text(
        tr(lang, "Only you can see this draft. Submit it when it is ready.")
    )
    body = page.locator("main .idea-body")
    expect(body.locator("strong")).to_have_count(1)
    expect(body.locator("li")).to_have_count(2)
    expect(page.get_by_role("img", name=idea["alt"])).to_be_visible()
    expect(page.locator("main .idea-facts")).to_contain_text(world.district.name)
    check(page)

    # Nobody else sees the draft: for a visitor it does not exist.
    stranger = phone(BROWSER_LOCALE[lang])
    response = stranger.goto(f"/ideas/{idea_id}")
    assert response.status == 404
    expect(stranger.get_by_role("main")).not_to_contain_text(idea["title"])
    phone.recorder(stranger).forget()  # the browser logs the 404 as a console error
    check(stranger)

    status.get_by_role("button", name=tr(lang, "Submit idea"), exact=True).click()
    expect(page).to_have_url(path_is(live_server, f"/ideas/{idea_id}"))
    expect_flash(
        page,
        tr(
            lang,
            "Thank you! Your idea has been submitted. We will let you know once it is published.",
        ),
    )
    expect(page.locator("main .idea-status")).to_contain_text(
        tr(lang, "Submitted, awaiting moderation")
    )
    check(page)
    return idea_id


def assert_stored_as_submitted(idea_id: int, world: World, lang: str):
    from consult.extensions import db
    from consult.ideas.models import Idea

    db.session.expire_all()
    stored = db.session.get(Idea, idea_id)
    assert stored.status == "submitted"
    assert stored.author_id == world.author.id
    assert stored.title == IDEA[lang]["title"]
    assert stored.category_id == world.green.id
    assert stored.district_id == world.district.id
    assert stored.language == lang
    assert stored.image_id is not None
    return stored


# --- journeys 2-4 -------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["de", "en"])
def test_idea_from_draft_to_publication_to_visitor(
    app, phone, check, live_server, make_user, mailbox, tmp_path, lang
):
    world = build_world(make_user, lang)
    idea = IDEA[lang]

    # 2. The citizen writes, saves and submits the idea.
    citizen = phone(BROWSER_LOCALE[lang])
    log_in(citizen, check, live_server, lang, world.author)
    idea_id = write_and_submit_idea(citizen, phone, check, live_server, world, lang, tmp_path)
    assert_stored_as_submitted(idea_id, world, lang)

    # 3. A moderator publishes it, and the author is told by mail.
    moderator = phone(BROWSER_LOCALE[lang])
    log_in(moderator, check, live_server, lang, world.moderator)
    header_nav(moderator, lang).get_by_role("link", name=tr(lang, "Moderation"), exact=True).click()
    expect(moderator).to_have_url(path_is(live_server, "/moderation/"))
    card = moderator.locator(f"#idea-{idea_id}")
    expect(card.get_by_role("heading", level=4)).to_have_text(idea["title"])
    expect(card.get_by_role("img", name=idea["alt"])).to_be_visible()
    check(moderator)
    card.get_by_role("button", name=tr(lang, "Publish"), exact=True).click()
    expect(moderator).to_have_url(path_is(live_server, "/moderation/"))
    expect_flash(moderator, tr(lang, "The idea is published, and its author has been told."))
    expect(moderator.locator(f"#idea-{idea_id}")).to_have_count(0)
    check(moderator)

    message = mailbox.last_to(world.author.email)
    assert message["Subject"] == tr(lang, "Your idea has been published")
    assert message["Content-Language"] == lang
    assert idea["title"] in mailbox.text(message)
    link = mailbox.link(message, f"/ideas/{idea_id}")
    assert link.startswith(live_server(f"/ideas/{idea_id}")), link

    # The author follows the mail's link and sees the idea published.
    citizen.goto(link)
    expect(citizen.locator("main .idea-status")).to_contain_text(tr(lang, "Published"))
    check(citizen)

    # 4. A visitor finds it on the challenge page: search box, then the filters.
    visitor = phone(BROWSER_LOCALE[lang])
    visitor.goto(f"/challenges/{world.challenge.id}")
    expect_heading(visitor, world.challenge.text("title", lang)[0])
    ideas = visitor.locator("main .idea-list")
    expect(ideas.get_by_role("link")).to_have_count(3)
    check(visitor)

    # Search and filters are folded away on the phone until someone opens them.
    visitor.get_by_text(tr(lang, "Search and filter"), exact=True).click()
    search = visitor.get_by_role("search", name=tr(lang, "Find ideas"))
    search.get_by_label(tr(lang, "Search"), exact=True).fill(idea["word"])
    search.get_by_role("button", name=tr(lang, "Show ideas"), exact=True).click()
    expect(visitor).to_have_url(re.compile(r"[?&]q=" + re.escape(idea["word"])))
    expect(visitor.locator("#ideas [role=status]")).to_contain_text(
        trn(lang, "%(num)d idea matches your search.", "%(num)d ideas match your search.", 1)
        % {"num": 1}
    )
    expect(ideas.get_by_role("link")).to_have_count(1)
    expect(ideas.get_by_role("link", name=idea["title"])).to_be_visible()
    check(visitor)

    search = visitor.get_by_role("search", name=tr(lang, "Find ideas"))
    search.get_by_label(tr(lang, "Search"), exact=True).fill("")
    search.get_by_label(tr(lang, "Category"), exact=True).select_option(str(world.green.id))
    search.get_by_label(tr(lang, "District"), exact=True).select_option(str(world.district.id))
    search.get_by_role("button", name=tr(lang, "Show ideas"), exact=True).click()
    expect(visitor).to_have_url(re.compile(rf"[?&]category={world.green.id}(&|#|$)"))
    expect(visitor).to_have_url(re.compile(rf"[?&]district={world.district.id}(&|#|$)"))
    expect(visitor.get_by_label(tr(lang, "Category"), exact=True)).to_have_value(
        str(world.green.id)
    )
    expect(ideas.get_by_role("link")).to_have_count(1)
    found = ideas.get_by_role("link", name=idea["title"])
    expect(found).to_have_attribute("lang", lang)
    check(visitor)

    found.click()
    expect(visitor).to_have_url(path_is(live_server, f"/ideas/{idea_id}"))
    expect_heading(visitor, idea["title"])
    facts = visitor.locator("main .idea-facts")
    expect(facts).to_contain_text("Anna")
    expect(facts).to_contain_text(world.green.name(lang)[0])
    expect(facts).to_contain_text(world.district.name)
    expect(visitor.get_by_role("img", name=idea["alt"])).to_be_visible()
    expect(visitor.locator("main .idea-status")).to_have_count(0)
    check(visitor)


# --- journey 2 without JavaScript ---------------------------------------------------------


def test_write_and_submit_an_idea_without_javascript(
    app, phone, check, live_server, make_user, tmp_path
):
    world = build_world(make_user, "en")
    page = phone("en-GB", javascript=False)
    log_in(page, check, live_server, "en", world.author)
    idea_id = write_and_submit_idea(page, phone, check, live_server, world, "en", tmp_path)
    assert_stored_as_submitted(idea_id, world, "en")
