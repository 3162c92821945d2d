"""Taking an idea off the shortlist says what it deletes and asks first (issue 10, item 19).

The question is a page with a second POST (works without JavaScript); the confirmation
carries the number of jurors whose saved scores it deletes, so a juror saving meanwhile
makes staff be asked again instead of deleting more than they agreed to.
"""

import pytest
from flask_babel import force_locale
from jury_support import jury_world, mark_submitted, says, says_n, tr
from sqlalchemy import select
from test_setup_services import audit, state
from testdata import html

from consult.challenges.models import Challenge
from consult.extensions import db
from consult.jury import freezing, scoring, setup
from consult.jury.models import ShortlistEntry

ASKED_LATE = "Jurors have submitted; you are asked first."
QUESTION = "Take the idea off the shortlist?"
CHANGED = (
    "Something has changed since you were asked: please read again what taking the idea "
    "off deletes."
)


def url(challenge, rest: str = "") -> str:
    return f"/staff/challenges/{challenge.id}/jury{rest}"


def deletes(num: int, locale: str = "de") -> str:
    return says_n(
        "%(num)d juror has saved scores for this idea. Taking it off the shortlist deletes "
        "these scores for good; they cannot be restored.",
        "%(num)d jurors have saved scores for this idea. Taking it off the shortlist deletes "
        "these scores for good; they cannot be restored.",
        num, locale,
    )  # fmt: skip


@pytest.fixture
def staff(make_user, login):
    user = make_user(roles=("citizen", "staff"), pseudonym="Frau Amt")
    login(user)
    return user


@pytest.fixture
def late(make_user):
    """Juror Y declared a conflict on idea 3 and submitted; juror X saved scores on it."""
    world = jury_world(make_user, submitted=False)
    mark_submitted(world.challenge, world.jurors[1])
    return world


def shortlisted() -> set[int]:
    return set(db.session.scalars(select(ShortlistEntry.idea_id)))


def test_after_a_submission_staff_are_told_whose_scores_go_and_asked(client, staff, late):
    x, _y = late.jurors
    three = late.ideas[2]
    page = html(client.get(url(late.challenge)))
    assert says_n(
        "Deletes the saved scores of %(num)d juror; you are asked first.",
        "Deletes the saved scores of %(num)d jurors; you are asked first.", 1,
    ) in page  # fmt: skip

    before = state(late.challenge.id)
    response = client.post_form(url(late.challenge, f"/shortlist/{three.id}/delete"))
    assert response.status_code == 200
    page = html(response)
    assert says(QUESTION) in page and deletes(1) in page
    assert (
        says(
            "Jurors have already submitted their scores. None of them scored this idea; the "
            "results will be calculated without it."
        )
        in page
    )
    assert 'name="confirm" value="1"' in page
    assert says("Yes, take it off and delete the scores") in page
    assert f'href="{url(late.challenge)}#shortlist"' in page  # the way back, keeping it
    assert state(late.challenge.id) == before

    response = client.post_form(
        url(late.challenge, f"/shortlist/{three.id}/delete"), {"confirm": "1"}
    )
    assert response.status_code == 302
    page = html(client.get(response.headers["Location"]))
    assert says(
        "The idea has been taken off the shortlist, although jurors have submitted: "
        "no juror who submitted had scored it."
    ) in page  # fmt: skip
    assert says_n(
        "The saved scores of %(num)d juror have been deleted.",
        "The saved scores of %(num)d jurors have been deleted.", 1,
    ) in page  # fmt: skip
    assert three.id not in shortlisted()
    [entry] = audit("jury.shortlist_remove")
    assert entry.actor_id == staff.id
    assert entry.details == {
        "idea": three.id, "source": "votes", "scores_deleted_of": [x.id], "after_submission": True,
    }  # fmt: skip


def test_the_question_is_also_a_page_to_open(client, staff, late):
    three = late.ideas[2]
    staff.locale = "en"  # pages speak the account's language
    db.session.commit()
    response = client.get(url(late.challenge, f"/shortlist/{three.id}/delete"))
    assert response.status_code == 200
    assert deletes(1, "en") in html(response)
    assert client.get(url(late.challenge, "/shortlist/999999/delete")).status_code == 404
    # An idea a submitted juror scored: no question, the refusal.
    response = client.get(url(late.challenge, f"/shortlist/{late.ideas[0].id}/delete"))
    assert response.status_code == 409


