"""Co-creator consent through signed mail links: GET shows a button, POST answers, once."""

from datetime import timedelta

import pytest
from project_support import audit, frozen_world, html, promote, says, state

from consult.accounts.tokens import make_token
from consult.clock import travel
from consult.extensions import db
from consult.projects.models import CoCreator


@pytest.fixture
def invited(make_user, mailbox):
    world = frozen_world(make_user)
    project = promote(world)
    mail = mailbox.last_to(world.author.email)
    links = {
        answer: mailbox.link(mail, f"/co-creator/{answer}/").replace("http://localhost", "")
        for answer in ("accept", "decline")
    }
    return world, project, links


def invitation(world, project) -> CoCreator:
    db.session.expire_all()
    return db.session.get(CoCreator, (project.id, world.author.id))


def test_accepting_names_the_author_on_the_project_page(client, invited):
    world, project, links = invited
    page = client.get(f"/projects/{project.id}")
    assert "Ideengeberin" not in html(page)  # invited only: nothing shown

    confirm = client.get(links["accept"])
    assert confirm.status_code == 200
    assert says("Yes, name me as co-creator") in html(confirm)
    assert invitation(world, project).state == "invited"  # a GET changes nothing

    answered = client.post_form(links["accept"])
    assert answered.status_code == 302 and answered.location.endswith(f"/projects/{project.id}")
    assert invitation(world, project).state == "accepted"
    assert invitation(world, project).responded_at is not None
    [entry] = audit("project.cocreator")
    assert entry.actor_id == world.author.id and entry.details["answer"] == "accept"
    page = client.get(f"/projects/{project.id}")
    assert "Ideengeberin" in html(page) and says("Co-creators") in html(page)


def test_declining_keeps_the_name_off_the_page(client, invited):
    world, project, links = invited
    assert client.post_form(links["decline"]).status_code == 302
    assert invitation(world, project).state == "declined"
    assert "Ideengeberin" not in html(client.get(f"/projects/{project.id}"))


def _refused(client, url: str, message: str, **kwargs):
    before = state()
    for response in (client.get(url), client.post_form(url)):
        assert response.status_code == 400, url
        assert says(message, **kwargs) in html(response)
    assert state() == before


def test_a_reused_link_is_refused(client, invited):
    world, project, links = invited
    assert client.post_form(links["accept"]).status_code == 302
    _refused(client, links["accept"], "This link has already been used.")
    # The other answer's link cannot undo the first answer either.
    _refused(client, links["decline"], "You have already answered this invitation.")
    assert invitation(world, project).state == "accepted"


def test_forged_and_tampered_links_are_refused(client, invited):
    world, project, links = invited
    invalid = "This link is not valid. Please copy it completely from the e-mail."
    _refused(client, links["accept"][:-3] + "abc", invalid)
    _refused(client, f"/projects/{project.id}/co-creator/accept/not-a-token", invalid)
    # A link for "decline" does not accept, and a link made for another purpose does nothing.
    swapped = links["decline"].replace("/decline/", "/accept/")
    _refused(client, swapped, invalid)
    other = make_token("verify", world.author.id, p=project.id, a="accept")
    _refused(client, f"/projects/{project.id}/co-creator/accept/{other}", invalid)
    assert invitation(world, project).state == "invited"


def test_a_link_of_one_project_does_not_work_for_another(client, invited, make_user):
    world, project, links = invited
    other = promote(world, world.ideas[1])
    # The same person, invited to nothing in the other project, and a link naming project 1.
    cross = links["accept"].replace(f"/projects/{project.id}/", f"/projects/{other.id}/")
    _refused(client, cross, "This link is not valid. Please copy it completely from the e-mail.")
    assert invitation(world, project).state == "invited"


def test_an_expired_link_is_refused(client, invited):
    world, project, links = invited
    with travel(timedelta(days=31)):
        _refused(client, links["accept"], "This link has expired. Please request a new one.")
    assert invitation(world, project).state == "invited"


def test_a_link_of_an_unknown_project_is_not_found(client, invited):
    world, project, links = invited
    assert (
        client.get(
            links["accept"].replace(f"/projects/{project.id}/", "/projects/999/")
        ).status_code
        == 404
    )
