"""Paper votes: staff enter them per idea; audited; shown apart, added when the challenge says so."""

import pytest
from flask_babel import force_locale, gettext
from markupsafe import escape
from sqlalchemy import func, select
from voting_support import challenge_with_ideas

from consult.audit.models import AuditEntry
from consult.errors import UserError
from consult.extensions import db
from consult.ideas.models import Idea
from consult.voting import services
from consult.voting.models import PaperVoteEntry, Vote


def make_challenge(count_paper_votes: bool = True, ideas: int = 2):
    return challenge_with_ideas(ideas, count_paper_votes=count_paper_votes)


def says(text: str, **kwargs) -> str:
    with force_locale("de"):
        return str(escape(gettext(text, **kwargs)))


def state() -> dict:
    db.session.expire_all()
    return {
        "entries": db.session.scalar(select(func.count()).select_from(PaperVoteEntry)),
        "paper": db.session.scalar(select(func.coalesce(func.sum(PaperVoteEntry.count), 0))),
        "audit": db.session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "votes.paper_entry")
        ),
    }


@pytest.fixture
def staff(make_user, login):
    user = make_user(roles=("staff",), pseudonym="Frau Amt")
    login(user)
    return user


def url(challenge) -> str:
    return f"/staff/challenges/{challenge.id}/paper-votes"


def test_staff_enter_paper_votes_shown_apart_and_audited(client, staff, make_user):
    challenge, (idea, other) = make_challenge()
    voter = make_user()
    db.session.add(Vote(challenge_id=challenge.id, idea_id=idea.id, user_id=voter.id))
    db.session.commit()

    response = client.post_form(
        url(challenge),
        {"idea": idea.id, "count": "12", "event_name": "Stadtteilfest Hörde", "note": "Stand 3"},
    )
    assert response.status_code == 302
    page = client.get(url(challenge)).get_data(as_text=True)
    # online 1, paper 12, total 13 (the challenge counts paper votes)
    assert "<td>1</td><td>12</td><td>13</td>" in page
    assert "Stadtteilfest Hörde" in page and "Stand 3" in page and "Frau Amt" in page

    entry = db.session.scalar(select(PaperVoteEntry))
    assert (entry.count, entry.entered_by_id, entry.idea_id) == (12, staff.id, idea.id)
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "votes.paper_entry"))
    assert audit.actor_id == staff.id and audit.object_id == idea.id
    assert audit.details["count"] == 12 and audit.details["event"] == "Stadtteilfest Hörde"
    assert services.counted_votes(challenge) == {idea.id: 13, other.id: 0}

    # A correction is a new entry with a negative count; the first stays on record.
    response = client.post_form(
        url(challenge), {"idea": idea.id, "count": "-2", "event_name": "Stadtteilfest Hörde"}
    )
    assert response.status_code == 302
    assert services.paper_vote_totals(challenge) == {idea.id: 10}
    assert state() == {"entries": 2, "paper": 10, "audit": 2}


def test_paper_votes_are_not_added_when_the_challenge_says_no(client, staff):
    challenge, (idea, _other) = make_challenge(count_paper_votes=False)
    client.post_form(url(challenge), {"idea": idea.id, "count": "7", "event_name": "Markt"})
    page = client.get(url(challenge)).get_data(as_text=True)
    assert "<td>0</td><td>7</td><td>0</td>" in page
    assert services.counted_votes(challenge)[idea.id] == 0


@pytest.mark.parametrize(
    ("count", "event"),
    [
        ("0", "Markt"),
        ("zwölf", "Markt"),
        ("", "Markt"),
        ("1.5", "Markt"),
        ("1e3", "Markt"),
        ("١٢", "Markt"),  # Arabic-Indic digits: int() would accept them
        ("99999999999999999999", "Markt"),
        (str(services.PAPER_MAX + 1), "Markt"),
        ("-1", "Markt"),  # would take the paper votes below zero
        ("5", ""),
        ("5", "x" * 121),
        ("5", "Markt\u202e"),
    ],
)
def test_hostile_entries_change_nothing(client, staff, count, event):
    challenge, (idea, _other) = make_challenge()
    before = state()
    response = client.post_form(
        url(challenge), {"idea": idea.id, "count": count, "event_name": event}
    )
    assert response.status_code in (400, 409), response.status_code
    assert state() == before
    assert 'role="alert"' in response.get_data(as_text=True)


def test_below_zero_after_entries_is_refused_with_a_clear_message(client, staff):
    challenge, (idea, _other) = make_challenge()
    client.post_form(url(challenge), {"idea": idea.id, "count": "3", "event_name": "Markt"})
    before = state()
    response = client.post_form(
        url(challenge), {"idea": idea.id, "count": "-4", "event_name": "Markt"}
    )
    assert response.status_code == 400
    assert says("A correction cannot take the paper votes below zero.") in response.get_data(
        as_text=True
    )
    assert state() == before == {"entries": 1, "paper": 3, "audit": 1}


def test_other_challenges_idea_and_odd_ids_change_nothing(client, staff):
    challenge, _ideas = make_challenge()
    _elsewhere, (foreign, _x) = make_challenge()
    before = state()
    for idea_value, status in ((foreign.id, 404), ("abc", 400), ("", 400), ("9" * 12, 400)):
        response = client.post_form(
            url(challenge), {"idea": idea_value, "count": "5", "event_name": "Markt"}
        )
        assert response.status_code == status, idea_value
    assert client.get("/staff/challenges/99999999999/paper-votes").status_code == 404
    assert state() == before


