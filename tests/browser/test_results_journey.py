"""The results journey, in German and English: the press officer prepares the announcement
with a future embargo and publishes it; a visitor on a phone finds nothing of it (page,
snapshot, open data, press kit, feed, sitemap); the clock passes the embargo and, with no
job run, the visitor sees the results page, downloads the open data and the press kit.

Every page is checked by ``check`` (axe-core WCAG 2.1 AA, CSP, no third-party requests).
"""

import csv
import io
import re
import zipfile
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from browser_support import log_in, main_nav, tr
from playwright.sync_api import expect

from consult.clock import now, travel

pytestmark = pytest.mark.browser

BROWSER_LOCALE = {"de": "de-DE", "en": "en-GB"}
BERLIN = ZoneInfo("Europe/Berlin")
PRESS_KIT_FILES = {
    "README.txt",
    "announcement-de.txt",
    "announcement-de.md",
    "announcement-en.txt",
    "announcement-en.md",
    "open-data/ideas.csv",
    "open-data/ideas.json",
    "snapshot.json",
}


@pytest.fixture
def world(app, make_user, locale):
    """The jury's worked example, frozen; ideas in two districts and two categories, so the
    results page has charts as well as tables."""
    from jury.jury_support import jury_world
    from results.results_support import place_ideas

    from consult.jury.freezing import freeze_results

    world = jury_world(make_user)
    place_ideas(world)
    freeze_results(world.staff, world.challenge)
    press = make_user(email="presse@stadt.example", pseudonym="Pressestelle", roles=("press",),
                      locale=locale)  # fmt: skip
    return world, press


def guarded_urls(challenge_id: int) -> list[str]:
    base = f"/challenges/{challenge_id}/results"
    return [base, f"{base}/snapshot.json", f"{base}/ideas.csv", f"{base}/ideas.json",
            f"{base}/press-kit.zip"]  # fmt: skip


