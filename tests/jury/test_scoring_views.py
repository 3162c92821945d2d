"""The juror's pages through the test client: list, overview, scoring, conflicts, submitting."""

import re

import pytest
from jury_support import (
    evaluation_challenge,
    give_scores,
    jury_world,
    review_of,
    says_n,
    seat_juror,
)
from sqlalchemy import select
from testdata import html, says, shows

from consult.extensions import db
from consult.jury.models import JurorAssignment, JuryScore


def overview_url(world) -> str:
    return f"/jury/challenges/{world.challenge.id}"


def idea_url(world, idea) -> str:
    return f"/jury/challenges/{world.challenge.id}/ideas/{idea.id}"


def form(world, impact: str, feasibility: str, note: str = "") -> dict:
    a, b = world.criteria
    return {f"score-{a.id}": impact, f"score-{b.id}": feasibility, "note": note}


def stored(juror, idea) -> dict[int, int]:
    db.session.expire_all()
    review = review_of(juror, idea)
    rows = db.session.scalars(select(JuryScore).where(JuryScore.review_id == review.id))
    return {s.criterion_id: s.value for s in rows}


def test_my_challenges_lists_seats_with_progress(client, login, make_user):
    world = jury_world(make_user, scored=False)
    x = world.jurors[0]
    a, b = world.criteria
    give_scores(x, world.ideas[0], {a.id: 1, b.id: 2})
    give_scores(x, world.ideas[1], None, conflict=True)
    other = evaluation_challenge()
    other.title_de = "Andere Frage"
    db.session.commit()
    login(x)
    response = client.get("/jury")
    assert response.status_code == 200
    page = html(response)
    assert "Grünere Innenstadt" in page and "Andere Frage" not in page
    assert (
        says_n("%(done)d of %(num)d idea done", "%(done)d of %(num)d ideas done", 3, done=2) in page
    )
    assert says("Not submitted yet") in page
    assert f'href="{overview_url(world)}"' in page
    # the juror's navigation leads here
    assert 'href="/jury">' in page and says("Jury") in page


def test_jury_nav_link_only_for_jurors(client, login, make_user):
    login(make_user(roles=("citizen", "staff")))
    assert 'href="/jury"' not in html(client.get("/"))


@pytest.mark.parametrize("roles", [("citizen",), ("citizen", "staff"), ("moderator",)])
def test_my_challenges_is_for_jurors_only(client, login, make_user, roles):
    login(make_user(roles=roles))
    assert client.get("/jury").status_code == 403


def test_overview_shows_own_ideas_states_criteria_and_no_submit_while_open(
    client, login, make_user
):
    world = jury_world(make_user, scored=False)
    x = world.jurors[0]
    a, b = world.criteria
    a.description_de = "Wie viele Menschen profitieren?"
    db.session.commit()
    give_scores(x, world.ideas[0], {a.id: 1, b.id: 2})
    give_scores(x, world.ideas[2], None, conflict=True)
    login(x)
    response = client.get(overview_url(world))
    assert response.status_code == 200
    page = html(response)
    for idea in world.ideas:
        assert f'href="{idea_url(world, idea)}"' in page
    assert says("scored") in page and says("open") in page
    assert says("conflict of interest declared") in page
    assert "Wirkung" in page and "Wie viele Menschen profitieren?" in page
    assert says("weight %(weight)d", weight=2) in page
    assert says("Submit my scores") not in page
    assert shows(response, "You can submit once every idea is scored or declared a conflict.")


def test_scoring_page_has_one_labelled_whole_number_input_per_criterion(client, login, make_user):
    world = jury_world(make_user, scored=False)
    x, idea = world.jurors[0], world.ideas[0]
    login(x)
    response = client.get(idea_url(world, idea))
    assert response.status_code == 200
    page = html(response)
    assert "Bäume am Markt" in page and "Mehr Bäume." in page
    for criterion in world.criteria:
        field = f"score-{criterion.id}"
        tag = re.search(rf'<input id="{field}"[^>]*>', page).group(0)
        for attribute in ('type="number"', 'inputmode="numeric"', 'min="0"', 'max="10"',
                          'step="1"', f'name="{field}"'):  # fmt: skip
            assert attribute in tag
        label = re.search(rf'<label for="{field}">(.*?)</label>', page, re.S).group(1)
        assert criterion.name_de in label
    assert '<label for="note">' in page and 'maxlength="2000"' in page
    assert f'action="{idea_url(world, idea)}/conflict"' in page


def test_saving_scores_stores_them_and_shows_them_again(client, login, make_user):
    world = jury_world(make_user, scored=False)
    x, idea = world.jurors[0], world.ideas[0]
    a, b = world.criteria
    login(x)
    response = client.post_form(idea_url(world, idea), form(world, "8", "5", "Gute Lage"))
    assert response.status_code == 302
    # On to the next idea that needs scoring ("Grüne Dächer" follows in the list's order).
    assert response.headers["Location"].endswith(idea_url(world, world.ideas[2]))
    assert stored(x, idea) == {a.id: 8, b.id: 5}
    assert review_of(x, idea).note == "Gute Lage"
    following = html(client.get(response.headers["Location"]))
    assert says("Your scores for “%(title)s” have been saved.", title="Bäume am Markt") in following
    assert says("Next idea: “%(title)s”.", title="Grüne Dächer") in following
    page = html(client.get(idea_url(world, idea)))
    assert 'value="8"' in page and 'value="5"' in page and "Gute Lage" in page


