"""The public results page and the snapshot download: nothing before the embargo, everything
(winners, ranking, formula, snapshot, next steps, participation figures) from it on."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from results_support import (
    announce,
    frozen_world,
    html,
    make_idea,
    place_ideas,
    press_of,
    publish_past_embargo,
    results_url,
    says,
    snapshot_url,
    stored_announcement,
)
from sqlalchemy import event

from consult.clock import frozen, travel
from consult.extensions import db
from consult.ideas.models import Comment
from consult.jury.freezing import get_snapshot, snapshot_download
from consult.projects.models import LabProject
from consult.results import services
from consult.results.models import Announcement
from consult.voting.models import Vote

# --- nothing before its time --------------------------------------------------------------


def assert_hidden(client, challenge):
    for url in (results_url(challenge), snapshot_url(challenge)):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "sha256" not in html(response).lower()


def test_the_page_appears_at_the_embargo_with_no_job_run(app, client, make_user):
    world = frozen_world(make_user)
    announce(world, embargo=timedelta(hours=1))
    # From the stored embargo: publishing may take a while (charts are drawn inline here).
    with frozen(stored_announcement(world.challenge).embargo_at - timedelta(seconds=1)):
        assert_hidden(client, world.challenge)
    with travel(timedelta(hours=1, seconds=1)):
        assert client.get(results_url(world.challenge)).status_code == 200
        assert client.get(snapshot_url(world.challenge)).status_code == 200


def test_guessing_the_urls_of_unannounced_results_is_a_404(app, client, make_user):
    world = frozen_world(make_user)
    assert_hidden(client, world.challenge)  # frozen, no announcement
    announce(world, publish=False)
    with travel(timedelta(days=30)):  # a draft, even with its planned embargo long past
        assert_hidden(client, world.challenge)
    services.save_announcement(press_of(world), world.challenge, {})
    assert_hidden(client, world.challenge)
    assert client.get("/challenges/999999/results").status_code == 404
    assert client.get("/challenges/999999/results/snapshot.json").status_code == 404


def test_a_withdrawn_announcement_stays_hidden(app, client, make_user):
    world = frozen_world(make_user)
    announce(world, embargo=timedelta(hours=1))
    services.withdraw_announcement(press_of(world), world.challenge)
    with travel(timedelta(hours=2)):
        assert_hidden(client, world.challenge)


def test_a_logged_in_citizen_sees_nothing_earlier(app, client, make_user, login):
    world = frozen_world(make_user)
    announce(world, embargo=timedelta(hours=1))
    login(make_user(pseudonym="Ungeduldig"))
    assert_hidden(client, world.challenge)


def test_results_of_a_challenge_that_is_not_frozen_are_never_shown(app, client, make_user):
    world = frozen_world(make_user, freeze=False)
    # Written directly: the services refuse this.
    db.session.add(Announcement(challenge_id=world.challenge.id, title_de="X", title_en="X",
                                embargo_at=datetime.now(UTC) - timedelta(days=1),
                                published_at=datetime.now(UTC) - timedelta(days=2)))  # fmt: skip
    db.session.commit()
    assert client.get(results_url(world.challenge)).status_code == 404
    assert client.get(snapshot_url(world.challenge)).status_code == 404


# --- what the page shows ------------------------------------------------------------------


def test_the_page_shows_winners_ranking_formula_snapshot_and_next_steps(app, client, make_user):
    world = frozen_world(make_user)
    project = LabProject(challenge_id=world.challenge.id, idea_id=world.ideas[1].id,
                         title_de="Trinkbrunnen für alle", title_en="Fountains for all")  # fmt: skip
    db.session.add(project)
    db.session.commit()
    publish_past_embargo(world)
    response = client.get(results_url(world.challenge))
    assert response.status_code == 200
    text = html(response)
    assert "Die Gewinner stehen fest" in text
    assert "Trinkbrunnen und Bäume für die Innenstadt." in text
    assert "<strong>alle</strong>" in text
    winners = text[text.index('id="winners-heading"') : text.index('id="ranking-heading"')]
    assert f'/ideas/{world.ideas[1].id}"' in winners and "Trinkbrunnen" in winners
    assert f'/ideas/{world.ideas[0].id}"' not in winners
    # The full ranking with every component, three decimals, German decimal comma.
    ranking = text[text.index('id="ranking-heading"') : text.index('id="formula-heading"')]
    rows = re.findall(r"<tr>\s*<td>(\d)</td>.*?</tr>", ranking, re.S)
    assert rows == ["1", "2", "3"]
    for value in ("0,750", "0,600", "0,500", "1,000"):
        assert f"<td>{value}</td>" in ranking
    assert "<td>60</td>" in ranking and "<td>30</td>" in ranking
    # The formula in plain words: alpha and the criteria with their weights.
    assert (
        says("Combined score S = %(alpha)s %% × J + %(rest)s %% × P.", alpha="50", rest="50")
        in text
    )
    assert "Wirkung" in text and "Machbarkeit" in text
    # The snapshot, its SHA-256 and how to check it.
    snapshot = get_snapshot(world.challenge)
    assert snapshot.sha256 in text
    assert snapshot_url(world.challenge) in text
    assert "python3 -m consult.jury.ranking" in text
    # What happens next: the lab project.
    assert f"/projects/{project.id}" in text and "Trinkbrunnen für alle" in text


def test_the_page_in_english_uses_a_decimal_point(app, client, make_user):
    world = frozen_world(make_user)
    publish_past_embargo(world)
    text = html(client.get(results_url(world.challenge), headers={"Accept-Language": "en"}))
    assert "The winners are decided" in text and "<td>0.750</td>" in text
    assert 'lang="en"' in text


def test_the_snapshot_download_is_the_frozen_file(app, client, make_user):
    world = frozen_world(make_user)
    publish_past_embargo(world)
    response = client.get(snapshot_url(world.challenge))
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.data == snapshot_download(get_snapshot(world.challenge))
    assert "attachment" in response.headers["Content-Disposition"]


def test_public_pages_are_cacheable_and_set_no_cookies(app, client, make_user):
    world = frozen_world(make_user)
    publish_past_embargo(world)
    for url in (results_url(world.challenge), snapshot_url(world.challenge)):
        response = client.get(url)
        assert response.status_code == 200
        assert "public" in response.headers["Cache-Control"]
        assert "Set-Cookie" not in response.headers
        assert response.headers.get("ETag")


def test_the_preview_is_the_public_page_apart_from_the_banner(app, client, make_user, login):
    world = frozen_world(make_user)
    announce(world, embargo=timedelta(hours=1))
    login(press_of(world))
    preview = client.get(f"/press/challenges/{world.challenge.id}/announcement/preview")
    assert preview.status_code == 200
    preview_text = html(preview)
    assert 'class="notice preview-banner"' in preview_text
    assert (
        says("Preview — not public until %(time)s (Berlin time).", time="@").split("@")[0]
        in preview_text
    )
    client.post_form("/account/logout")
    with travel(timedelta(hours=1, seconds=1)):
        public = html(client.get(results_url(world.challenge)))
    assert "preview-banner" not in public

    def article(text):
        return re.search(r'<article class="results".*?</article>', text, re.S).group(0)

    assert article(preview_text) == article(public)


def test_a_draft_can_be_previewed(app, client, make_user, login):
    world = frozen_world(make_user)
    announce(world, publish=False)
    login(press_of(world))
    preview = client.get(f"/press/challenges/{world.challenge.id}/announcement/preview")
    assert preview.status_code == 200
    assert "Die Gewinner stehen fest" in html(preview)


def test_the_challenge_page_links_the_results_once_public(app, client, make_user):
    world = frozen_world(make_user)
    announcement = announce(world, embargo=timedelta(hours=1))
    assert results_url(world.challenge) not in html(client.get(f"/challenges/{world.challenge.id}"))
    with travel(timedelta(hours=2)):
        page = html(client.get(f"/challenges/{world.challenge.id}"))
    assert f'href="{results_url(world.challenge)}"' in page
    assert stored_announcement(world.challenge).id == announcement.id


# --- participation figures ----------------------------------------------------------------


def _vote(challenge, idea, user, at):
    db.session.add(Vote(challenge_id=challenge.id, idea_id=idea.id, user_id=user.id, created_at=at))


@pytest.fixture
def figures_world(app, make_user):
    world = frozen_world(make_user)
    challenge = world.challenge
    place_ideas(world)
    a, b, _c = world.ideas
    hidden = make_idea(challenge, "Versteckt")
    hidden.status = "hidden"
    db.session.commit()
    voters = [make_user(pseudonym=f"Wählerin {n}") for n in range(3)]
    # 22:30 UTC on 1 June is 00:30 on 2 June in Berlin (summer time).
    _vote(challenge, a, voters[0], datetime(2026, 6, 1, 22, 30, tzinfo=UTC))
    _vote(challenge, b, voters[0], datetime(2026, 6, 1, 21, 30, tzinfo=UTC))
    _vote(challenge, b, voters[1], datetime(2026, 6, 3, 9, 0, tzinfo=UTC))
    _vote(challenge, hidden, voters[2], datetime(2026, 6, 3, 9, 0, tzinfo=UTC))
    commenter = make_user(pseudonym="Kommentator")
    db.session.add(Comment(idea_id=a.id, author_id=commenter.id, body="Gut!"))
    db.session.add(Comment(idea_id=a.id, author_id=voters[0].id, body="Ja"))
    db.session.add(Comment(idea_id=a.id, author_id=voters[1].id, body="weg", status="hidden"))
    db.session.commit()
    return world


def test_participation_figures_are_counted_right(figures_world):
    world = figures_world
    figures = services.participation_figures(world.challenge, "en")
    # Accounts: the author of idea 1 (submitted), three voters, the commenter.
    assert figures.citizens == 5
    assert figures.ideas == 3  # the hidden idea does not count
    # Paper votes 30 + 60 + 0, and three online votes on published ideas.
    assert (figures.online_votes, figures.paper_votes, figures.votes) == (3, 90, 93)
    assert figures.comments == 2
    by_district = {row.name: (row.ideas, row.votes) for row in figures.by_district}
    assert by_district == {"Nordstadt": (2, 31), "Hörde": (1, 62)}
    by_category = {row.name: (row.ideas, row.votes) for row in figures.by_category}
    assert by_category == {"Trees": (1, 31), "Water": (1, 62), "No category": (1, 0)}
    assert figures.by_day == [(date(2026, 6, 1), 1), (date(2026, 6, 2), 1), (date(2026, 6, 3), 1)]


def test_participation_figures_take_few_queries(figures_world):
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        db.session.expire_all()
        challenge = db.session.get(type(figures_world.challenge), figures_world.challenge.id)
        statements.clear()
        services.participation_figures(challenge, "de")
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert len(statements) <= 8, statements


def test_the_page_shows_the_figures_as_tables(figures_world, client):
    publish_past_embargo(figures_world)
    text = html(client.get(results_url(figures_world.challenge)))
    assert says("Who took part") in text
    for heading in ("By district", "By category", "Online votes over time"):
        assert says(heading) in text
    assert "Nordstadt" in text and "Bäume" in text
    assert '<time datetime="2026-06-02">' in text


def test_the_page_offers_the_open_data_under_its_licence(app, client, make_user):
    world = frozen_world(make_user)
    publish_past_embargo(world)
    page = html(client.get(results_url(world.challenge)))
    for url in (
        f"/challenges/{world.challenge.id}/results/ideas.csv",
        f"/challenges/{world.challenge.id}/results/ideas.json",
    ):
        assert f'href="{url}"' in page
        assert client.get(url, buffered=True).status_code == 200
    assert 'href="https://www.govdata.de/dl-de/by-2-0" rel="license"' in page
    assert "Datenlizenz Deutschland – Namensnennung – Version 2.0" in page
