"""Hostile input on the jury setup page.

Each refused case gets a clear 4xx with the message in the user's language, tied to its
field where there is one, and nothing is stored or changed: ``state`` reads criteria,
settings, shortlist, jurors, reviews, scores and the audit log afresh and must be equal.
"""

import re

import pytest
from jury_support import (
    add_criterion,
    evaluation_challenge,
    jury_world,
    make_idea,
    mark_submitted,
    seat_juror,
    shortlist,
)
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from test_setup_services import ideas_with_votes, state, voting_challenge
from testdata import html, says

from consult.challenges.models import Challenge
from consult.clock import now
from consult.extensions import db
from consult.jury import setup as services
from consult.jury.models import JuryCriterion
from consult.voting.models import Vote

FROZEN = (
    "The results of this challenge are frozen: scores, votes and settings can no longer change."
)
SUBMITTED = (
    "A juror has already submitted scores, so the criteria, weights and "
    "shortlist can no longer change."
)
NUMBER = "Please enter a whole number from %(min)d to %(max)d."


@pytest.fixture(params=["de", "en"])
def staff(request, make_user, login):
    """A staff member who reads German or English: messages come in their language."""
    user = make_user(roles=("citizen", "staff"), pseudonym="Chefin", locale=request.param)
    login(user)
    return user


def url(challenge, rest: str = "") -> str:
    return f"/staff/challenges/{challenge.id}/jury{rest}"


def refused(response, status: int, message: str, locale: str, field: str | None = None, **kw):
    page = html(response)
    assert response.status_code == status, page[:3000]
    assert says(message, locale, **kw) in page
    if field:  # tied to its field for screen readers
        assert f'id="{field}-error"' in page
        assert re.search(rf'aria-describedby="[^"]*{re.escape(field)}-error', page)


BAD_WEIGHTS = ["0", "-1", "5.5", "abc", "101", "", "1e2", "٣"]


@pytest.mark.parametrize("weight", BAD_WEIGHTS)
def test_bad_weights_are_refused_when_adding(client, staff, weight):
    challenge = evaluation_challenge()
    before = state(challenge.id)
    response = client.post_form(
        url(challenge, "/criteria"), {"name_de": "Wirkung", "name_en": "Impact", "weight": weight}
    )
    refused(response, 400, NUMBER, staff.locale, "weight", min=1, max=100)
    assert state(challenge.id) == before


@pytest.mark.parametrize("weight", BAD_WEIGHTS)
def test_bad_weights_are_refused_when_editing(client, staff, weight):
    challenge = evaluation_challenge()
    criterion = add_criterion(challenge, "Wirkung", "Impact", 2)
    before = state(challenge.id)
    p = f"criterion-{criterion.id}-"
    response = client.post_form(
        url(challenge, f"/criteria/{criterion.id}"),
        {p + "name_de": "Wirkung", p + "name_en": "Impact", p + "weight": weight},
    )
    refused(response, 400, NUMBER, staff.locale, p + "weight", min=1, max=100)
    assert state(challenge.id) == before


@pytest.mark.parametrize("weight", [0, -1, 5.5, "abc", 101, True, None])
def test_services_refuse_bad_weights_before_the_database_does(app, make_user, weight):
    staff = make_user(roles=("staff",))
    challenge = evaluation_challenge()
    before = state(challenge.id)
    with pytest.raises(services.UserError) as caught:
        services.add_criterion(staff, challenge, {"name_de": "a", "name_en": "b", "weight": weight})
    assert (caught.value.field, caught.value.status) == ("weight", 400)
    assert state(challenge.id) == before


def test_the_database_refuses_a_weight_of_zero_as_the_last_line_of_defence(app):
    challenge = evaluation_challenge()
    db.session.add(JuryCriterion(challenge_id=challenge.id, name_de="a", name_en="b", weight=0))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


@pytest.mark.parametrize(
    "data, field",
    [
        ({"name_de": "", "name_en": "Impact"}, "name_de"),
        ({"name_de": "Wirkung", "name_en": "   "}, "name_en"),
        ({}, "name_de"),
    ],
)
def test_criteria_need_a_name_in_both_languages(client, staff, data, field):
    challenge = evaluation_challenge()
    before = state(challenge.id)
    response = client.post_form(url(challenge, "/criteria"), {**data, "weight": "2"})
    refused(response, 400, "Please name the criterion in German and in English.", staff.locale,
            field)  # fmt: skip
    assert state(challenge.id) == before


