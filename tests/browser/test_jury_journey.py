"""The jury journey, in German and English: staff set criteria and the shortlist at a desk;
two jurors score on their phones, one declares a conflict of interest; staff freeze the
results and the ranking appears; once the results are public, the winner is promoted to
a lab project and its author accepts the invitation from the mail, after which the public
project page names them.

Every page is checked by ``check`` (axe-core WCAG 2.1 AA, CSP, no third-party requests).
"""

import json
import re
from contextlib import ExitStack
from datetime import timedelta

import pytest
from browser_support import log_in, main_nav, tr
from flask_babel import force_locale, gettext, ngettext
from playwright.sync_api import expect
from sqlalchemy import select

from consult.clock import now, travel
from consult.extensions import db
from consult.jury.models import JurorAssignment, JuryReview, ResultSnapshot, ShortlistEntry
from consult.jury.ranking import verify_snapshot
from consult.projects.models import CoCreator, LabProject
from consult.results.models import Announcement

pytestmark = pytest.mark.browser

BROWSER_LOCALE = {"de": "de-DE", "en": "en-GB"}


def path_is(live_server, path: str):
    return re.compile("^" + re.escape(live_server(path)) + r"(\?.*)?(#.*)?$")


def flash(page):
    return page.locator("main .flashes")


@pytest.fixture
def world(app, make_user, locale):
    """A challenge whose voting has closed: 30, 60 and 0 votes for three ideas."""
    from jury.jury_support import add_votes, evaluation_challenge, make_idea

    challenge = evaluation_challenge(shortlist_size=2)
    author = make_user(email="ada@example.org", pseudonym="Ada Grün", locale=locale)
    ideas = [
        make_idea(challenge, "Bäume am Markt", submitted_days_ago=22),
        make_idea(challenge, "Trinkbrunnen", author=author, submitted_days_ago=21),
        make_idea(challenge, "Grüne Dächer", submitted_days_ago=20),
    ]
    for idea, votes in zip(ideas, (30, 60, 0), strict=True):
        add_votes(idea, votes)
    staff = make_user(
        email="team@stadt.example", pseudonym="KoSI Team", roles=("staff",), locale=locale
    )
    jurors = [
        make_user(email=f"{name.lower()}@stadt.example", pseudonym=name, roles=("juror",),
                  locale=locale)
        for name in ("Xenia", "Yusuf")
    ]  # fmt: skip
    return challenge, ideas, staff, jurors, author


def set_up_jury(page, check, live_server, locale, challenge, ideas, jurors) -> None:
    """Staff: two criteria, the top 2 by votes plus a pick with a reason, two jurors."""
    setup_path = f"/staff/challenges/{challenge.id}/jury"
    page.goto(setup_path)
    check(page)
    for name_de, name_en, weight in (
        ("Wirkung", "Impact", "2"),
        ("Machbarkeit", "Feasibility", "1"),
    ):
        form = page.locator(f'form[action="{setup_path}/criteria"]')
        form.get_by_label(tr(locale, "Name (German)")).fill(name_de)
        form.get_by_label(tr(locale, "Name (English)")).fill(name_en)
        form.get_by_label(tr(locale, "Weight")).fill(weight)
        form.get_by_role("button", name=tr(locale, "Add criterion")).click()
        expect(page).to_have_url(path_is(live_server, setup_path))
        check(page)
    criteria = page.locator("#criteria table tbody tr")
    expect(criteria).to_have_count(2)
    expect(criteria.first).to_contain_text("Wirkung" if locale == "de" else "Impact")

    with force_locale(locale):
        top = ngettext(
            "Shortlist the top %(num)d idea by votes", "Shortlist the top %(num)d ideas by votes", 2
        )
    page.get_by_role("button", name=top).click()
    check(page)
    pick = page.locator(f'form[action="{setup_path}/shortlist"]')
    pick.get_by_label(tr(locale, "Idea"), exact=True).select_option(str(ideas[2].id))
    pick.get_by_label(tr(locale, "Why this idea belongs on the shortlist")).fill(
        "Ein Vorschlag aus der Klimawerkstatt."
    )
    pick.get_by_role("button", name=tr(locale, "Add to the shortlist")).click()
    check(page)
    expect(page.locator("#shortlist table tbody tr")).to_have_count(3)

    for juror in jurors:
        seat = page.locator(f'form[action="{setup_path}/jurors"]')
        seat.get_by_label(tr(locale, "E-mail address or public name")).fill(juror.email)
        seat.get_by_role("button", name=tr(locale, "Add to the jury")).click()
        expect(page).to_have_url(path_is(live_server, setup_path))
        check(page)
        expect(page.locator("#jurors")).to_contain_text(juror.pseudonym)


