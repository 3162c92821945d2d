"""The demo city's finished challenge: seeded with the real services (votes, jury, freezing,
the press announcement, the lab project), so that a newcomer finds public results, charts,
a feed entry, a press kit and a lab project, and the snapshot verifies."""

import io
import zipfile

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from consult.challenges.models import Challenge
from consult.demo import (
    DEMO_ACCOUNTS,
    RESULTS_ANNOUNCEMENT,
    RESULTS_BALLOTS,
    RESULTS_IDEAS,
    results_challenge_id,
)
from consult.extensions import db
from consult.ideas.models import Idea
from consult.jury.freezing import get_snapshot, snapshot_download
from consult.jury.models import JurorAssignment, JuryCriterion
from consult.projects.models import LabProject, Partner, ProjectUpdate
from consult.results import services as results_services
from consult.results.models import Announcement, ResultChart
from consult.voting.models import PaperVoteEntry, Vote


def esc(text: str) -> str:
    return str(escape(text))


def seed(app):
    result = app.test_cli_runner().invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def seeded(app):
    return seed(app).output


def row_counts() -> dict[str, int]:
    return {
        table.name: db.session.scalar(select(func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    }


def finished_challenge() -> Challenge:
    return db.session.get(Challenge, results_challenge_id())


def project_of(challenge) -> LabProject:
    return db.session.scalar(select(LabProject).where(LabProject.challenge_id == challenge.id))


def test_the_finished_challenge_went_through_every_phase(app, seeded):
    challenge = finished_challenge()
    assert challenge.phase() == "results" and challenge.is_frozen
    ideas = db.session.scalars(select(Idea).where(Idea.challenge_id == challenge.id)).all()
    assert len(ideas) == len(RESULTS_IDEAS)
    assert {i.district_id is not None and i.category_id is not None for i in ideas} == {True}
    online = db.session.scalar(
        select(func.count()).select_from(Vote).where(Vote.challenge_id == challenge.id)
    )
    assert online == sum(len(chosen) for chosen in RESULTS_BALLOTS.values())
    paper = db.session.scalar(
        select(func.sum(PaperVoteEntry.count))
        .join(Idea, Idea.id == PaperVoteEntry.idea_id)
        .where(Idea.challenge_id == challenge.id)
    )
    assert paper == sum(spec[-1] for spec in RESULTS_IDEAS)
    criteria = select(func.count()).select_from(JuryCriterion)
    assert db.session.scalar(criteria.where(JuryCriterion.challenge_id == challenge.id)) == 3
    seats = db.session.scalars(
        select(JurorAssignment).where(JurorAssignment.challenge_id == challenge.id)
    ).all()
    assert len(seats) == len([a for a in DEMO_ACCOUNTS if a[0] == "juror"])
    assert all(seat.submitted_at is not None for seat in seats)
    announcement = db.session.scalar(
        select(Announcement).where(Announcement.challenge_id == challenge.id)
    )
    assert announcement.is_public() and announcement.title_de == RESULTS_ANNOUNCEMENT["title_de"]
    charts = select(func.count()).select_from(ResultChart)
    assert db.session.scalar(charts.where(ResultChart.challenge_id == challenge.id)) > 0
    project = project_of(challenge)
    assert project.status == "piloting"
    assert db.session.scalar(
        select(func.count()).select_from(ProjectUpdate).where(ProjectUpdate.project_id == project.id)
    ) == 1  # fmt: skip
    # The announcement's texts name the first two of the frozen ranking; the first is the project.
    ranked = [row.idea_id for row in results_services.ranked_rows(challenge)]
    assert results_services.highlight_ids(announcement) == ranked[:2]
    assert project.idea_id == ranked[0]


def test_seeding_twice_changes_nothing(app, seeded, mailbox):
    challenge = finished_challenge()
    before = row_counts()
    sha256 = get_snapshot(challenge).sha256
    mails = len(mailbox.messages())
    again = seed(app)
    assert row_counts() == before
    assert get_snapshot(finished_challenge()).sha256 == sha256
    assert len(mailbox.messages()) == mails
    assert again.output == seeded


def test_a_newcomer_finds_results_charts_feed_press_kit_and_project(app, client, seeded, tmp_path):
    challenge = finished_challenge()
    results_url = f"/challenges/{challenge.id}/results"
    # The seed command names the results page next to the logins (PUBLIC_URL in the tests).
    assert f"http://localhost{results_url}" in seeded

    page = client.get(results_url)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert esc(RESULTS_ANNOUNCEMENT["title_de"]) in text
    project = project_of(challenge)
    assert esc(project.title_de) in text and f"/projects/{project.id}" in text
    charts = [part.split('"')[0] for part in text.split(f'src="{results_url}/charts/')[1:]]
    assert charts and all(".svg?" in chart for chart in charts)
    chart = client.get(f"{results_url}/charts/{charts[0]}")
    assert chart.status_code == 200 and chart.mimetype == "image/svg+xml"
    assert f'href="{results_url}"' in client.get(f"/challenges/{challenge.id}").get_data(
        as_text=True
    )

    feed = client.get("/feed.atom")
    assert feed.status_code == 200
    feed_text = feed.get_data(as_text=True)
    assert esc(RESULTS_ANNOUNCEMENT["title_de"]) in feed_text
    assert f"http://localhost{results_url}" in feed_text
    assert f"http://localhost/projects/{project.id}" in feed_text

    kit = client.get(f"{results_url}/press-kit.zip")
    assert kit.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(kit.data)).namelist()
    assert any(name.endswith(".png") for name in names)
    assert any("snapshot" in name for name in names)

    project_page = client.get(f"/projects/{project.id}")
    assert project_page.status_code == 200
    project_text = project_page.get_data(as_text=True)
    assert "ADFC Dortmund" in project_text and "300 Meter" in project_text
    assert db.session.scalar(
        select(func.count()).select_from(Partner).where(Partner.project_id == project.id)
    ) == 2  # fmt: skip

    snapshot = tmp_path / "snapshot.json"
    snapshot.write_bytes(snapshot_download(get_snapshot(challenge)))
    verified = app.test_cli_runner().invoke(args=["results", "verify", str(snapshot)])
    assert verified.exit_code == 0, verified.output
    assert verified.output.startswith("OK: the ranking matches its inputs")


def test_a_seed_that_broke_off_is_completed_by_the_next(app, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the machine went down")

    monkeypatch.setattr(results_services, "publish_announcement", broken)
    failed = app.test_cli_runner().invoke(args=["demo", "seed"])
    assert failed.exit_code != 0
    challenge = finished_challenge()
    assert challenge.is_frozen and project_of(challenge) is None
    monkeypatch.undo()
    seed(app)
    challenge = finished_challenge()
    assert results_services.get_announcement(challenge).is_public()
    assert project_of(challenge) is not None
