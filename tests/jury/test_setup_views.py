"""The staff jury setup page: who may use it, what it shows, and each action through HTTP."""

import pytest
from jury_support import (
    add_criterion,
    evaluation_challenge,
    jury_world,
    make_idea,
    review_of,
    says_n,
    seat_juror,
)
from sqlalchemy import select
from test_setup_services import audit, ideas_with_votes, state
from testdata import html, says

from consult.extensions import db
from consult.jury.models import JurorAssignment, JuryCriterion, JuryReview, ShortlistEntry


def url(challenge, rest: str = "") -> str:
    return f"/staff/challenges/{challenge.id}/jury{rest}"


@pytest.fixture
def staff(make_user, login):
    user = make_user(roles=("citizen", "staff"), pseudonym="Frau Amt")
    login(user)
    return user


def post_urls(world) -> list[tuple[str, dict]]:
    """Every action of the page, with data that staff would get through."""
    criterion, idea, juror = world.criteria[0], world.ideas[0], world.jurors[0]
    return [
        (url(world.challenge, "/settings"), {"alpha_percent": "10", "shortlist_size": "3"}),
        (url(world.challenge, "/criteria"), {"name_de": "Neu", "name_en": "New", "weight": "1"}),
        (url(world.challenge, f"/criteria/{criterion.id}"), {}),
        (url(world.challenge, f"/criteria/{criterion.id}/delete"), {}),
        (url(world.challenge, "/shortlist/top"), {}),
        (url(world.challenge, "/shortlist"), {"idea": str(idea.id), "reason": "Gut"}),
        (url(world.challenge, f"/shortlist/{idea.id}/delete"), {}),
        (url(world.challenge, "/jurors"), {"person": "someone@example.org"}),
        (url(world.challenge, f"/jurors/{juror.id}/delete"), {}),
        (url(world.challenge, f"/jurors/{juror.id}/ideas"), {"idea": str(idea.id)}),
    ]


# --- who may use it -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "roles", [("citizen",), ("citizen", "moderator"), ("citizen", "juror"), ("press",)]
)
def test_only_staff_may_open_the_page_or_use_its_actions(client, make_user, login, roles):
    world = jury_world(make_user, submitted=False)
    login(make_user(roles=roles))
    before = state(world.challenge.id)
    assert client.get(url(world.challenge)).status_code == 403
    for target, data in post_urls(world):
        assert client.post_form(target, data).status_code == 403, target
    assert state(world.challenge.id) == before


def test_anonymous_visitors_are_sent_to_log_in(client, make_user):
    world = jury_world(make_user, submitted=False)
    before = state(world.challenge.id)
    response = client.get(url(world.challenge))
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]
    for target, data in post_urls(world):
        assert client.post_form(target, data).status_code in (302, 400), target
    assert state(world.challenge.id) == before


def test_unknown_challenge_is_404(client, staff):
    assert client.get("/staff/challenges/999/jury").status_code == 404


def test_challenge_edit_page_links_to_the_jury_setup(client, staff):
    challenge = evaluation_challenge()
    page = html(client.get(f"/staff/challenges/{challenge.id}/edit"))
    assert f'href="{url(challenge)}"' in page


# --- what the page shows ------------------------------------------------------------------


def test_page_shows_settings_criteria_with_shares_shortlist_and_jurors(client, make_user, staff):
    world = jury_world(make_user, submitted=False)
    review = review_of(world.jurors[0], world.ideas[0])
    review.note = "Geheime Notiz der Jurorin"
    db.session.commit()
    page = html(client.get(url(world.challenge)))
    assert says("alpha = %(alpha)s: the jury counts %(jury)s, the public votes %(public)s.",
                alpha="0,50", jury="50\xa0%", public="50\xa0%") in page  # fmt: skip
    assert "Wirkung" in page and "Machbarkeit" in page
    assert "66,7\xa0%" in page and "33,3\xa0%" in page  # shares of the weights 2 and 1
    for idea in world.ideas:
        assert f'href="/ideas/{idea.id}"' in page
    assert "Jurorin X" in page and "Juror Y" in page
    assert f'id="juror-{world.jurors[0].id}-idea-{world.ideas[0].id}" checked' in page
    assert f'href="/staff/challenges/{world.challenge.id}/jury/progress"' in page
    assert f'href="/staff/challenges/{world.challenge.id}/results"' in page
    # Staff see no score values and no juror's private note here.
    assert "Geheime Notiz" not in page
    assert "<td>8</td>" not in page and "<td>10</td>" not in page