def deadline_text(locale: str, challenge) -> str:
    from consult.challenges.timeline import format_when

    with force_locale(locale):
        return gettext(
            "Please submit your scores by %(deadline)s.", deadline=format_when(challenge.results_at)
        )


def score_ideas(page, check, live_server, locale, challenge, scores: dict, conflicts=()) -> None:
    """A juror on a phone: from the header's "Jury" link to the first idea; after each save
    or declaration the next open idea follows by itself (in the list's order, by title),
    showing the idea's text and the deadline; after the last one, the submit button."""
    main_nav(page, tr(locale, "Main navigation")).get_by_role(
        "link", name=tr(locale, "Jury"), exact=True
    ).click()
    check(page)
    overview = f"/jury/challenges/{challenge.id}"
    page.locator(f'a[href="{overview}"]').click()
    check(page)
    expect(page.locator("#deadline")).to_have_text(deadline_text(locale, challenge))
    order = sorted([*scores, *conflicts], key=lambda idea: (idea.title, idea.id))
    page.get_by_role("link", name=order[0].title).click()
    for idea in order:
        expect(page).to_have_url(path_is(live_server, f"{overview}/ideas/{idea.id}"))
        expect(page.locator("h1")).to_have_text(idea.title)
        expect(page.locator(".idea-body")).to_contain_text("Mehr Bäume.")
        expect(page.locator("#deadline")).to_have_text(deadline_text(locale, challenge))
        expect(page.get_by_role("link", name=tr(locale, "The idea's public page, with its comments"))
               ).to_have_attribute("href", f"/ideas/{idea.id}")  # fmt: skip
        check(page)
        if idea in conflicts:
            page.get_by_text(
                tr(locale, "Declare a conflict of interest")
            ).first.click()  # <summary>
            page.get_by_role("button", name=tr(locale, "Declare a conflict of interest")).click()
            expect(flash(page)).to_contain_text(
                tr(locale, "You have declared a conflict of interest for this idea.")
            )
            continue
        impact, feasibility = scores[idea]
        page.get_by_label(re.compile("Wirkung" if locale == "de" else "Impact")).fill(str(impact))
        page.get_by_label(re.compile("Machbarkeit" if locale == "de" else "Feasibility")).fill(
            str(feasibility)
        )
        page.get_by_label(tr(locale, "Private note (optional)")).fill("nur für mich")
        page.get_by_role("button", name=tr(locale, "Save scores")).click()
        expect(flash(page)).to_contain_text(idea.title)
    expect(page).to_have_url(path_is(live_server, overview))
    expect(flash(page)).to_contain_text(
        tr(
            locale,
            "Every idea is scored or declared a conflict: please check and submit your scores.",
        )
    )
    check(page)
    page.get_by_role("button", name=tr(locale, "Submit my scores")).click()
    expect(flash(page)).to_contain_text(tr(locale, "Thank you: your scores have been submitted."))
    check(page)


