"""Paper votes at a desk, in German and English: from the challenge's staff page to the
paper-votes page, one workshop sheet for every idea (a wrong number is shown at its field
and nothing is stored), then a correction. The tables' headers keep their words whole on
a desk and on a 390 px phone. Every page is checked by ``check`` (axe-core, CSP).
"""

import re

import pytest
from browser_support import log_in, tr
from flask_babel import force_locale, ngettext
from playwright.sync_api import expect
from sqlalchemy import select

from consult.extensions import db
from consult.voting import services
from consult.voting.models import PaperVoteEntry

pytestmark = pytest.mark.browser

BROWSER_LOCALE = {"de": "de-DE", "en": "en-GB"}

# Every header cell at least as wide as its longest word (a compound may still break after
# its hyphen, "Online-|Stimmen"): a word that had to break would make the cell narrower. Measured with the cell's own font, no screenshot.
NARROWER_THAN_A_WORD = """
() => {
  const probe = document.createElement('span');
  probe.style.cssText = '';
  probe.setAttribute('aria-hidden', 'true');
  document.body.appendChild(probe);
  const broken = [];
  for (const th of document.querySelectorAll('table.paper-votes thead th, table.paper-entries thead th')) {
    const style = getComputedStyle(th);
    probe.style.font = style.font;
    probe.style.letterSpacing = style.letterSpacing;
    probe.style.whiteSpace = 'nowrap';
    probe.style.position = 'absolute';
    const inner = th.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    for (const word of th.textContent.split(/\\s+|(?<=-)/).filter(Boolean)) {
      probe.textContent = word;
      const width = probe.getBoundingClientRect().width;
      if (width > inner + 0.5) broken.push(`${word}: ${width.toFixed(1)} > ${inner.toFixed(1)}`);
    }
  }
  probe.remove();
  return broken;
}
"""


def flash(page):
    return page.locator("main .flashes")


@pytest.fixture
def world(app, make_user, locale):
    from voting.voting_support import challenge_with_ideas

    challenge, ideas = challenge_with_ideas(3)
    titles = ["Trinkbrunnen am Marktplatz", "Bürgersteigverbreiterung", "Stadtteilbibliothek"]
    for idea, title in zip(ideas, titles, strict=True):
        idea.title = title
    db.session.commit()
    staff = make_user(email="team@stadt.example", pseudonym="Amt", roles=("staff",), locale=locale)
    return challenge, ideas, staff


@pytest.mark.parametrize("locale", ["de", "en"])
def test_staff_enter_a_workshop_sheet_at_a_desk(app, phone, check, world, locale):
    challenge, (fountain, pavement, library), staff = world
    desk = phone(BROWSER_LOCALE[locale], desktop=True)
    log_in(desk, check, locale, staff)

    # Linked from the challenge's staff page.
    desk.goto(f"/staff/challenges/{challenge.id}/edit")
    check(desk)
    desk.get_by_role("link", name=tr(locale, "Paper votes"), exact=True).click()
    check(desk)
    assert desk.evaluate(NARROWER_THAN_A_WORD) == []

    sheet = desk.locator("form", has=desk.locator("#event_name"))
    expect(sheet.locator('input[type="number"]')).to_have_count(3)
    expect(desk.get_by_label(tr(locale, "Day of the event"))).to_have_value(
        services.paper_sheet_today().isoformat()
    )
    sheet.get_by_label(tr(locale, "Event"), exact=True).fill("Stadtteilfest Hörde")

    def count_field(idea):
        return desk.get_by_label(
            tr(locale, "Paper votes on this sheet for “%(title)s”", title=idea.title)
        )

    # A wrong number: refused at its field, the typing kept, nothing stored.
    count_field(fountain).fill("12")
    count_field(library).fill("-3")
    sheet.get_by_role("button", name=tr(locale, "Enter the sheet")).click()
    error = desk.locator(f"#count-{library.id}-error")
    expect(error).to_have_text(
        tr(locale, "Please enter a whole number from 0 to %(max)d, or leave the field empty.",
           max=services.PAPER_MAX)
    )  # fmt: skip
    expect(count_field(library)).to_have_attribute("aria-invalid", "true")
    expect(count_field(fountain)).to_have_value("12")
    phone.recorder(desk).forget()  # the browser logs the 400 as a console error
    check(desk)
    assert db.session.scalars(select(PaperVoteEntry)).all() == []

    count_field(library).fill("3")
    sheet.get_by_role("button", name=tr(locale, "Enter the sheet")).click()
    with force_locale(locale):
        entered = ngettext(
            "The sheet of “%(event)s” has been entered: %(num)d paper vote.",
            "The sheet of “%(event)s” has been entered: %(num)d paper votes.",
            15, event="Stadtteilfest Hörde",
        )  # fmt: skip
    expect(flash(desk)).to_contain_text(entered)
    check(desk)
    row = desk.locator(f"#idea-{fountain.id}")
    expect(row.locator("td").nth(1)).to_have_text("12")
    expect(desk.locator("table.paper-entries tbody tr")).to_have_count(2)
    assert desk.evaluate(NARROWER_THAN_A_WORD) == []

    # A correction: one idea, a negative number.
    correction = desk.locator("#correction")
    correction.get_by_label(tr(locale, "Idea"), exact=True).select_option(str(fountain.id))
    correction.get_by_label(tr(locale, "Change in paper votes")).fill("-2")
    correction.get_by_label(tr(locale, "Event"), exact=True).fill("Stadtteilfest Hörde")
    correction.get_by_role("button", name=tr(locale, "Enter the correction")).click()
    expect(flash(desk)).to_contain_text("Trinkbrunnen am Marktplatz")
    check(desk)
    expect(row.locator("td").nth(1)).to_have_text("10")
    db.session.expire_all()
    assert services.paper_vote_totals(challenge) == {fountain.id: 10, library.id: 3}

    # On a phone the headers still keep their words whole (the table scrolls instead).
    small = phone(BROWSER_LOCALE[locale])
    log_in(small, check, locale, staff)
    small.goto(f"/staff/challenges/{challenge.id}/paper-votes")
    check(small)
    assert small.evaluate(NARROWER_THAN_A_WORD) == []
    assert re.search(r"\d", small.locator("table.paper-entries").inner_text())
