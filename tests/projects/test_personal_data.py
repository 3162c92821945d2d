"""A juror's reviews and an author's co-creator invitations are part of "download my data";
deleting the account blanks private jury notes and withdraws unanswered invitations."""

import json

from jury.jury_support import review_of
from project_support import count, freeze, jury_world, promote
from sqlalchemy import select
from testdata import PASSWORD

from consult.extensions import db
from consult.jury.models import JuryReview, JuryScore, ResultSnapshot
from consult.projects.models import CoCreator


def _download(client, login, user) -> dict:
    login(user)
    data = json.loads(client.get("/account/data.json").get_data(as_text=True))
    assert data["account"]["id"] == user.id
    client.post_form("/account/logout")  # the next download may be someone else's
    client.forget_csrf()
    return data


def _delete(client) -> None:
    response = client.post_form("/account/delete", {"current_password": PASSWORD, "confirm": "y"})
    assert response.status_code == 302


def test_a_juror_downloads_own_reviews_with_scores_notes_and_dates(client, login, make_user):
    world = jury_world(make_user)
    x, y = world.jurors
    review = review_of(x, world.ideas[0])
    review.note = "Nur für mich: gute Lage"
    db.session.commit()

    data = _download(client, login, x)
    reviews = data["jury_reviews"]
    assert [r["idea_id"] for r in reviews] == [i.id for i in world.ideas]
    first = reviews[0]
    assert first["challenge_id"] == world.challenge.id
    assert first["idea_title"] == "Bäume am Markt"
    assert first["note"] == "Nur für mich: gute Lage"
    assert first["conflict_of_interest"] is False
    assert [(s["criterion_de"], s["criterion_en"], s["value"]) for s in first["scores"]] == [
        ("Wirkung", "Impact", 8),
        ("Machbarkeit", "Feasibility", 5),
    ]
    assert first["saved_at"] and first["submitted_at"]
    # Only the juror's own reviews: nothing of juror Y.
    assert "Juror Y" not in json.dumps(data)

    conflict = _download(client, login, y)["jury_reviews"][2]
    assert conflict["conflict_of_interest"] is True and conflict["scores"] == []


def test_a_citizen_without_jury_work_or_invitations_gets_empty_lists(client, login, make_user):
    data = _download(client, login, make_user())
    assert data["jury_reviews"] == [] and data["cocreator_invitations"] == []
    assert data["followed_ideas"] == []


def test_an_author_downloads_own_cocreator_invitations(client, login, make_user):
    world = jury_world(make_user)
    freeze(world)
    project = promote(world)
    data = _download(client, login, world.author)
    [invitation] = data["cocreator_invitations"]
    assert invitation["project_id"] == project.id
    assert invitation["project_title_de"] == "Bäume für den Markt"
    assert invitation["state"] == "invited"
    assert invitation["invited_at"] and invitation["responded_at"] is None
    assert _download(client, login, world.staff)["cocreator_invitations"] == []


def test_deleting_a_juror_blanks_private_notes_and_keeps_scores(client, login, make_user):
    world = jury_world(make_user)
    x = world.jurors[0]
    for idea in world.ideas:
        review_of(x, idea).note = f"Notiz zu {idea.title}"
    review_of(world.jurors[1], world.ideas[0]).note = "Notiz von Y"
    db.session.commit()
    freeze(world)
    snapshot = db.session.scalar(select(ResultSnapshot.document))
    scores_before = count(JuryScore)

    login(x)
    _delete(client)
    db.session.expire_all()
    own = db.session.scalars(select(JuryReview.note).where(JuryReview.juror_id == x.id)).all()
    assert own == ["", "", ""]
    assert review_of(world.jurors[1], world.ideas[0]).note == "Notiz von Y"  # others' stay
    assert count(JuryScore) == scores_before  # the scores stay, pseudonymous
    assert db.session.scalar(select(ResultSnapshot.document)) == snapshot


def test_deleting_an_author_withdraws_an_unanswered_invitation(client, login, make_user):
    world = jury_world(make_user)
    freeze(world)
    project = promote(world)
    assert count(CoCreator, CoCreator.user_id == world.author.id) == 1
    login(world.author)
    _delete(client)
    assert count(CoCreator) == 0
    assert count(CoCreator, CoCreator.project_id == project.id) == 0


def test_deleting_an_author_keeps_an_answered_invitation(client, login, make_user):
    world = jury_world(make_user)
    freeze(world)
    project = promote(world)
    invitation = db.session.get(CoCreator, (project.id, world.author.id))
    invitation.state = "accepted"
    db.session.commit()
    login(world.author)
    _delete(client)
    db.session.expire_all()
    assert db.session.get(CoCreator, (project.id, world.author.id)).state == "accepted"
    # The page names active accounts only: the deleted author is gone from it.
    page = client.get(f"/projects/{project.id}").get_data(as_text=True)
    assert "Ideengeberin" not in page
