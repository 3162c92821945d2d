"""The staff results page: preview, freezing with a confirmation, the frozen ranking and
its snapshot download; only staff get in, and every refusal says why."""

import json

import pytest
from jury_support import DAY, jury_world, says_n
from sqlalchemy import func, select
from testdata import html, shows

from consult.challenges.models import Challenge
from consult.clock import now
from consult.extensions import db
from consult.jury import freezing, ranking
from consult.jury.models import ResultSnapshot

PENDING = ("%(num)d juror has not submitted their scores yet.",
           "%(num)d jurors have not submitted their scores yet.")  # fmt: skip


def page_url(challenge) -> str:
    return f"/staff/challenges/{challenge.id}/results"


def freeze_url(challenge) -> str:
    return page_url(challenge) + "/freeze"


def snapshot_url(challenge) -> str:
    return page_url(challenge) + "/snapshot.json"


def snapshots() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(ResultSnapshot))


def frozen_at(challenge) -> object:
    db.session.expire_all()
    return db.session.get(Challenge, challenge.id).results_frozen_at


@pytest.fixture
def world(app, make_user):
    return jury_world(make_user)


# --- who gets in ----------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_log_in(world, client):
    for url in (page_url(world.challenge), snapshot_url(world.challenge)):
        response = client.get(url)
        assert response.status_code == 302 and "/account/login" in response.location


@pytest.mark.parametrize("who", ["juror", "citizen"])
def test_others_than_staff_get_403(world, client, login, make_user, who):
    user = world.jurors[0] if who == "juror" else make_user()
    login(user)
    assert client.get(page_url(world.challenge)).status_code == 403
    assert client.get(snapshot_url(world.challenge)).status_code == 403
    response = client.post_form(freeze_url(world.challenge), {"confirm": "yes"})
    assert response.status_code == 403
    assert snapshots() == 0 and frozen_at(world.challenge) is None


def test_unknown_challenge_is_404(world, client, login):
    login(world.staff)
    assert client.get("/staff/challenges/99999/results").status_code == 404
    assert (
        client.post_form("/staff/challenges/99999/results/freeze", {"confirm": "yes"}).status_code
        == 404
    )


# --- the preview ----------------------------------------------------------------------------


def test_preview_shows_the_ranking_the_formula_and_the_freeze_form(world, client, login):
    login(world.staff)
    response = client.get(page_url(world.challenge))
    assert response.status_code == 200
    text = html(response)
    assert shows(response, "Preview: these results are not frozen yet and may still change.")
    one, two, three = world.ideas
    # Rank order, each idea linked to its public page, three decimals.
    assert text.index(f'href="/ideas/{two.id}"') < text.index(f'href="/ideas/{one.id}"')
    assert text.index(f'href="/ideas/{one.id}"') < text.index(f'href="/ideas/{three.id}"')
    # Three decimals with the German decimal comma.
    for value in ("0,750", "0,600", "0,500", "0,700", "1,000"):
        assert f"<td>{value}</td>" in text
    assert shows(
        response, "Combined score S = %(alpha)s %% × J + %(rest)s %% × P.", alpha="50", rest="50"
    )
    assert "Wirkung" in text and "Machbarkeit" in text
    assert shows(response, "Juror centering is off.")
    assert f'action="{freeze_url(world.challenge)}"' in text
    assert 'name="confirm"' in text and 'for="confirm"' in text
    # Nothing to promote or download before freezing.
    assert "/promote" not in text and "snapshot.json" not in text


def test_english_staff_see_english_names(world, client, login, make_user):
    login(make_user(roles=("citizen", "staff"), locale="en"))
    response = client.get(page_url(world.challenge))
    assert shows(response, "How the ranking is computed", "en")
    assert '<span lang="en">Impact</span>' in html(response)
    assert "<td>0.750</td>" in html(response)


def test_no_values_while_a_juror_is_at_work(app, client, login, make_user):
    world = jury_world(make_user, submitted=False)
    login(world.staff)
    response = client.get(page_url(world.challenge))
    assert response.status_code == 200
    assert says_n(*PENDING, 2) in html(response)
    text = html(response)
    assert "0,750" not in text and "0,600" not in text
    assert f'action="{freeze_url(world.challenge)}"' not in text


