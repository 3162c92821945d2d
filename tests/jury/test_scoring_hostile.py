"""Hostile input on the scoring pages: a clear 4xx in the user's language, nothing changed."""

import re

import pytest
from jury_support import (
    evaluation_challenge,
    give_scores,
    jury_world,
    make_idea,
    review_of,
    seat_juror,
    shortlist,
)
from sqlalchemy import func, select
from testdata import html, says, shows

from consult.audit.models import AuditEntry
from consult.clock import now
from consult.extensions import db
from consult.jury.models import JurorAssignment, JuryReview, JuryScore

FROZEN = (
    "The results of this challenge are frozen: scores, votes and settings can no longer change."
)
SUBMITTED = "You have already submitted your scores for this challenge; they can no longer change."
CONFLICT = "You declared a conflict of interest for this idea, so you cannot score it."


def idea_url(world, idea) -> str:
    return f"/jury/challenges/{world.challenge.id}/ideas/{idea.id}"


def state() -> dict:
    """Everything a scoring request could change."""
    db.session.expire_all()
    return {
        "scores": sorted(
            db.session.execute(
                select(JuryScore.review_id, JuryScore.criterion_id, JuryScore.value)
            ).all()
        ),
        "reviews": sorted(
            db.session.execute(
                select(JuryReview.id, JuryReview.conflict, JuryReview.note, JuryReview.saved_at)
            ).all()
        ),
        "submitted": sorted(
            db.session.execute(select(JurorAssignment.user_id, JurorAssignment.submitted_at)).all()
        ),
        "audit": db.session.scalar(select(func.count()).select_from(AuditEntry)),
    }


@pytest.fixture
def world(make_user, login):
    """Juror x logged in, with scores 8/5 saved on the first idea and nothing else."""
    world = jury_world(make_user, scored=False)
    a, b = world.criteria
    give_scores(world.jurors[0], world.ideas[0], {a.id: 8, b.id: 5})
    login(world.jurors[0])
    return world


def post_scores(client, world, idea, impact, feasibility, note=""):
    a, b = world.criteria
    data = {"note": note}
    if impact is not None:
        data[f"score-{a.id}"] = impact
    if feasibility is not None:
        data[f"score-{b.id}"] = feasibility
    return client.post_form(idea_url(world, idea), data)


def field_error(page: str, field: str) -> str:
    """The error text tied to ``field`` by aria-describedby, or fail."""
    tag = re.search(rf'<input id="{field}"[^>]*>', page).group(0)
    assert 'aria-invalid="true"' in tag
    described = re.search(r'aria-describedby="([^"]*)"', tag).group(1).split()
    assert f"{field}-error" in described
    return re.search(rf'<p class="error" id="{field}-error">(.*?)</p>', page).group(1)


@pytest.mark.parametrize("bad", ["11", "-1", "5.5", "abc", "1e1", "١", "", "  "])
def test_a_score_that_is_not_a_whole_number_from_0_to_10_is_refused(client, world, bad):
    before = state()
    a, _b = world.criteria
    response = post_scores(client, world, world.ideas[0], bad, "4", "neue Notiz")
    assert response.status_code == 400
    page = html(response)
    if bad.strip():
        expected = says(
            "Please score “%(criterion)s” with a whole number from %(min)d to %(max)d.",
            criterion="Wirkung", min=0, max=10,
        )  # fmt: skip
    else:
        expected = says("Please give a score for “%(criterion)s”.", criterion="Wirkung")
    assert field_error(page, f"score-{a.id}") == expected
    # What the juror typed is shown again, not the stored value
    assert "neue Notiz" in page
    assert state() == before


def test_english_juror_gets_the_message_in_english(client, world, make_user, login):
    en = make_user(roles=("juror",), locale="en")
    seat_juror(world.challenge, en, world.ideas)
    client.post_form("/account/logout")
    client.forget_csrf()
    login(en)
    before = state()
    response = post_scores(client, world, world.ideas[0], "11", "4")
    assert response.status_code == 400
    a, _b = world.criteria
    assert field_error(html(response), f"score-{a.id}") == says(
        "Please score “%(criterion)s” with a whole number from %(min)d to %(max)d.",
        "en", criterion="Impact", min=0, max=10,
    )  # fmt: skip
    assert state() == before


