"""The staff merge pages, the redirect of a merged idea's link and the credit on the target."""

import re

import pytest
from merging_support import NOTE_DE, count, merge, merge_world, says, shows, vote, vote_rows

from consult.audit.models import AuditEntry
from consult.clock import now
from consult.extensions import db
from consult.ideas.models import Idea


@pytest.fixture
def world(make_user):
    return merge_world(make_user)


@pytest.fixture
def as_staff(client, login, world):
    login(world.staff)
    return world.staff


def form(world, **changes) -> dict:
    values = {"target": str(world.target.id), "department": "Grünflächenamt",
              "note_de": NOTE_DE, "note_en": ""}  # fmt: skip
    values.update(changes)
    return values


def url(world, idea=None) -> str:
    return f"/staff/challenges/{world.challenge.id}/ideas/{(idea or world.source).id}/merge"


def field_error(page: str, field_id: str) -> str:
    found = re.search(rf'<p class="error" id="{re.escape(field_id)}-error">(.*?)</p>', page, re.S)
    return found.group(1) if found else ""


def test_staff_find_the_merge_from_the_challenge_page(client, as_staff, world):
    page = client.get(f"/staff/challenges/{world.challenge.id}/edit").get_data(as_text=True)
    assert f'href="/staff/challenges/{world.challenge.id}/merge"' in page
    listing = client.get(f"/staff/challenges/{world.challenge.id}/merge")
    assert listing.status_code == 200
    assert f'href="{url(world)}"' in listing.get_data(as_text=True)


def test_check_confirm_merge_and_land_on_the_target(client, as_staff, world, make_user):
    citizen = make_user()
    vote(citizen, world.source)
    vote(citizen, world.target)
    fresh = client.get(url(world))
    assert fresh.status_code == 200 and shows(fresh, "Merge a duplicate idea")
    page = fresh.get_data(as_text=True)
    assert f'<option value="{world.target.id}">' in page
    assert f'<option value="{world.source.id}">' not in page  # not into itself

    confirm = client.post_form(url(world), form(world))
    assert confirm.status_code == 200 and shows(confirm, "Confirm the merge")
    assert shows(confirm, "%(num)d citizen voted for both ideas: they keep one vote and get "
                 "the other back.", num=1)  # fmt: skip
    assert db.session.get(Idea, world.source.id).status == "published"  # nothing yet

    done = client.post_form(url(world), dict(form(world), confirm="1"))
    assert done.status_code == 302
    assert done.headers["Location"].endswith(f"/ideas/{world.target.id}")
    db.session.expire_all()
    assert db.session.get(Idea, world.source.id).status == "merged"
    assert vote_rows(world.target.id) == [citizen.id]

    # A second click on the same button (double submit) changes nothing and lands there too.
    again = client.post_form(url(world), dict(form(world), confirm="1"))
    assert again.status_code == 302 and again.headers["Location"].endswith(
        f"/ideas/{world.target.id}")  # fmt: skip
    assert count(AuditEntry, AuditEntry.action == "idea.merge") == 1


def test_go_back_keeps_what_was_typed(client, as_staff, world):
    back = client.post_form(url(world), dict(form(world), back="1"))
    assert back.status_code == 200 and shows(back, "Merge a duplicate idea")
    assert NOTE_DE in back.get_data(as_text=True)
    assert db.session.get(Idea, world.source.id).status == "published"