def test_overlong_or_invisible_names_are_refused(client, staff):
    challenge = evaluation_challenge()
    before = state(challenge.id)
    response = client.post_form(
        url(challenge, "/criteria"), {"name_de": "W" * 121, "name_en": "Impact", "weight": "2"}
    )
    refused(response, 400, "Please use at most %(max)d characters.", staff.locale, "name_de",
            max=120)  # fmt: skip
    response = client.post_form(
        url(challenge, "/criteria"),
        {"name_de": "Wirkung", "name_en": "Im\u202epact", "weight": "2"},
    )
    refused(response, 400, "Please remove invisible control characters from this text.",
            staff.locale, "name_en")  # fmt: skip
    assert state(challenge.id) == before


@pytest.mark.parametrize(
    "data, field, low, high",
    [
        ({"alpha_percent": "101", "shortlist_size": "10"}, "alpha_percent", 0, 100),
        ({"alpha_percent": "-1", "shortlist_size": "10"}, "alpha_percent", 0, 100),
        ({"alpha_percent": "0.35", "shortlist_size": "10"}, "alpha_percent", 0, 100),
        ({"alpha_percent": "viel", "shortlist_size": "10"}, "alpha_percent", 0, 100),
        ({"alpha_percent": "50", "shortlist_size": "0"}, "shortlist_size", 1, 200),
        ({"alpha_percent": "50", "shortlist_size": "201"}, "shortlist_size", 1, 200),
        ({"alpha_percent": "50"}, "shortlist_size", 1, 200),
    ],
)
def test_bad_settings_are_refused(client, staff, data, field, low, high):
    challenge = evaluation_challenge()
    before = state(challenge.id)
    response = client.post_form(url(challenge, "/settings"), {**data, "centering": "y"})
    refused(response, 400, NUMBER, staff.locale, field, min=low, max=high)
    assert state(challenge.id) == before


def test_criterion_of_another_challenge_is_404(client, staff):
    challenge, other = evaluation_challenge(), evaluation_challenge()
    foreign = add_criterion(other, "Wirkung", "Impact", 2)
    before = state(other.id)
    p = f"criterion-{foreign.id}-"
    data = {p + "name_de": "X", p + "name_en": "Y", p + "weight": "9"}
    assert client.post_form(url(challenge, f"/criteria/{foreign.id}"), data).status_code == 404
    assert client.post_form(url(challenge, f"/criteria/{foreign.id}/delete")).status_code == 404
    assert client.post_form(url(challenge, "/criteria/999999/delete")).status_code == 404
    assert state(other.id) == before


def test_ideas_of_another_challenge_or_unpublished_ones_cannot_be_picked(client, staff):
    challenge, other = evaluation_challenge(), evaluation_challenge()
    foreign = make_idea(other, "Fremde Idee")
    draft = make_idea(challenge, "Entwurf")
    draft.status = "submitted"
    shortlist(other, [foreign])
    db.session.commit()
    before = state(challenge.id)
    message = "This idea does not exist in this challenge."
    for value in (str(foreign.id), "abc", "", "99999999999"):
        response = client.post_form(url(challenge, "/shortlist"), {"idea": value, "reason": "Gut"})
        refused(response, 404, message, staff.locale, "idea")
    response = client.post_form(
        url(challenge, "/shortlist"), {"idea": str(draft.id), "reason": "x"}
    )
    refused(response, 409, "Only published ideas can be on the shortlist.", staff.locale, "idea")
    # Taking another challenge's shortlisted idea off "this" shortlist finds nothing.
    response = client.post_form(url(challenge, f"/shortlist/{foreign.id}/delete"))
    refused(response, 404, "This idea is not on the shortlist.", staff.locale)
    assert state(challenge.id) == before