@pytest.mark.parametrize("locale", ["de", "en"])
def test_press_announces_with_an_embargo_and_the_public_sees_it_from_then_on(
    app, phone, check, live_server, world, locale, request, tmp_path
):
    world, press = world
    challenge = world.challenge
    stack = ExitStack()
    request.addfinalizer(stack.close)

    # The press officer, at a desk: from the header's "Press" link to the announcement.
    desk = phone(BROWSER_LOCALE[locale], desktop=True)
    log_in(desk, check, locale, press)
    main_nav(desk, tr(locale, "Main navigation")).get_by_role(
        "link", name=tr(locale, "Press"), exact=True
    ).click()
    check(desk)
    desk.locator(f'a[href="/press/challenges/{challenge.id}/announcement"]').first.click()
    check(desk)
    desk.get_by_label(tr(locale, "Title (German)")).fill("Die Gewinner stehen fest")
    desk.get_by_label(tr(locale, "Title (English)")).fill("The winners are decided")
    desk.get_by_label(tr(locale, "Lead (German)")).fill("Trinkbrunnen für die Innenstadt.")
    desk.get_by_label(tr(locale, "Lead (English)")).fill("Drinking fountains for the centre.")
    desk.get_by_label(tr(locale, "Text (German)")).fill("Danke an **alle**.")
    desk.get_by_label(tr(locale, "Text (English)")).fill("Thanks to **everyone**.")
    desk.get_by_label(re.compile("Trinkbrunnen")).check()
    embargo = (now() + timedelta(hours=2)).replace(second=0, microsecond=0)
    desk.get_by_label(tr(locale, "Embargo (Berlin time)")).fill(
        embargo.astimezone(BERLIN).strftime("%Y-%m-%dT%H:%M")
    )
    desk.get_by_role("button", name=tr(locale, "Save and publish with this embargo")).click()
    check(desk)
    expect(desk.locator("main .flashes")).to_contain_text(
        tr(locale, "The announcement is published. It becomes public at the embargo time.")
    )

    # The preview looks like the public page, with a banner.
    desk.get_by_role("link", name=tr(locale, "Preview the results page as the public will see it")).click()  # fmt: skip
    check(desk)
    expect(desk.locator("main h1")).to_have_text(
        "Die Gewinner stehen fest" if locale == "de" else "The winners are decided"
    )

    # A visitor on a phone finds nothing: not the page, not a download, not the feed.
    visitor = phone(BROWSER_LOCALE[locale])
    visitor.goto(f"/challenges/{challenge.id}")
    check(visitor)
    expect(visitor.get_by_role("link", name=tr(locale, "Results"), exact=True)).to_have_count(0)
    for url in guarded_urls(challenge.id):
        assert visitor.request.get(live_server(url)).status == 404, url
    response = visitor.goto(guarded_urls(challenge.id)[0])
    assert response.status == 404
    phone.recorder(visitor).forget()  # the browser logs the 404 we asked for
    check(visitor)  # the error page itself is accessible
    for url in ("/feed.atom", "/sitemap.xml"):
        body = visitor.request.get(live_server(url)).text()
        assert f"/challenges/{challenge.id}/results" not in body, url
        assert "Die Gewinner stehen fest" not in body and "The winners are decided" not in body

    # The clock passes the embargo; no job runs. A new visitor (pages are cached a while).
    stack.enter_context(travel(embargo - now() + timedelta(seconds=1)))
    visitor = phone(BROWSER_LOCALE[locale])
    visitor.goto(f"/challenges/{challenge.id}")
    check(visitor)
    visitor.get_by_role("link", name=tr(locale, "Results"), exact=True).click()
    check(visitor)
    main = visitor.locator("main")
    expect(main.locator("h1")).to_have_text(
        "Die Gewinner stehen fest" if locale == "de" else "The winners are decided"
    )
    sep = "," if locale == "de" else "."
    for title, score in (("Trinkbrunnen", "0.750"), ("Bäume am Markt", "0.600"),
                         ("Grüne Dächer", "0.500")):  # fmt: skip
        expect(main.locator("table.ranking")).to_contain_text(title)
        expect(main.locator("table.ranking")).to_contain_text(score.replace(".", sep))
    expect(main.locator("figure img")).not_to_have_count(0)  # charts, each with its table
    for image in main.locator("figure img").all():
        assert image.get_attribute("alt")
        assert visitor.request.get(live_server(image.get_attribute("src"))).status == 200

    # On a 320 px phone nothing scrolls sideways, and numbers stay whole.
    visitor.set_viewport_size({"width": 320, "height": 800})
    assert visitor.evaluate("document.documentElement.scrollWidth") <= 320
    check(visitor)
    visitor.screenshot(path=str(tmp_path / f"results-{locale}.png"), full_page=True)

    # The open data: a real download through the link.
    with visitor.expect_download() as download:
        visitor.get_by_role("link", name=tr(locale, "Download as CSV (spreadsheet)")).click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert {row["title"] for row in rows} == {"Bäume am Markt", "Trinkbrunnen", "Grüne Dächer"}
    assert {row["rank"] for row in rows} == {"1", "2", "3"}
    assert "Ideengeberin" not in text  # no personal data

    # The press kit holds every file the issue names.
    with visitor.expect_download() as download:
        visitor.get_by_role("link", name=re.compile(re.escape(tr(locale, "Press kit (ZIP): the announcement in German and English, chart images, the open data and the snapshot")))).click()  # fmt: skip
    names = set(zipfile.ZipFile(download.value.path()).namelist())
    assert names >= PRESS_KIT_FILES
    charts = {n for n in names if n.startswith("charts/") and n.endswith(".png")}
    assert {c.rsplit("-", 1)[1] for c in charts} == {"de.png", "en.png"}

    # And the feed now announces it.
    feed = visitor.request.get(live_server("/feed.atom")).text()
    assert f"/challenges/{challenge.id}/results" in feed