def test_hidden_idea_takes_no_paper_votes(client, staff):
    challenge, (idea, _other) = make_challenge()
    idea.status = "hidden"
    db.session.commit()
    before = state()
    response = client.post_form(url(challenge), {"idea": idea.id, "count": "5", "event_name": "M"})
    assert response.status_code == 409
    assert state() == before


def test_non_staff_get_403_and_anonymous_go_to_login(app, make_user, login, client):
    challenge, (idea, _other) = make_challenge()
    anonymous = app.test_client()
    assert anonymous.get(url(challenge)).status_code == 302
    login(make_user(roles=("citizen",)))
    assert client.get(url(challenge)).status_code == 403
    before = state()
    response = client.post_form(url(challenge), {"idea": idea.id, "count": "5", "event_name": "M"})
    assert response.status_code == 403
    assert state() == before


def test_without_csrf_token_400(client, staff):
    challenge, (idea, _other) = make_challenge()
    before = state()
    response = client.post(url(challenge), data={"idea": idea.id, "count": "5", "event_name": "M"})
    assert response.status_code == 400
    assert state() == before


def test_staff_page_lists_every_published_idea(client, staff):
    challenge, ideas = make_challenge(ideas=3)
    page = client.get(url(challenge)).get_data(as_text=True)
    for idea in ideas:
        assert f'id="idea-{idea.id}"' in page
    assert says("No paper votes entered yet.") in page


# --- flask votes check: the caches against the rows ---------------------------------------


def test_votes_check_reports_and_repairs_drifted_caches(app, make_user):
    from sqlalchemy import update

    from consult.voting.models import Ballot

    challenge, (idea, other) = make_challenge()
    alice, bob = make_user(), make_user()
    services.cast_vote(alice, challenge, idea.id)
    services.cast_vote(bob, challenge, idea.id)
    services.cast_vote(bob, challenge, other.id)
    runner = app.test_cli_runner()

    result = runner.invoke(args=["votes", "check"])
    assert result.exit_code == 0, result.output
    assert "All vote counts and ballots equal their rows." in result.output

    # Drift: a cached count, a ballot, and votes whose ballot row is missing.
    db.session.execute(update(Idea).where(Idea.id == idea.id).values(vote_count=5))
    db.session.execute(update(Ballot).where(Ballot.user_id == alice.id).values(used=3))
    db.session.execute(Ballot.__table__.delete().where(Ballot.__table__.c.user_id == bob.id))
    db.session.commit()

    result = runner.invoke(args=["votes", "check"])
    assert result.exit_code == 1
    assert f"idea {idea.id}: cached vote_count 5, rows 2" in result.output
    assert (
        f"ballot challenge {challenge.id} user {alice.id}: cached used 3, rows 1" in result.output
    )
    assert f"ballot challenge {challenge.id} user {bob.id}: cached used 0, rows 2" in result.output
    assert "(found)" in result.output
    db.session.expire_all()
    assert db.session.get(Idea, idea.id).vote_count == 5  # a check alone changes nothing

    result = runner.invoke(args=["votes", "check", "--repair"])
    assert result.exit_code == 1 and "(repaired)" in result.output
    result = runner.invoke(args=["votes", "check"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.get(Idea, idea.id).vote_count == 2
    assert db.session.get(Ballot, {"challenge_id": challenge.id, "user_id": bob.id}).used == 2


# --- locked once a juror has submitted ------------------------------------------------------

JUROR_SUBMITTED = (
    "A juror has already submitted scores for this challenge, so paper votes can no longer "
    "be entered or corrected."
)


def submitted_juror(challenge, make_user):
    """A juror of the challenge who has submitted (staff may now see jury values)."""
    from consult.clock import now
    from consult.jury.models import JurorAssignment

    juror = make_user(roles=("citizen", "juror"))
    db.session.add(JurorAssignment(challenge_id=challenge.id, user_id=juror.id, submitted_at=now()))
    db.session.commit()
    return juror


def test_no_paper_votes_once_a_juror_has_submitted(client, staff, make_user):
    challenge, (idea, _other) = make_challenge()
    client.post_form(url(challenge), {"idea": idea.id, "count": "5", "event_name": "Markt"})
    submitted_juror(challenge, make_user)
    before = state()
    for count in ("3", "-2"):  # neither new votes nor a correction
        response = client.post_form(
            url(challenge), {"idea": idea.id, "count": count, "event_name": "Markt"}
        )
        assert response.status_code == 409
        assert says(JUROR_SUBMITTED) in response.get_data(as_text=True)
    assert state() == before == {"entries": 1, "paper": 5, "audit": 1}
    with force_locale("en"), pytest.raises(UserError) as caught:
        services.enter_paper_votes(staff, db.session.get(Idea, idea.id), -1, "Korrektur")
    assert caught.value.status == 409
    with force_locale("en"):
        assert caught.value.message == gettext(JUROR_SUBMITTED)
    assert state() == before


def test_paper_votes_page_shows_the_lock_instead_of_the_form(client, staff, make_user):
    challenge, (idea, _other) = make_challenge()
    page = client.get(url(challenge)).get_data(as_text=True)
    assert says(JUROR_SUBMITTED) not in page and 'name="count"' in page
    submitted_juror(challenge, make_user)
    page = client.get(url(challenge)).get_data(as_text=True)
    assert says(JUROR_SUBMITTED) in page
    assert 'name="count"' not in page and 'name="event_name"' not in page
    # The table of votes stays, without links to the forms that are gone.
    assert f'<th scope="row">{idea.title}</th>' in page
    assert f'href="#idea-{idea.id}"' not in page