def test_a_merged_ideas_link_redirects_to_the_target_which_credits_both(client, world):
    merge(world)
    response = client.get(f"/ideas/{world.source.id}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/ideas/{world.target.id}?merged_from={world.source.id}"
    target = client.get(response.headers["Location"])
    page = target.get_data(as_text=True)
    assert target.status_code == 200
    assert shows(target, "The idea you opened has been merged into this one:")
    assert "Mehr Bäume am Markt" in page
    assert says("Also proposed by") in page and "<dd><bdi>Alice</bdi></dd>" in page
    # Without the hint, or with a forged one, the page shows no notice.
    for plain in (f"/ideas/{world.target.id}", f"/ideas/{world.target.id}?merged_from=999999",
                  f"/ideas/{world.target.id}?merged_from={world.other.id}"):  # fmt: skip
        assert not shows(client.get(plain), "The idea you opened has been merged into this one:")


def test_an_idea_that_took_nothing_in_shows_no_credit_list(client, world):
    page = client.get(f"/ideas/{world.target.id}").get_data(as_text=True)
    assert says("Credited") not in page and says("Also proposed by") not in page


@pytest.mark.parametrize("roles", [("citizen",), ("moderator",), ("juror", "press")])
def test_without_the_staff_role_the_pages_are_403(client, login, make_user, world, roles):
    login(make_user(roles=roles))
    assert client.get(f"/staff/challenges/{world.challenge.id}/merge").status_code == 403
    assert client.get(url(world)).status_code == 403
    response = client.post_form(url(world), dict(form(world), confirm="1"))
    assert response.status_code == 403
    assert db.session.get(Idea, world.source.id).status == "published"


def test_anonymous_visitors_are_sent_to_log_in(client, world):
    response = client.get(url(world))
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]


def test_forged_ids_are_404(client, as_staff, world, make_user):
    from voting.voting_support import make_challenge, make_idea

    elsewhere = make_challenge()
    foreign = make_idea(elsewhere, make_user(), title="Anderswo")
    assert client.get("/staff/challenges/999999/merge").status_code == 404
    assert (
        client.get(f"/staff/challenges/{world.challenge.id}/ideas/999999/merge").status_code == 404
    )
    # An idea of another challenge under this challenge's address.
    assert client.get(url(world, foreign)).status_code == 404
    assert (
        client.get(f"/staff/challenges/{world.challenge.id}/ideas/99999999999/merge").status_code
        == 404
    )
    # A target of another challenge, forged into the form.
    response = client.post_form(url(world), dict(form(world), target=str(foreign.id), confirm="1"))
    assert response.status_code == 404
    assert field_error(response.get_data(as_text=True), "target")
    db.session.expire_all()
    assert db.session.get(Idea, world.source.id).status == "published"


def test_refusals_show_at_their_field(client, as_staff, world):
    itself = client.post_form(url(world), form(world, target=str(world.source.id)))
    assert itself.status_code == 409
    assert field_error(itself.get_data(as_text=True), "target") == says(
        "An idea cannot be merged into itself.")  # fmt: skip
    empty = client.post_form(url(world), form(world, department="", note_de=""))
    assert empty.status_code == 400
    assert field_error(empty.get_data(as_text=True), "department") == says(
        "Please fill in this field.")  # fmt: skip


def test_a_frozen_challenge_says_so_before_and_on_post(client, as_staff, world):
    world.challenge.results_frozen_at = now()
    db.session.commit()
    page = client.get(url(world))
    assert page.status_code == 409
    assert '<form method="post" action="' + url(world) not in page.get_data(as_text=True)
    response = client.post_form(url(world), dict(form(world), confirm="1"))
    assert response.status_code == 409
    assert db.session.get(Idea, world.source.id).status == "published"


def test_a_draft_cannot_be_merged(client, as_staff, world):
    world.source.status = "draft"
    db.session.commit()
    assert client.get(url(world)).status_code == 409
    assert client.post_form(url(world), dict(form(world), confirm="1")).status_code == 409


def test_the_audit_log_names_the_merge(client, as_staff, world):
    merge(world)
    page = client.get("/staff/audit").get_data(as_text=True)
    assert "Mehr Bäume am Markt" in page and "Bäume für den Marktplatz" in page


def test_the_authors_list_says_merged_and_links_to_where_the_idea_went(client, login, world):
    merge(world)
    login(world.source_author)
    page = client.get("/my/ideas")
    assert page.status_code == 200
    assert shows(page, "Merged with a similar idea")
    assert f'href="/ideas/{world.source.id}"' in page.get_data(as_text=True)


def test_a_post_without_the_csrf_token_changes_nothing(client, as_staff, world):
    response = client.post(url(world), data=dict(form(world), confirm="1"))
    assert response.status_code == 400
    assert db.session.get(Idea, world.source.id).status == "published"
    assert count(AuditEntry, AuditEntry.action == "idea.merge") == 0