def test_page_in_english_formats_alpha_the_english_way(client, make_user, login):
    login(make_user(roles=("staff",), locale="en"))
    challenge = evaluation_challenge(jury_alpha_percent=35)
    page = html(client.get(url(challenge)))
    assert says("alpha = %(alpha)s: the jury counts %(jury)s, the public votes %(public)s.",
                "en", alpha="0.35", jury="35%", public="65%") in page  # fmt: skip


def test_locked_page_says_why_and_offers_no_changes(client, make_user, staff):
    world = jury_world(make_user)  # both jurors submitted
    page = html(client.get(url(world.challenge)))
    assert (
        says(
            "A juror has already submitted scores, so the criteria, weights and "
            "shortlist can no longer change."
        )
        in page
    )
    assert f'action="/staff/challenges/{world.challenge.id}/jury/criteria"' not in page
    assert "/jury/settings" not in page and "/shortlist/top" not in page


# --- each action --------------------------------------------------------------------------


def test_settings_form_saves_and_flashes(client, staff):
    challenge = evaluation_challenge()
    response = client.post_form(
        url(challenge, "/settings"),
        {"alpha_percent": "35", "centering": "y", "shortlist_size": "8"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(url(challenge) + "#settings")
    assert state(challenge.id)["settings"] == (35, True, 8)
    assert says("The jury settings have been saved.") in html(client.get(url(challenge)))
    # Leaving the box unticked turns centering off.
    client.post_form(url(challenge, "/settings"), {"alpha_percent": "35", "shortlist_size": "8"})
    assert state(challenge.id)["settings"] == (35, False, 8)
    assert len(audit("jury.settings")) == 2


def test_add_edit_and_remove_a_criterion(client, staff):
    challenge = evaluation_challenge()
    response = client.post_form(
        url(challenge, "/criteria"),
        {"name_de": "Wirkung", "name_en": "Impact", "description_en": "What changes?",
         "weight": "3"},
    )  # fmt: skip
    assert response.status_code == 302
    criterion = db.session.scalar(select(JuryCriterion))
    assert (criterion.name_en, criterion.description_en, criterion.weight) == (
        "Impact", "What changes?", 3,
    )  # fmt: skip
    prefix = f"criterion-{criterion.id}-"
    response = client.post_form(
        url(challenge, f"/criteria/{criterion.id}"),
        {prefix + "name_de": "Wirkung", prefix + "name_en": "Effect", prefix + "weight": "4",
         prefix + "position": "2"},
    )  # fmt: skip
    assert response.status_code == 302
    db.session.expire_all()
    assert (criterion.name_en, criterion.weight, criterion.position) == ("Effect", 4, 2)
    response = client.post_form(url(challenge, f"/criteria/{criterion.id}/delete"))
    assert response.status_code == 302
    assert db.session.scalar(select(JuryCriterion)) is None
    assert [e.action for e in audit()] == [
        "jury.criterion_create",
        "jury.criterion_update",
        "jury.criterion_delete",
    ]


def test_shortlist_top_pick_and_remove(client, staff):
    challenge = evaluation_challenge(shortlist_size=2)
    a, b, c, d = ideas_with_votes(challenge, [9, 5, 5, 1])
    response = client.post_form(url(challenge, "/shortlist/top"))
    assert response.status_code == 302
    page = html(client.get(url(challenge)))
    assert (
        says_n(
            "%(num)d idea has been added to the shortlist.",
            "%(num)d ideas have been added to the shortlist.",
            3,
        )
        in page
    )
    assert says_n(
        "%(num)d more than the shortlist size, because it ties with the last place "
        "(%(votes)d votes).",
        "%(num)d more than the shortlist size, because they tie with the last place "
        "(%(votes)d votes).",
        1, votes=5,
    ) in page  # fmt: skip
    # d is offered as a staff pick, with its votes.
    assert f'<option value="{d.id}">' in page
    response = client.post_form(
        url(challenge, "/shortlist"), {"idea": str(d.id), "reason": "Einziges Projekt im Süden"}
    )
    assert response.status_code == 302
    page = html(client.get(url(challenge)))
    assert "Einziges Projekt im Süden" in page and says("Staff pick") in page
    response = client.post_form(url(challenge, f"/shortlist/{a.id}/delete"))
    assert response.status_code == 302
    assert set(db.session.scalars(select(ShortlistEntry.idea_id))) == {b.id, c.id, d.id}
    assert [e.action for e in audit()] == [
        "jury.shortlist_add",
        "jury.shortlist_add",
        "jury.shortlist_remove",
    ]


def test_seat_a_juror_change_their_ideas_and_unseat_them(client, staff, make_user):
    challenge = evaluation_challenge()
    a, b = ideas_with_votes(challenge, [2, 1])
    db.session.add_all(
        ShortlistEntry(challenge_id=challenge.id, idea_id=i.id, source="votes") for i in (a, b)
    )
    db.session.commit()
    juror = make_user(roles=("juror",), pseudonym="Frau Richter", email="richter@example.org")
    response = client.post_form(url(challenge, "/jurors"), {"person": "Richter@Example.org"})
    assert response.status_code == 302
    assert says("%(name)s is now on the jury.", name="Frau Richter") in html(
        client.get(url(challenge))
    )
    assert set(db.session.scalars(select(JuryReview.idea_id))) == {a.id, b.id}

    response = client.post_form(url(challenge, f"/jurors/{juror.id}/ideas"), {"idea": str(b.id)})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"#juror-{juror.id}")
    assert set(db.session.scalars(select(JuryReview.idea_id))) == {b.id}
    # No box ticked: the juror has no ideas, but stays on the jury.
    assert client.post_form(url(challenge, f"/jurors/{juror.id}/ideas")).status_code == 302
    assert db.session.scalars(select(JuryReview)).all() == []

    response = client.post_form(url(challenge, f"/jurors/{juror.id}/delete"))
    assert response.status_code == 302
    assert db.session.scalars(select(JurorAssignment)).all() == []
    assert [e.action for e in audit()] == [
        "jury.juror_assign",
        "jury.juror_assign",
        "jury.juror_assign",
        "jury.juror_remove",
    ]


def test_page_offers_jurors_by_name_and_not_those_already_seated(client, staff, make_user):
    challenge = evaluation_challenge()
    seated = make_user(roles=("juror",), pseudonym="Schon Dabei")
    make_user(roles=("juror",), pseudonym="Noch Frei")
    make_user(roles=("citizen",), pseudonym="Nur Buergerin")
    seat_juror(challenge, seated, [])
    page = html(client.get(url(challenge)))
    assert '<option value="Noch Frei">' in page
    assert '<option value="Schon Dabei">' not in page and "Nur Buergerin" not in page


def test_criterion_names_and_reasons_are_shown_escaped(client, staff):
    challenge = evaluation_challenge()
    add_criterion(challenge, "<script>alert(1)</script>", "<b>x</b>", 1)
    idea = make_idea(challenge, "<svg onload=alert(1)>")
    db.session.add(
        ShortlistEntry(
            challenge_id=challenge.id, idea_id=idea.id, source="staff", reason="<i>weil</i>"
        )
    )
    db.session.commit()
    page = html(client.get(url(challenge)))
    assert "<script>alert" not in page and "<svg" not in page and "<i>weil" not in page
    assert "&lt;script&gt;" in page and "&lt;i&gt;weil" in page


def test_sending_a_criterion_form_back_unchanged_changes_nothing(client, make_user, staff):
    world = jury_world(make_user, scored=False)
    impact = world.criteria[0]  # position 0, as older data may have
    p = f"criterion-{impact.id}-"
    before = state(world.challenge.id)
    response = client.post_form(
        url(world.challenge, f"/criteria/{impact.id}"),
        {p + "name_de": "Wirkung", p + "name_en": "Impact", p + "weight": "2",
         p + "position": "0"},
    )  # fmt: skip
    assert response.status_code == 302
    assert says("Nothing has changed.") in html(client.get(url(world.challenge)))
    assert state(world.challenge.id) == before


# --- an idea nobody can score --------------------------------------------------------------


def test_page_warns_of_an_idea_no_juror_can_score_and_lets_staff_take_it_off(
    client, make_user, staff
):
    from consult.jury import scoring

    world = jury_world(make_user, submitted=False)
    x, y = world.jurors
    one, _two, three = world.ideas
    scoring.declare_conflict(x, world.challenge, three.id)  # y declared one already
    warning = says(
        "No juror on the jury can score these ideas: each juror either does not have them or "
        "declared a conflict of interest. Give them to a juror who has not submitted yet, or "
        "take them off the shortlist; otherwise the results cannot be frozen."
    )
    page = html(client.get(url(world.challenge)))
    assert warning in page
    assert page.count('id="shortlist-unscoreable"') == 1
    assert "Grüne Dächer</li>" in page and "Bäume am Markt</li>" not in page
    for juror in (x, y):
        scoring.submit_scores(juror, db.session.get(type(world.challenge), world.challenge.id))

    page = html(client.get(url(world.challenge)))
    assert warning in page
    # Locked for everything else, but idea 3 (scored by no one) can still go.
    assert f"/shortlist/{three.id}/delete" in page and f"/shortlist/{one.id}/delete" not in page
    # After a submission staff are asked first (idea 3: no saved scores, so none deleted).
    response = client.post_form(url(world.challenge, f"/shortlist/{three.id}/delete"))
    assert response.status_code == 200
    assert says("No juror has saved scores for this idea, so no scores are deleted.") in html(
        response
    )
    assert three.id in set(db.session.scalars(select(ShortlistEntry.idea_id)))
    response = client.post_form(
        url(world.challenge, f"/shortlist/{three.id}/delete"), {"confirm": "0"}
    )
    assert response.status_code == 302
    page = html(client.get(url(world.challenge)))
    assert (
        says(
            "The idea has been taken off the shortlist, although jurors have submitted: "
            "no juror who submitted had scored it."
        )
        in page
    )
    assert warning not in page
    assert set(db.session.scalars(select(ShortlistEntry.idea_id))) == {
        world.ideas[0].id,
        world.ideas[1].id,
    }
    # An idea a submitted juror scored stays, and the page says why.
    before = state(world.challenge.id)
    response = client.post_form(url(world.challenge, f"/shortlist/{one.id}/delete"))
    assert response.status_code == 409
    assert says(
        "A juror has already submitted scores for this idea, so it stays on the shortlist."
    ) in html(response)
    assert state(world.challenge.id) == before


def test_no_warning_while_every_idea_has_a_juror_who_can_score_it(client, make_user, staff):
    world = jury_world(make_user, scored=False)
    assert 'id="shortlist-unscoreable"' not in html(client.get(url(world.challenge)))


# --- a refused "Save ideas" is tied to its fieldset ---------------------------------------


def test_refused_juror_ideas_show_the_error_at_the_fieldset(client, make_user, staff):
    world = jury_world(make_user, scored=False)
    x = world.jurors[0]
    spare = make_idea(world.challenge, "Nicht auf der Liste")
    before = state(world.challenge.id)
    response = client.post_form(
        url(world.challenge, f"/jurors/{x.id}/ideas"), {"idea": str(spare.id)}
    )
    assert response.status_code == 404
    page = html(response)
    message = says("This idea is not on the shortlist.")
    error_id = f"juror-{x.id}-ideas-error"
    assert (
        f'<fieldset id="juror-{x.id}-ideas" class="field-error" aria-describedby="{error_id}">'
        in page
    )
    assert f'<p class="error" id="{error_id}">{message}</p>' in page
    assert page.count('aria-invalid="true"') == len(world.ideas)
    # The summary at the top leads to the fieldset.
    assert f'<a href="#juror-{x.id}-ideas">{message}</a>' in page
    # The other juror's fieldset is untouched.
    y = world.jurors[1]
    assert f'<fieldset id="juror-{y.id}-ideas">' in page
    assert state(world.challenge.id) == before
