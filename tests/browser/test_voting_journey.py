"""The voting journey on a phone, in German and English, with and without JavaScript:
a visitor taps "Log in to vote", logs in and lands back on the idea, votes, sees the
budget go down, votes on the list, withdraws and votes again, and withdraws a vote from
"My votes", which shows the remaining budget. Every page is checked by
``check`` (axe-core WCAG 2.1 AA, CSP, no third-party requests)."""

import re

import pytest
from browser_support import main_nav
from flask_babel import force_locale, gettext, ngettext
from playwright.sync_api import expect
from sqlalchemy import func, select
from testdata import PASSWORD

from consult.extensions import db
from consult.ideas.models import Idea
from consult.voting.models import Vote

pytestmark = pytest.mark.browser

BROWSER_LOCALE = {"de": "de-DE", "en": "en-GB"}
BUDGET = 3


def tr(locale: str, msgid: str, **values) -> str:
    with force_locale(locale):
        return gettext(msgid, **values)


def left(locale: str, n: int) -> str:
    return tr(locale, "%(left)d of %(budget)d votes left", left=n, budget=BUDGET)


def votes_label(locale: str, n: int) -> str:
    with force_locale(locale):
        return ngettext("%(num)d vote", "%(num)d votes", n)


def path_is(live_server, path: str):
    return re.compile("^" + re.escape(live_server(path)) + r"(#.*)?$")


@pytest.fixture
def world(app, make_user, locale):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent.parent / "voting"))
    from voting_support import make_challenge, make_idea

    challenge = make_challenge(budget=BUDGET)
    ideas = [make_idea(challenge, title=f"Idee {n}") for n in range(1, 4)]
    citizen = make_user(email="vera@example.org", pseudonym="Vera", locale=locale)
    return challenge, ideas, citizen


def button(page, idea):
    return page.locator(f'form[data-idea="{idea.id}"] button')


def toggle(page, check, live_server, locale, javascript, idea, back, voted, budget_left):
    """Tap the idea's button; it must end up ``voted`` with ``budget_left`` votes left."""
    message = tr(
        locale, "Your vote has been counted." if voted else "Your vote has been withdrawn."
    )
    button(page, idea).click()
    if not javascript:
        # Back at the button that was tapped (the URL's fragment), not at the top.
        expect(page).to_have_url(live_server(back) + f"#vote-{idea.id}")
    # The answer is shown and announced at the button; the budget once, in the summary.
    note = page.locator(f'form[data-idea="{idea.id}"] [data-vote-note]')
    expect(note).to_have_text(message)
    expect(note).to_be_in_viewport()
    expect(page.locator("main .flashes")).not_to_contain_text(message)
    assert page.locator("main").inner_text().count(left(locale, budget_left)) == 1
    expect(button(page, idea)).to_have_attribute("aria-pressed", "true" if voted else "false")
    expect(button(page, idea)).to_have_text(tr(locale, "Voted – withdraw" if voted else "Vote"))
    expect(page.locator("[data-vote-budget]")).to_have_text(left(locale, budget_left))
    check(page)


@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
@pytest.mark.parametrize("locale", ["de", "en"])
def test_a_citizen_votes_withdraws_and_votes_again(
    phone, check, live_server, world, locale, javascript
):
    challenge, ideas, citizen = world
    page = phone(BROWSER_LOCALE[locale], javascript=javascript)
    list_path = f"/challenges/{challenge.id}"

    # Not logged in: a link (no form) that leads to the login and back to the idea.
    page.goto(list_path)
    check(page)
    expect(page.locator("form[data-vote]")).to_have_count(0)
    page.locator(f'a[href="/account/login?next=/ideas/{ideas[0].id}"]').click()
    check(page)
    page.get_by_label(tr(locale, "E-mail address")).fill(citizen.email)
    page.get_by_label(tr(locale, "Password"), exact=True).fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name=tr(locale, "Log in"), exact=True).click()
    idea_path = f"/ideas/{ideas[0].id}"
    expect(page).to_have_url(path_is(live_server, idea_path))
    expect(page.locator("[data-vote-budget]")).to_have_text(left(locale, BUDGET))
    check(page)

    # On the idea page.
    toggle(page, check, live_server, locale, javascript, ideas[0], idea_path, True, 2)
    expect(page.locator(f"#votes-{ideas[0].id}")).to_have_text(votes_label(locale, 1))

    # On the list: vote, withdraw, vote again.
    page.goto(list_path)
    check(page)
    expect(page.locator("[data-vote-budget]")).to_have_text(left(locale, 2))
    expect(button(page, ideas[0])).to_have_attribute("aria-pressed", "true")
    toggle(page, check, live_server, locale, javascript, ideas[1], list_path, True, 1)
    expect(page.locator(f"#votes-{ideas[1].id}")).to_have_text(votes_label(locale, 1))
    toggle(page, check, live_server, locale, javascript, ideas[1], list_path, False, 2)
    expect(page.locator(f"#votes-{ideas[1].id}")).to_have_text(votes_label(locale, 0))
    toggle(page, check, live_server, locale, javascript, ideas[1], list_path, True, 1)
    if javascript:
        expect(page).to_have_url(path_is(live_server, list_path))  # no reload

    # "My votes" in the header lists both ideas.
    main_nav(page, tr(locale, "Main navigation")).get_by_role(
        "link", name=tr(locale, "My votes")
    ).click()
    check(page)
    expect(page.get_by_role("link", name="Idee 1")).to_be_visible()
    expect(page.get_by_role("link", name="Idee 2")).to_be_visible()
    expect(page.get_by_role("link", name="Idee 3")).to_have_count(0)
    expect(page.locator("main .vote-budget")).to_have_text(left(locale, 1))

    # Withdraw the vote for "Idee 2" from "My votes": a plain form, back to the page.
    page.get_by_role("button", name=tr(locale, "Withdraw vote")).and_(
        page.locator(f'[aria-describedby="my-vote-{ideas[1].id}"]')
    ).click()
    expect(page).to_have_url(path_is(live_server, "/my/votes"))
    expect(page.locator("main .flashes")).to_contain_text(
        tr(locale, "Your vote has been withdrawn.")
    )
    assert page.locator("main").inner_text().count(left(locale, 2)) == 1  # the budget once
    expect(page.get_by_role("link", name="Idee 2")).to_have_count(0)
    expect(page.get_by_role("link", name="Idee 1")).to_be_visible()
    expect(page.locator("main .vote-budget")).to_have_text(left(locale, 2))
    check(page)

    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Vote)) == 1
    assert [i.vote_count for i in db.session.scalars(select(Idea).order_by(Idea.id))] == [1, 0, 0]