@pytest.mark.parametrize("locale", ["de", "en"])
def test_staff_are_told_whose_scores_go_and_confirm_without_javascript(
    app, phone, check, live_server, make_user, locale
):
    """Juror Y submitted (a conflict on "Grüne Dächer"); juror X saved scores on it but has
    not submitted. Taking it off the shortlist says so and asks, on a page of its own."""
    from jury.jury_support import jury_world, mark_submitted

    world = jury_world(make_user, submitted=False)
    mark_submitted(world.challenge, world.jurors[1])
    world.staff.locale = locale
    db.session.commit()
    three = world.ideas[2]
    setup_path = f"/staff/challenges/{world.challenge.id}/jury"

    desk = phone(BROWSER_LOCALE[locale], desktop=True, javascript=False)
    log_in(desk, check, locale, world.staff)
    desk.goto(setup_path)
    check(desk)
    with force_locale(locale):
        hint = ngettext(
            "Deletes the saved scores of %(num)d juror; you are asked first.",
            "Deletes the saved scores of %(num)d jurors; you are asked first.", 1,
        )  # fmt: skip
        question = ngettext(
            "%(num)d juror has saved scores for this idea. Taking it off the shortlist deletes "
            "these scores for good; they cannot be restored.",
            "%(num)d jurors have saved scores for this idea. Taking it off the shortlist deletes "
            "these scores for good; they cannot be restored.", 1,
        )  # fmt: skip
        deleted = ngettext(
            "The saved scores of %(num)d juror have been deleted.",
            "The saved scores of %(num)d jurors have been deleted.", 1,
        )  # fmt: skip
    remove = desk.locator("#shortlist").get_by_role(
        "button",
        name=re.compile(re.escape(tr(locale, "Take off the shortlist")) + ".*" + three.title),
    )
    expect(remove).to_have_accessible_description(hint)
    remove.click()
    expect(desk.locator("h1")).to_have_text(tr(locale, "Take the idea off the shortlist?"))
    expect(desk.locator("#consequence")).to_contain_text(question)
    check(desk)
    db.session.expire_all()
    assert db.session.get(ShortlistEntry, (world.challenge.id, three.id)) is not None

    desk.get_by_role("button", name=tr(locale, "Yes, take it off and delete the scores")).click()
    expect(desk).to_have_url(path_is(live_server, setup_path))
    expect(flash(desk)).to_contain_text(deleted)
    check(desk)
    expect(desk.locator("#shortlist table tbody tr")).to_have_count(2)
    db.session.expire_all()
    assert db.session.get(ShortlistEntry, (world.challenge.id, three.id)) is None