def test_declare_and_withdraw_a_conflict_through_the_pages(client, login, make_user):
    world = jury_world(make_user, scored=False)
    x, idea = world.jurors[0], world.ideas[1]
    a, b = world.criteria
    give_scores(x, idea, {a.id: 3, b.id: 3})
    login(x)
    response = client.post_form(idea_url(world, idea) + "/conflict")
    assert response.status_code == 302
    assert stored(x, idea) == {} and review_of(x, idea).conflict
    page = html(client.get(idea_url(world, idea)))
    assert says("You declared a conflict of interest for this idea, so you cannot score it.") in (
        page
    )
    assert 'name="score-' not in page
    response = client.post_form(idea_url(world, idea) + "/conflict/withdraw")
    assert response.status_code == 302
    assert not review_of(x, idea).conflict
    assert 'name="score-' in html(client.get(idea_url(world, idea)))


def test_submitting_fixes_the_scores_and_the_pages_become_read_only(client, login, make_user):
    world = jury_world(make_user, scored=True, submitted=False)
    x = world.jurors[0]
    login(x)
    page = html(client.get(overview_url(world)))
    assert says("Submit my scores") in page
    response = client.post_form(overview_url(world) + "/submit")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(JurorAssignment, (world.challenge.id, x.id)).submitted_at is not None
    page = html(client.get(overview_url(world)))
    assert says("Thank you: your scores have been submitted.") in page
    assert says("Submit my scores") not in page
    page = html(client.get(idea_url(world, world.ideas[0])))
    assert 'name="score-' not in page and "/conflict" not in page
    assert "<dd>8</dd>" in page and "<dd>5</dd>" in page
    assert says("Submitted on %(date)s", date="")[:8] in html(client.get("/jury"))


def test_a_jurors_pages_show_nothing_of_another_jurors_scores_or_notes(client, login, make_user):
    world = jury_world(make_user, scored=False)
    x, y = world.jurors
    a, b = world.criteria
    idea = world.ideas[0]
    give_scores(x, idea, {a.id: 8, b.id: 5})
    give_scores(y, idea, {a.id: 3, b.id: 7})
    review = review_of(y, idea)
    review.note = "Notiz von Y: Nachbar des Autors"
    db.session.commit()
    give_scores(y, world.ideas[1], None, conflict=True)
    login(x)
    pages = [client.get(u) for u in ("/jury", overview_url(world))] + [
        client.get(idea_url(world, i)) for i in world.ideas
    ]
    assert all(p.status_code == 200 for p in pages)
    everything = "".join(html(p) for p in pages)
    assert "Notiz von Y" not in everything and "Juror Y" not in everything
    idea_page = html(pages[2])
    assert 'value="8"' in idea_page and 'value="5"' in idea_page
    assert 'value="3"' not in idea_page and 'value="7"' not in idea_page
    # y's conflict on idea 2 is y's business: x still sees it as open
    # (the state itself: the German hint on submitting uses the same words)
    assert f"<strong>{says('conflict of interest declared')}</strong>" not in html(pages[1])
    # No page takes a juror id: the scoring URLs name challenge and idea only.
    from flask import current_app

    juror_rules = [r.rule for r in current_app.url_map.iter_rules() if r.rule.startswith("/jury")]
    assert len(juror_rules) >= 6
    assert all(set(re.findall(r"<(?:int:)?(\w+)>", rule)) <= {"challenge_id", "idea_id"}
               for rule in juror_rules)  # fmt: skip


def test_pages_are_refused_to_users_without_a_seat(client, login, make_user):
    world = jury_world(make_user, scored=False)
    elsewhere = make_user(roles=("citizen", "juror"), pseudonym="Woanders")
    other = evaluation_challenge()
    seat_juror(other, elsewhere, [])
    for user, status in ((elsewhere, 403), (world.staff, 403)):
        client.forget_csrf()
        login(user)
        assert client.get(overview_url(world)).status_code == status
        assert client.get(idea_url(world, world.ideas[0])).status_code == status
        client.post_form("/account/logout")


def test_anonymous_visitors_are_asked_to_log_in(client, make_user):
    world = jury_world(make_user, scored=False)
    for url in ("/jury", overview_url(world), idea_url(world, world.ideas[0])):
        response = client.get(url)
        assert response.status_code == 302, url
        assert "/account/login" in response.headers["Location"]
    response = client.post_form(idea_url(world, world.ideas[0]), form(world, "1", "1"))
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]
    assert stored(world.jurors[0], world.ideas[0]) == {}


def test_english_juror_sees_english_criteria(client, login, make_user):
    world = jury_world(make_user, scored=False)
    x = world.jurors[0]
    x.locale = "en"
    db.session.commit()
    login(x)
    response = client.get(idea_url(world, world.ideas[0]))
    assert "Impact" in html(response) and "Feasibility" in html(response)
    assert shows(response, "Save scores", "en")