def test_a_missing_criterion_is_refused(client, world):
    before = state()
    response = post_scores(client, world, world.ideas[0], "7", None)
    assert response.status_code == 400
    _a, b = world.criteria
    assert field_error(html(response), f"score-{b.id}") == says(
        "Please give a score for “%(criterion)s”.", criterion="Machbarkeit"
    )
    assert state() == before


@pytest.mark.parametrize("key", ["999999", "abc", "-1"])
def test_an_unknown_criterion_is_refused(client, world, key):
    before = state()
    a, b = world.criteria
    data = {f"score-{a.id}": "7", f"score-{b.id}": "7", f"score-{key}": "3"}
    response = client.post_form(idea_url(world, world.ideas[0]), data)
    assert response.status_code == 400
    assert shows(response, "Please score only the criteria of this challenge.")
    assert state() == before


def test_a_criterion_of_another_challenge_is_refused(client, world):
    from jury_support import add_criterion

    other = add_criterion(evaluation_challenge(), "Fremd", "Foreign", 1)
    before = state()
    a, b = world.criteria
    data = {f"score-{a.id}": "7", f"score-{b.id}": "7", f"score-{other.id}": "3"}
    response = client.post_form(idea_url(world, world.ideas[0]), data)
    assert response.status_code == 400
    assert state() == before


def test_a_score_sent_twice_is_refused(client, world):
    before = state()
    a, b = world.criteria
    response = client.post_form(
        idea_url(world, world.ideas[0]), {f"score-{a.id}": ["7", "2"], f"score-{b.id}": "7"}
    )
    assert response.status_code == 400
    assert state() == before


def test_a_note_over_2000_characters_is_refused(client, world):
    before = state()
    response = post_scores(client, world, world.ideas[0], "7", "7", "x" * 2001)
    assert response.status_code == 400
    assert shows(response, "Please use at most %(max)d characters.", max=2000)
    assert 'id="note-error"' in html(response)
    assert state() == before


def test_an_idea_not_assigned_to_the_juror_is_404(client, world, make_user):
    other_challenge = evaluation_challenge()
    foreign = make_idea(other_challenge, "Fremde Idee")
    unassigned = make_idea(world.challenge, "Nicht zugeteilt")
    shortlist(world.challenge, [unassigned])
    before = state()
    for idea in (foreign, unassigned):
        assert client.get(idea_url(world, idea)).status_code == 404
        assert post_scores(client, world, idea, "5", "5").status_code == 404
        assert client.post_form(idea_url(world, idea) + "/conflict").status_code == 404
    assert client.get(f"/jury/challenges/{world.challenge.id}/ideas/99999").status_code == 404
    assert state() == before


def test_scoring_an_idea_with_a_declared_conflict_is_409(client, world):
    x, idea = world.jurors[0], world.ideas[1]
    give_scores(x, idea, None, conflict=True)
    before = state()
    response = post_scores(client, world, idea, "5", "5")
    assert response.status_code == 409
    assert shows(response, CONFLICT)
    assert state() == before


def test_a_non_juror_gets_403_on_every_scoring_page(client, world, make_user, login):
    citizen = make_user(roles=("citizen",))
    client.post_form("/account/logout")
    client.forget_csrf()
    login(citizen)
    before = state()
    base = f"/jury/challenges/{world.challenge.id}"
    idea = idea_url(world, world.ideas[0])
    for url in ("/jury", base, idea):
        assert client.get(url).status_code == 403, url
    for url in (idea, idea + "/conflict", idea + "/conflict/withdraw", base + "/submit"):
        assert client.post_form(url, {"note": "x"}).status_code == 403, url
    assert state() == before