@pytest.mark.parametrize("confirm", ["0", "2", "abc", "", "1" * 20])
def test_a_confirmation_that_does_not_match_asks_again_and_changes_nothing(
    client, staff, late, confirm
):
    three = late.ideas[2]
    before = state(late.challenge.id)
    response = client.post_form(
        url(late.challenge, f"/shortlist/{three.id}/delete"), {"confirm": confirm}
    )
    assert response.status_code == 409
    page = html(response)
    assert says(CHANGED) in page and 'role="alert"' in page and deletes(1) in page
    assert state(late.challenge.id) == before


def test_a_juror_saving_after_the_question_means_asking_again(app, make_user):
    """Staff saw "no scores" (confirm 0); juror X then saves: the removal is refused."""
    world = jury_world(make_user, scored=False)
    x, _y = world.jurors
    one = world.ideas[0]
    impact = setup.shortlist_removal_impact(world.challenge, one.id)
    assert (impact.scored_by, impact.needs_confirmation) == ([], False)
    scoring.save_scores(
        x, world.challenge, one.id, {str(c.id): "5" for c in world.criteria}, locale="en"
    )
    before = state(world.challenge.id)
    with force_locale("en"), pytest.raises(setup.RemovalNeedsConfirmation) as caught:
        setup.remove_from_shortlist(
            world.staff, db.session.get(Challenge, world.challenge.id), one.id, confirmed=0
        )
    assert caught.value.status == 409
    assert caught.value.message == tr(
        "Please confirm that the idea is taken off the shortlist.", "en"
    )
    assert caught.value.impact.scored_by == [x.id]
    assert state(world.challenge.id) == before


def test_nothing_to_lose_means_no_question(client, staff, make_user):
    world = jury_world(make_user, scored=False)
    page = html(client.get(url(world.challenge)))
    assert says(ASKED_LATE) not in page and "you are asked first" not in page
    response = client.post_form(url(world.challenge, f"/shortlist/{world.ideas[0].id}/delete"))
    assert response.status_code == 302
    assert world.ideas[0].id not in shortlisted()
    assert audit("jury.shortlist_remove")[0].details == {
        "idea": world.ideas[0].id, "source": "votes",
    }  # fmt: skip


def test_saved_scores_before_any_submission_are_asked_about_too(client, staff, make_user):
    world = jury_world(make_user, submitted=False)
    one = world.ideas[0]
    before = state(world.challenge.id)
    response = client.post_form(url(world.challenge, f"/shortlist/{one.id}/delete"))
    assert response.status_code == 200 and deletes(2) in html(response)
    assert state(world.challenge.id) == before
    response = client.post_form(
        url(world.challenge, f"/shortlist/{one.id}/delete"), {"confirm": "2"}
    )
    assert response.status_code == 302 and one.id not in shortlisted()


def test_refusals_stay_refusals_whatever_is_confirmed(app, client, staff, late, make_user):
    one = late.ideas[0]  # juror Y (submitted) scored it
    before = state(late.challenge.id)
    for confirm in ("1", "2"):
        response = client.post_form(
            url(late.challenge, f"/shortlist/{one.id}/delete"), {"confirm": confirm}
        )
        assert response.status_code == 409
        assert says(
            "A juror has already submitted scores for this idea, so it stays on the shortlist."
        ) in html(response)
    response = client.post_form(url(late.challenge, "/shortlist/999999/delete"), {"confirm": "0"})
    assert response.status_code == 404
    # Without the form's token, or by someone who is not staff: nothing either.
    response = client.post(url(late.challenge, f"/shortlist/{late.ideas[2].id}/delete"),
                           data={"confirm": "1"})  # fmt: skip
    assert response.status_code == 400
    citizen = app.test_client()
    assert citizen.post(url(late.challenge, f"/shortlist/{late.ideas[2].id}/delete")).status_code in (
        302, 400,
    )  # fmt: skip
    assert state(late.challenge.id) == before


def test_no_question_once_frozen(client, staff, make_user):
    world = jury_world(make_user)
    freezing.freeze_results(world.staff, world.challenge)
    before = state(world.challenge.id)
    for method in ("get", "post_form"):
        response = getattr(client, method)(
            url(world.challenge, f"/shortlist/{world.ideas[2].id}/delete")
        )
        assert response.status_code == 409
    assert state(world.challenge.id) == before
