"""A citizen's contributions are part of "download my data"; drafts (and their photos)
leave with a deleted account while published ideas stay as "deleted account"."""

import json
from io import BytesIO

import pytest
from idea_support import build_world, count, fresh, make_comment, make_idea, photo_bytes
from testdata import PASSWORD
from werkzeug.datastructures import FileStorage

from consult.ideas import services
from consult.ideas.models import Idea
from consult.media.models import Image


@pytest.fixture
def world(app, make_user):
    return build_world(make_user)


def test_download_lists_own_ideas_comments_and_reports(world, client, login):
    draft = make_idea(world.challenge, world.author, status="draft", title="Mein Entwurf")
    published = make_idea(world.challenge, world.author, title="Schon öffentlich")
    make_comment(published, world.author, body="Nachtrag von mir")
    make_idea(world.challenge, world.other, title="Nicht meine")
    login(world.author)
    data = json.loads(client.get("/account/data.json").get_data(as_text=True))
    assert {i["title"] for i in data["ideas"]} == {"Mein Entwurf", "Schon öffentlich"}
    assert {i["status"] for i in data["ideas"] if i["id"] == draft.id} == {"draft"}
    assert [c["body"] for c in data["comments"]] == ["Nachtrag von mir"]
    assert data["reports"] == []


def test_deleting_an_account_removes_drafts_with_photos_and_keeps_public_ideas(
    world, client, login
):
    draft = services.save_draft(
        world.author,
        world.challenge,
        {"title": "Entwurf mit Foto", "body": "Text", "category_id": world.category.id,
         "language": "de", "image_alt": "Ein Foto"},
        FileStorage(stream=BytesIO(photo_bytes()), filename="photo.jpg"),
    )  # fmt: skip
    assert draft.image_id is not None and count(Image) == 1
    draft_id = draft.id
    public = make_idea(world.challenge, world.author, title="Bleibt")
    login(world.author)
    response = client.post_form("/account/delete", {"current_password": PASSWORD, "confirm": "y"})
    assert response.status_code == 302
    assert count(Idea, Idea.id == draft_id) == 0 and count(Image) == 0
    kept = fresh(public)
    assert kept.status == "published" and kept.author.pseudonym is None
