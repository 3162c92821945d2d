"""Whoever may not take part is told the true reason: an unconfirmed address is theirs to
fix; a missing citizen role (taken away by staff) is not, so they are told whom to ask."""

import pytest
from flask import current_app
from flask_babel import force_locale
from testdata import plain, says
from voting.voting_support import make_challenge, make_idea

from consult.accounts import services
from consult.errors import UserError
from consult.extensions import db
from consult.ideas.models import Comment
from consult.permissions import participation_refusal
from consult.results import services as results
from consult.voting.models import Vote

NO_ROLE = (
    "Your account may not take part at the moment: it does not have the citizen role. "
    "If you think this is a mistake, please write to %(email)s."
)
VERIFY = (
    "Please confirm your e-mail address first: open the link we sent you. "
    "You can request a new link on your profile page."
)


def no_role_text(locale: str = "de") -> str:
    return says(NO_ROLE, locale, email=current_app.config["CONTACT_EMAIL"])


def verify_text(locale: str = "de") -> str:
    return says(VERIFY, locale)


@pytest.fixture
def world(app, make_user):
    challenge = make_challenge(budget=3)
    idea = make_idea(challenge, title="Bäume")
    staff = make_user(roles=("citizen", "staff"))
    return challenge, idea, staff


@pytest.fixture
def revoked(world, make_user):
    """A verified person whose citizen role staff removed."""
    user = make_user(pseudonym="Anna", roles=("citizen",))
    services.revoke_role(world[2], user, "citizen")
    return db.session.get(type(user), user.id)


def test_the_reason_names_what_is_missing(world, revoked, make_user):
    email = current_app.config["CONTACT_EMAIL"]
    with force_locale("de"):
        assert participation_refusal(revoked) == plain(NO_ROLE, email=email)
        unverified = make_user(verified=False, roles=("citizen",))
        assert participation_refusal(unverified) == plain(VERIFY)
        # Never given the role at all (e.g. a press account): the same truthful answer.
        assert participation_refusal(make_user(roles=("press",))) == plain(NO_ROLE, email=email)
        assert participation_refusal(make_user(roles=("citizen",))) is None


def test_a_verified_account_without_the_role_is_not_told_to_verify(world, revoked, client, login):
    challenge, idea, _staff = world
    login(revoked)
    pages = {
        "vote": client.post_form(f"/challenges/{challenge.id}/vote", {"idea": idea.id}),
        "new idea": client.get(f"/challenges/{challenge.id}/ideas/new"),
        "comment": client.post_form(
            f"/ideas/{idea.id}/comments", {"body": "Gute Idee", "language": "de"}
        ),
        "results mail": client.post_form(f"/challenges/{challenge.id}/results/mail-me"),
    }
    for name, response in pages.items():
        text = response.get_data(as_text=True)
        assert response.status_code == 403, name
        assert no_role_text() in text, name
        assert "bestätigen Sie" not in text and says("Please confirm") not in text, name
        assert current_app.config["CONTACT_EMAIL"] in text, name
    assert db.session.query(Vote).count() == 0 and db.session.query(Comment).count() == 0
    # The idea page, the profile and the voting panel say it before anyone tries.
    for url in (f"/ideas/{idea.id}", "/account/profile", f"/challenges/{challenge.id}"):
        text = client.get(url).get_data(as_text=True)
        assert no_role_text() in text, url
        assert verify_text() not in text, url


def test_the_vote_answer_for_scripts_tells_the_truth_too(world, revoked, client, login):
    challenge, idea, _staff = world
    login(revoked)
    response = client.post_form(
        f"/challenges/{challenge.id}/vote",
        {"idea": idea.id},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 403
    assert no_role_text() in response.get_data(as_text=True)


def test_an_unconfirmed_citizen_is_still_asked_to_confirm(world, make_user, client, login):
    challenge, idea, _staff = world
    user = make_user(verified=False, roles=("citizen",))
    login(user)
    response = client.post_form(f"/challenges/{challenge.id}/vote", {"idea": idea.id})
    assert response.status_code == 403
    assert verify_text() in response.get_data(as_text=True)
    assert no_role_text() not in response.get_data(as_text=True)


def test_the_refusal_speaks_english(world, make_user, client, login):
    user = make_user(roles=("citizen",), locale="en")
    services.revoke_role(world[2], user, "citizen")
    login(user)
    response = client.get(f"/challenges/{world[0].id}/ideas/new")
    assert response.status_code == 403
    assert no_role_text("en") in response.get_data(as_text=True)


def test_the_results_mail_service_refuses_with_the_reason(world, revoked):
    with pytest.raises(UserError) as raised:
        results.subscribe_to_results(revoked, world[0])
    assert raised.value.status == 403
    with force_locale("de"):
        assert raised.value.message == plain(NO_ROLE, email=current_app.config["CONTACT_EMAIL"])
