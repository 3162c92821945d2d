"""The staff dashboard journey, in German and English: a staff member at a desk goes from
the staff challenge list to a challenge's dashboard, sees the charts, opens a table
alternative (by keyboard) and downloads the CSV.

Every page is checked by ``check`` (axe-core WCAG 2.1 AA, CSP, no third-party requests).
"""

import csv
import io
import os
from contextlib import ExitStack
from pathlib import Path

import pytest
from browser_support import log_in, tr
from playwright.sync_api import expect

from consult.clock import now, travel

pytestmark = pytest.mark.browser

BROWSER_LOCALE = {"de": "de-DE", "en": "en-GB"}


@pytest.mark.parametrize("locale", ["de", "en"])
def test_staff_read_the_dashboard_and_download_its_figures(
    app, phone, check, live_server, make_user, locale, request, tmp_path
):
    from dashboard.dashboard_support import NOW, known_world

    stack = ExitStack()
    request.addfinalizer(stack.close)
    # The small world's clock: a running challenge on 10 June 2026 (the clock keeps going).
    stack.enter_context(travel(NOW - now()))
    world = known_world(make_user)
    world.staff.locale = locale
    from consult.extensions import db

    db.session.commit()
    challenge = world.challenge
    dashboard = f"/staff/challenges/{challenge.id}/dashboard"

    desk = phone(BROWSER_LOCALE[locale], desktop=True)
    log_in(desk, check, locale, world.staff)
    desk.goto("/staff/challenges")
    check(desk)
    desk.locator(f'a[href="{dashboard}"]').first.click()
    check(desk)
    title = challenge.title_de if locale == "de" else challenge.title_en
    expect(desk.get_by_role("heading", level=1)).to_contain_text(title)
    expect(desk.get_by_text(tr(locale, "Ideas awaiting moderation"), exact=True)).to_be_visible()

    # Three charts, drawn on the server, each loaded as an image.
    images = desk.locator("figure.dashboard-chart img")
    expect(images).to_have_count(3)
    for index in range(3):
        image = images.nth(index)
        image.scroll_into_view_if_needed()
        desk.wait_for_function(
            "(img) => img.complete && img.naturalWidth > 0", arg=image.element_handle()
        )

    # The district table, opened from the keyboard.
    summary = desk.get_by_text(tr(locale, "Table: figures by district"), exact=True)
    summary.focus()
    desk.keyboard.press("Enter")
    table = desk.get_by_role("table", name=tr(locale, "Ideas, votes and participants by district"))
    expect(table).to_be_visible()
    expect(table.get_by_role("rowheader", name="Hörde")).to_be_visible()
    check(desk)
    # For a look at the page: CONSULT_SCREENSHOT_DIR keeps the picture, else tmp_path.
    folder = Path(os.environ.get("CONSULT_SCREENSHOT_DIR") or tmp_path)
    desk.screenshot(path=str(folder / f"dashboard-{locale}.png"), full_page=True)

    # The CSV: a real download through the link.
    with desk.expect_download() as download:
        desk.get_by_role("link", name=tr(locale, "Download the figures (CSV)")).click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    totals = {r["measure"]: r["value"] for r in rows if r["figure"] == "totals"}
    assert totals["votes_total"] == "10" and totals["registrations"] == "4"
    assert any(r["name"] == "'=Verkehr" or r["name"] == "'=Traffic" for r in rows)
