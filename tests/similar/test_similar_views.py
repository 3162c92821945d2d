"""The check for similar ideas on the citizen's idea form and the staff workshop form."""

import re
from io import BytesIO

import pytest
from similar_support import make_challenge, make_idea
from sqlalchemy import func, select
from testdata import html, says

from consult.extensions import db
from consult.ideas.models import Idea

BENCHES = ("Mehr Bänke am Westenhellweg", "Auf dem Westenhellweg fehlen Bänke zum Ausruhen.")
HEADING = "Is your idea already here? Vote for it instead"


@pytest.fixture
def world(app, make_user):
    challenge = make_challenge()
    existing = make_idea(challenge, *BENCHES)
    citizen = make_user(email="anna@example.org", pseudonym="Anna")
    return challenge, existing, citizen


def _ideas() -> int:
    return db.session.scalar(select(func.count()).select_from(Idea))


def _form(**fields):
    data = {"title": "Sitzbänke am Westenhellweg", "body": "Bitte Bänke zum Ausruhen!"}
    data.update(fields)
    return data


def test_the_form_offers_the_check(world, client, login):
    challenge, _existing, citizen = world
    login(citizen)
    page = client.get(f"/challenges/{challenge.id}/ideas/new")
    assert says("Check for similar ideas") in html(page)
    assert 'name="check_similar"' in html(page)
    assert "js/similar.js" in html(page)


@pytest.mark.parametrize("locale", ["de", "en"])
def test_the_check_keeps_the_draft_and_shows_the_similar_idea(world, client, login, locale):
    challenge, existing, citizen = world
    citizen.locale = locale
    db.session.commit()
    login(citizen)
    before = _ideas()
    # Only title and text: a check needs no category or language (nothing is validated).
    response = client.post_form(
        f"/challenges/{challenge.id}/ideas/new", _form(check_similar="1", body="")
    )
    page = html(response)
    assert response.status_code == 200
    assert _ideas() == before  # nothing saved
    assert says(HEADING, locale) in page
    assert f'href="/ideas/{existing.id}"' in page
    assert 'value="Sitzbänke am Westenhellweg"' in page  # the draft is kept
    assert 'class="error"' not in page  # and not judged yet
    # Then the normal save still works.
    response = client.post_form(
        f"/challenges/{challenge.id}/ideas/new", _form(language=locale, district_id="")
    )
    assert response.status_code == 302
    assert _ideas() == before + 1


def test_the_check_says_when_nothing_is_similar(world, client, login):
    challenge, _existing, citizen = world
    login(citizen)
    response = client.post_form(
        f"/challenges/{challenge.id}/ideas/new",
        _form(check_similar="1", title="Kostenloses WLAN", body="Freies Internet im Bus."),
    )
    assert says("We found no similar idea in this challenge.") in html(response)


def test_editing_does_not_show_the_idea_itself(world, client, login):
    challenge, existing, citizen = world
    own = make_idea(challenge, "Bänke am Westenhellweg", BENCHES[1], author=citizen)
    login(citizen)
    response = client.post_form(f"/ideas/{own.id}/edit", _form(check_similar="1"))
    page = html(response)
    assert f'href="/ideas/{existing.id}"' in page
    listed = page.split('id="similar-results"')[1].split("</div>")[0]
    assert f'href="/ideas/{existing.id}"' in listed
    assert f'href="/ideas/{own.id}"' not in listed
    assert db.session.get(Idea, own.id).title == "Bänke am Westenhellweg"  # not saved


def test_the_fragment_lists_similar_ideas(world, client, login):
    challenge, existing, citizen = world
    login(citizen)
    response = client.post_form(f"/challenges/{challenge.id}/similar", _form())
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert f'href="/ideas/{existing.id}"' in html(response)
    assert "<html" not in html(response)


def test_the_fragment_needs_a_login_and_a_token(world, client, login):
    challenge, _existing, citizen = world
    response = client.post(f"/challenges/{challenge.id}/similar", data=_form())
    assert response.status_code in (302, 400, 401)
    login(citizen)
    assert client.post(f"/challenges/{challenge.id}/similar", data=_form()).status_code == 400


def test_the_fragment_is_rate_limited(world, client, login):
    challenge, _existing, citizen = world
    login(citizen)
    statuses = [
        client.post_form(f"/challenges/{challenge.id}/similar", _form()).status_code
        for _ in range(45)
    ]
    assert statuses[0] == 200 and statuses[-1] == 429
    # The form's check says so and keeps the text instead of failing.
    response = client.post_form(f"/challenges/{challenge.id}/ideas/new", _form(check_similar="1"))
    assert response.status_code == 200
    assert says("You are checking very often. Please wait a minute and try again.") in html(
        response
    )
    assert 'value="Sitzbänke am Westenhellweg"' in html(response)


def test_staff_check_on_the_workshop_form(world, client, login, make_user):
    challenge, existing, _citizen = world
    staff = make_user(email="chefin@example.org", roles=("citizen", "staff"), locale="en")
    login(staff)
    url = f"/staff/challenges/{challenge.id}/workshop-ideas/new"
    page = html(client.get(url))
    assert says("Check for similar ideas", "en") in page
    before = _ideas()
    response = client.post_form(url, _form(check_similar="1", workshop_name="Werkstatt Hörde"))
    page = html(response)
    assert response.status_code == 200
    assert _ideas() == before
    assert says(HEADING, "en") in page
    assert f'href="/ideas/{existing.id}"' in page
    assert re.search(r'value="Werkstatt Hörde"', page)


def test_a_chosen_photo_is_asked_for_again_after_the_check(world, client, login):
    challenge, _existing, citizen = world
    login(citizen)
    response = client.post_form(
        f"/challenges/{challenge.id}/ideas/new",
        _form(check_similar="1", image=(BytesIO(b"not even a photo"), "bank.jpg")),
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert says(
        "For your safety, browsers do not keep a chosen file when a form is shown again: "
        "please choose your photo again."
    ) in html(response)
    assert _ideas() == 1  # only the existing idea; the upload was not stored either