def test_a_staff_pick_needs_a_reason_of_at_most_1000_characters(client, staff):
    challenge = evaluation_challenge()
    idea = make_idea(challenge, "Idee")
    before = state(challenge.id)
    for reason in ("", "   \n "):
        response = client.post_form(
            url(challenge, "/shortlist"), {"idea": str(idea.id), "reason": reason}
        )
        refused(response, 400, "Please say why this idea belongs on the shortlist.", staff.locale,
                "reason")  # fmt: skip
    response = client.post_form(
        url(challenge, "/shortlist"), {"idea": str(idea.id), "reason": "x" * 1001}
    )
    refused(response, 400, "Please use at most %(max)d characters.", staff.locale, "reason",
            max=1000)  # fmt: skip
    assert state(challenge.id) == before


def test_picking_an_idea_already_on_the_shortlist_is_refused(client, staff):
    challenge = evaluation_challenge()
    idea = make_idea(challenge, "Idee")
    shortlist(challenge, [idea])
    before = state(challenge.id)
    response = client.post_form(url(challenge, "/shortlist"), {"idea": str(idea.id), "reason": "x"})
    refused(response, 409, "This idea is already on the shortlist.", staff.locale, "idea")
    assert state(challenge.id) == before


def test_shortlisting_before_voting_has_closed_is_refused(client, staff):
    challenge = voting_challenge()
    (idea,) = ideas_with_votes(challenge, [5])
    before = state(challenge.id)
    message = "The shortlist can only be drawn up once voting has closed, when the votes are final."
    refused(client.post_form(url(challenge, "/shortlist/top")), 409, message, staff.locale)
    response = client.post_form(url(challenge, "/shortlist"), {"idea": str(idea.id), "reason": "x"})
    refused(response, 409, message, staff.locale)
    assert state(challenge.id) == before


def test_seating_someone_without_the_juror_role_is_refused(client, staff, make_user):
    challenge = evaluation_challenge()
    make_user(roles=("citizen", "staff"), pseudonym="Herr Amt", email="amt@example.org")
    before = state(challenge.id)
    response = client.post_form(url(challenge, "/jurors"), {"person": "amt@example.org"})
    refused(response, 409, "%(name)s does not hold the juror role: please grant the juror role first.",
            staff.locale, "person", name="Herr Amt")  # fmt: skip
    for person in ("niemand@example.org", "Niemand", "", "x" * 300):
        response = client.post_form(url(challenge, "/jurors"), {"person": person})
        refused(response, 404, "There is no account with this e-mail address or public name.",
                staff.locale, "person")  # fmt: skip
    assert state(challenge.id) == before


def test_seating_someone_who_voted_in_the_challenge_is_refused(client, staff, make_user):
    challenge = evaluation_challenge()
    idea = make_idea(challenge, "Idee")
    voter = make_user(roles=("citizen", "juror"), pseudonym="Waehlerin")
    db.session.add(Vote(challenge_id=challenge.id, idea_id=idea.id, user_id=voter.id))
    db.session.commit()
    before = state(challenge.id)
    response = client.post_form(url(challenge, "/jurors"), {"person": "Waehlerin"})
    refused(response, 409,
            "This person has voted in this challenge; jurors may not judge what they voted on.",
            staff.locale, "person")  # fmt: skip
    assert state(challenge.id) == before


def test_seating_a_juror_twice_is_refused(client, staff, make_user):
    challenge = evaluation_challenge()
    juror = make_user(roles=("juror",), pseudonym="Doppelt")
    seat_juror(challenge, juror, [])
    before = state(challenge.id)
    response = client.post_form(url(challenge, "/jurors"), {"person": "Doppelt"})
    refused(response, 409, "This person is already on the jury.", staff.locale, "person")
    assert state(challenge.id) == before


def test_juror_ids_and_idea_ids_must_belong_to_this_jury(client, staff, make_user):
    world = jury_world(make_user, scored=False)
    other = evaluation_challenge()
    stranger = make_user(roles=("juror",))
    seat_juror(other, stranger, [])
    foreign = make_idea(other, "Fremd")
    spare = make_idea(world.challenge, "Nicht auf der Liste")
    before = state(world.challenge.id)
    x = world.jurors[0]
    for juror_id in (stranger.id, 999999):
        response = client.post_form(url(world.challenge, f"/jurors/{juror_id}/delete"))
        refused(response, 404, "This person is not on the jury of this challenge.", staff.locale)
        response = client.post_form(
            url(world.challenge, f"/jurors/{juror_id}/ideas"), {"idea": str(world.ideas[0].id)}
        )
        assert response.status_code == 404
    for value in (str(foreign.id), str(spare.id), "abc", "-1"):
        response = client.post_form(url(world.challenge, f"/jurors/{x.id}/ideas"), {"idea": value})
        refused(response, 404, "This idea is not on the shortlist.", staff.locale)
    assert state(world.challenge.id) == before