@pytest.mark.parametrize("locale", ["de", "en"])
def test_jury_scores_staff_freeze_and_the_winner_becomes_a_lab_project(
    app, phone, check, live_server, mailbox, world, locale, request
):
    challenge, ideas, staff, (x, y), author = world
    stack = ExitStack()
    request.addfinalizer(stack.close)

    # Staff at a desk.
    desk = phone(BROWSER_LOCALE[locale], desktop=True)
    log_in(desk, check, locale, staff)
    set_up_jury(desk, check, live_server, locale, challenge, ideas, (x, y))
    db.session.expire_all()
    assert db.session.scalar(select(ShortlistEntry).where(ShortlistEntry.source == "staff"))
    assert len(db.session.scalars(select(JuryReview)).all()) == 2 * 3

    # Before anyone submitted, the results page shows no values and cannot freeze.
    results_path = f"/staff/challenges/{challenge.id}/results"
    desk.goto(results_path)
    check(desk)
    expect(desk.locator("main table")).to_have_count(0)

    # Juror X scores all three ideas; juror Y declares a conflict on the third.
    phone_x = phone(BROWSER_LOCALE[locale])
    log_in(phone_x, check, locale, x)
    score_ideas(phone_x, check, live_server, locale, challenge,
                {ideas[0]: (8, 5), ideas[1]: (6, 6), ideas[2]: (10, 10)})  # fmt: skip
    phone_y = phone(BROWSER_LOCALE[locale])
    log_in(phone_y, check, locale, y)
    # Before submitting, Y's pages show nothing of X's scores or note.
    phone_y.goto(f"/jury/challenges/{challenge.id}/ideas/{ideas[0].id}")
    expect(phone_y.locator("main")).not_to_contain_text("nur für mich")
    expect(
        phone_y.get_by_label(re.compile("Wirkung" if locale == "de" else "Impact"))
    ).to_have_value("")
    phone_y.goto("/")
    score_ideas(phone_y, check, live_server, locale, challenge,
                {ideas[0]: (6, 9), ideas[1]: (5, 2)}, conflicts=[ideas[2]])  # fmt: skip
    db.session.expire_all()
    assert all(a.submitted_at for a in db.session.scalars(select(JurorAssignment)))

    # Staff freeze; the ranking appears: Trinkbrunnen 0.750, Bäume 0.600, Dächer 0.500.
    desk.goto(results_path)
    check(desk)
    desk.get_by_label(tr(locale, "I understand that freezing cannot be undone.")).check()
    desk.get_by_role("button", name=tr(locale, "Freeze the results")).click()
    expect(flash(desk)).to_contain_text("SHA-256")
    check(desk)
    rows = desk.locator("main table tbody tr")
    expect(rows).to_have_count(3)
    sep = "," if locale == "de" else "."
    for row, (title, score) in zip(
        (rows.nth(0), rows.nth(1), rows.nth(2)),
        (("Trinkbrunnen", "0.750"), ("Bäume am Markt", "0.600"), ("Grüne Dächer", "0.500")),
        strict=True,
    ):
        expect(row).to_contain_text(title)
        expect(row).to_contain_text(score.replace(".", sep))
    snapshot = db.session.scalar(select(ResultSnapshot))
    expect(desk.locator("main")).to_contain_text(snapshot.sha256)
    document = json.loads(snapshot.document)
    assert verify_snapshot(document) == []
    assert "nur für mich" not in snapshot.document  # private notes stay private
    assert {"Juror A", "Juror B"} == set(document["scores"])

    # Once the results are public (the press office published them and the clock passed
    # the embargo: tests/browser/test_results_journey.py walks that part), the winner
    # becomes a lab project.
    db.session.add(
        Announcement(challenge_id=challenge.id, title_de="Ergebnisse", title_en="Results",
                     published_at=now(), embargo_at=now() + timedelta(hours=1))
    )  # fmt: skip
    db.session.commit()
    stack.enter_context(travel(timedelta(hours=1, minutes=1)))
    desk.reload()
    check(desk)
    rows.nth(0).get_by_role("link", name=re.compile(tr(locale, "Promote to lab project"))).click()
    check(desk)
    desk.get_by_label(tr(locale, "Title (German)")).fill("Trinkbrunnen für die City")
    desk.get_by_label(tr(locale, "Title (English)")).fill("Drinking fountains for the centre")
    desk.get_by_label(tr(locale, "Summary (German)")).fill("Zehn Brunnen bis zum Sommer.")
    desk.get_by_role("button", name=tr(locale, "Create the lab project")).click()
    expect(flash(desk)).to_contain_text(tr(locale, "The idea is now a lab project."))
    check(desk)
    project = db.session.scalar(select(LabProject))
    assert project.idea_id == ideas[1].id

    # Not named before accepting.
    visitor = phone(BROWSER_LOCALE[locale])
    visitor.goto(f"/projects/{project.id}")
    check(visitor)
    expect(visitor.locator("main")).not_to_contain_text(author.pseudonym)

    # The author accepts from the mail, on a phone, without logging in.
    invitation = mailbox.last_to(author.email)
    assert invitation["Content-Language"] == locale
    accept = mailbox.link(invitation, "/accept/")
    author_phone = phone(BROWSER_LOCALE[locale])
    author_phone.goto(accept)
    check(author_phone)
    author_phone.get_by_role("button", name=tr(locale, "Yes, name me as co-creator")).click()
    expect(flash(author_phone)).to_contain_text(
        tr(locale, "Thank you! You are now named as co-creator of this project.")
    )
    check(author_phone)
    db.session.expire_all()
    assert db.session.scalar(select(CoCreator.state)) == "accepted"

    expect(author_phone.locator("main")).to_contain_text(author.pseudonym)

    # A new visitor (public pages may be cached for a minute) finds the project by the list.
    visitor = phone(BROWSER_LOCALE[locale])
    visitor.goto("/projects")
    check(visitor)
    title = "Trinkbrunnen für die City" if locale == "de" else "Drinking fountains for the centre"
    visitor.get_by_role("link", name=title).click()
    check(visitor)
    expect(visitor.locator("main")).to_contain_text(author.pseudonym)
    expect(visitor.get_by_role("link", name="Trinkbrunnen")).to_have_attribute(
        "href", f"/ideas/{ideas[1].id}"
    )