def test_a_juror_of_another_challenge_gets_403(client, world, make_user, login):
    elsewhere = make_user(roles=("juror",))
    other = evaluation_challenge()
    other_idea = make_idea(other, "Dort")
    shortlist(other, [other_idea])
    seat_juror(other, elsewhere, [other_idea])
    client.post_form("/account/logout")
    client.forget_csrf()
    login(elsewhere)
    before = state()
    base = f"/jury/challenges/{world.challenge.id}"
    response = client.get(base)
    assert response.status_code == 403
    assert shows(response, "You are not on the jury of this challenge.")
    assert post_scores(client, world, world.ideas[0], "1", "1").status_code == 403
    assert client.post_form(base + "/submit").status_code == 403
    # Their own challenge id with this challenge's idea: not theirs, so 404
    assert client.get(f"/jury/challenges/{other.id}/ideas/{world.ideas[0].id}").status_code == 404
    assert state() == before


def test_reading_another_jurors_scores_before_submitting_is_impossible(client, world):
    x, y = world.jurors
    a, b = world.criteria
    give_scores(y, world.ideas[0], {a.id: 2, b.id: 9})
    review = review_of(y, world.ideas[0])
    review.note = "Ys private Notiz"
    db.session.commit()
    # The only scoring URLs name challenge and idea: x always gets x's own review.
    page = html(client.get(idea_url(world, world.ideas[0])))
    assert 'value="8"' in page and 'value="5"' in page
    assert 'value="2"' not in page and 'value="9"' not in page and "Ys private" not in page
    # Query strings naming a juror are ignored
    page = html(client.get(idea_url(world, world.ideas[0]) + f"?juror={y.id}&user_id={y.id}"))
    assert 'value="9"' not in page and "Ys private" not in page
    # Staff's progress page is closed to jurors
    assert client.get(f"/staff/challenges/{world.challenge.id}/jury/progress").status_code == 403


def test_changing_scores_after_submitting_is_409(client, world):
    x = world.jurors[0]
    db.session.get(JurorAssignment, (world.challenge.id, x.id)).submitted_at = now()
    db.session.commit()
    before = state()
    idea = idea_url(world, world.ideas[0])
    for response in (
        post_scores(client, world, world.ideas[0], "1", "1"),
        client.post_form(idea + "/conflict"),
        client.post_form(idea + "/conflict/withdraw"),
        client.post_form(f"/jury/challenges/{world.challenge.id}/submit"),
    ):
        assert response.status_code == 409
        assert shows(response, SUBMITTED)
    assert state() == before


def test_changing_scores_after_freezing_is_409(client, world):
    world.challenge.results_frozen_at = now()
    db.session.commit()
    before = state()
    idea = idea_url(world, world.ideas[0])
    for response in (
        post_scores(client, world, world.ideas[0], "1", "1"),
        client.post_form(idea + "/conflict"),
        client.post_form(f"/jury/challenges/{world.challenge.id}/submit"),
    ):
        assert response.status_code == 409
        assert shows(response, FROZEN)
    page = html(client.get(idea))
    assert 'name="score-' not in page and says(FROZEN) in page
    assert state() == before


def test_submitting_with_open_ideas_is_409_naming_them(client, world):
    before = state()
    response = client.post_form(f"/jury/challenges/{world.challenge.id}/submit")
    assert response.status_code == 409
    from flask_babel import force_locale, ngettext
    from markupsafe import escape

    with force_locale("de"):
        expected = ngettext(
            "%(num)d idea is still open; please score it or declare a conflict first: %(titles)s.",
            "%(num)d ideas are still open; please score them or declare a conflict first: %(titles)s.",
            2, titles="“Grüne Dächer”, “Trinkbrunnen”",
        )  # fmt: skip
    assert str(escape(expected)) in html(response)
    assert state() == before


def test_posts_without_csrf_token_change_nothing(client, world):
    before = state()
    a, b = world.criteria
    response = client.http.post(
        idea_url(world, world.ideas[0]), data={f"score-{a.id}": "1", f"score-{b.id}": "1"}
    )
    assert response.status_code == 400
    response = client.http.post(f"/jury/challenges/{world.challenge.id}/submit")
    assert response.status_code == 400
    assert state() == before


def test_get_cannot_change_anything(client, world):
    before = state()
    for url in ("/submit", f"/ideas/{world.ideas[0].id}/conflict"):
        response = client.get(f"/jury/challenges/{world.challenge.id}{url}")
        assert response.status_code == 405
    assert state() == before