def _every_action(world) -> list[tuple[str, dict]]:
    challenge, criterion, idea = world.challenge, world.criteria[0], world.ideas[0]
    p = f"criterion-{criterion.id}-"
    spare = make_idea(challenge, "Spät")
    newcomer = world.extra.setdefault("newcomer", None)
    return [
        (url(challenge, "/settings"), {"alpha_percent": "90", "shortlist_size": "3"}),
        (url(challenge, "/criteria"), {"name_de": "Neu", "name_en": "New", "weight": "1"}),
        (url(challenge, f"/criteria/{criterion.id}"),
         {p + "name_de": "Wirkung", p + "name_en": "Impact", p + "weight": "9"}),
        (url(challenge, f"/criteria/{criterion.id}/delete"), {}),
        (url(challenge, "/shortlist/top"), {}),
        (url(challenge, "/shortlist"), {"idea": str(spare.id), "reason": "Spät, aber gut"}),
        (url(challenge, f"/shortlist/{idea.id}/delete"), {}),
        (url(challenge, "/jurors"), {"person": newcomer}),
    ]  # fmt: skip


def test_nothing_changes_once_a_juror_has_submitted(client, staff, make_user):
    world = jury_world(make_user, submitted=False)
    world.extra["newcomer"] = make_user(roles=("juror",), pseudonym="Neu Dabei").pseudonym
    x, y = world.jurors
    mark_submitted(world.challenge, x)
    actions = _every_action(world)
    before = state(world.challenge.id)
    for target, data in actions:
        refused(client.post_form(target, data), 409, SUBMITTED, staff.locale)
    # The juror who submitted stays, with the ideas they scored.
    message = "This juror has already submitted scores; their work stays as it is."
    refused(client.post_form(url(world.challenge, f"/jurors/{x.id}/delete")), 409, message,
            staff.locale)  # fmt: skip
    response = client.post_form(url(world.challenge, f"/jurors/{x.id}/ideas"), {"idea": "1"})
    refused(response, 409, message, staff.locale)
    assert state(world.challenge.id) == before
    # y has not submitted: staff may still spread y's work (reviewed in the service tests).
    response = client.post_form(
        url(world.challenge, f"/jurors/{y.id}/ideas"), {"idea": str(world.ideas[0].id)}
    )
    assert response.status_code == 302


def test_nothing_changes_after_freezing(client, staff, make_user):
    world = jury_world(make_user, submitted=False)
    world.extra["newcomer"] = make_user(roles=("juror",), pseudonym="Neu Dabei").pseudonym
    world.challenge.results_frozen_at = now()
    db.session.commit()
    x = world.jurors[0]
    actions = _every_action(world) + [
        (url(world.challenge, f"/jurors/{x.id}/delete"), {}),
        (url(world.challenge, f"/jurors/{x.id}/ideas"), {"idea": str(world.ideas[0].id)}),
    ]
    before = state(world.challenge.id)
    for target, data in actions:
        refused(client.post_form(target, data), 409, FROZEN, staff.locale)
    assert state(world.challenge.id) == before
    page = html(client.get(url(world.challenge)))
    assert says(FROZEN, staff.locale) in page and "/jury/settings" not in page


@pytest.mark.postgres_only
def test_a_refusal_releases_the_rows_it_locked(app, make_user):
    """Otherwise the next change from another session would wait for this one forever."""
    staff = make_user(roles=("staff",))
    world = jury_world(make_user)  # submitted: every setup change is refused
    with pytest.raises(services.UserError):
        services.add_criterion(
            staff, world.challenge, {"name_de": "a", "name_en": "b", "weight": 1}
        )
    with db.engine.connect() as other:
        other.execute(text("SET lock_timeout = '2s'"))
        locked = other.execute(
            select(Challenge.id).where(Challenge.id == world.challenge.id).with_for_update()
        ).all()
        assert locked == [(world.challenge.id,)]
        other.rollback()