def test_no_freeze_form_while_voting_runs(world, client, login):
    world.challenge.voting_closes_at = now() + DAY
    db.session.commit()
    login(world.staff)
    response = client.get(page_url(world.challenge))
    assert shows(response, "Results can only be frozen once voting has closed.")
    assert f'action="{freeze_url(world.challenge)}"' not in html(response)


# --- freezing -------------------------------------------------------------------------------


def test_freezing_needs_the_confirmation(world, client, login):
    login(world.staff)
    response = client.post_form(freeze_url(world.challenge), {})
    assert response.status_code == 400
    text = html(response)
    assert shows(response, "Please confirm that you want to freeze the results for good.")
    assert 'aria-describedby="confirm-error"' in text and 'id="confirm-error"' in text
    assert snapshots() == 0 and frozen_at(world.challenge) is None


def test_freezing_without_csrf_is_refused(world, client, login):
    login(world.staff)
    response = client.post(freeze_url(world.challenge), data={"confirm": "yes"})
    assert response.status_code == 400
    assert snapshots() == 0


def test_freeze_is_post_only(world, client, login):
    login(world.staff)
    assert client.get(freeze_url(world.challenge)).status_code == 405


def test_freezing_then_the_frozen_page(world, client, login):
    login(world.staff)
    response = client.post_form(freeze_url(world.challenge), {"confirm": "yes"})
    assert response.status_code == 302 and response.location.endswith(page_url(world.challenge))
    stored = db.session.get(ResultSnapshot, world.challenge.id)
    response = client.get(page_url(world.challenge))
    text = html(response)
    assert shows(response, "The results are frozen (SHA-256 %(hash)s).", hash=stored.sha256)
    assert shows(response, "Frozen results")
    assert f'<code class="sha256">{stored.sha256}</code>' in text
    stamp = stored.frozen_at.isoformat(timespec="seconds")  # HTML allows no microseconds
    assert f'datetime="{stamp}"' in text
    assert f'href="{snapshot_url(world.challenge)}"' in text
    for idea in world.ideas:
        assert f'href="/staff/challenges/{world.challenge.id}/ideas/{idea.id}/promote"' in text
    assert f'action="{freeze_url(world.challenge)}"' not in text
    assert "<td>0,750</td>" in text
    assert not shows(response, "Preview: these results are not frozen yet and may still change.")


def test_the_frozen_page_shows_the_snapshot_not_todays_rows(world, client, login):
    login(world.staff)
    client.post_form(freeze_url(world.challenge), {"confirm": "yes"})
    # Even if a row changed behind every lock, the page shows what was frozen.
    world.ideas[0].title = "Umbenannt"
    db.session.commit()
    text = html(client.get(page_url(world.challenge)))
    assert "Bäume am Markt" in text and "Umbenannt" not in text


@pytest.mark.parametrize("locale", ["de", "en"])
def test_freezing_twice_says_so_in_the_users_language(world, client, login, make_user, locale):
    freezing.freeze_results(world.staff, world.challenge)
    sha = db.session.get(ResultSnapshot, world.challenge.id).sha256
    login(make_user(roles=("citizen", "staff"), locale=locale))
    response = client.post_form(freeze_url(world.challenge), {"confirm": "yes"})
    assert response.status_code == 409
    assert shows(response, "The results of this challenge are already frozen.", locale)
    assert snapshots() == 1
    assert db.session.get(ResultSnapshot, world.challenge.id).sha256 == sha


def test_freezing_with_a_juror_at_work_is_409_and_names_how_many(app, client, login, make_user):
    world = jury_world(make_user, submitted=False)
    login(world.staff)
    response = client.post_form(freeze_url(world.challenge), {"confirm": "yes"})
    assert response.status_code == 409
    assert says_n(*PENDING, 2) in html(response)
    assert snapshots() == 0 and frozen_at(world.challenge) is None


# --- the snapshot download ------------------------------------------------------------------


def test_snapshot_is_404_before_freezing(world, client, login):
    login(world.staff)
    assert client.get(snapshot_url(world.challenge)).status_code == 404


def test_snapshot_download_verifies(world, client, login):
    login(world.staff)
    client.post_form(freeze_url(world.challenge), {"confirm": "yes"})
    response = client.get(snapshot_url(world.challenge))
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    document = json.loads(response.get_data())
    stored = db.session.get(ResultSnapshot, world.challenge.id)
    assert document["sha256"] == stored.sha256
    assert ranking.verify_snapshot(document) == []
    assert {k: v for k, v in document.items() if k != "sha256"} == json.loads(stored.document)
