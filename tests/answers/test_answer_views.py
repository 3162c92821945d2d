"""The staff pages of official answers, the answer box on the idea page, the list filter and
the results page's count; hostile requests change nothing."""

import re

import pytest
from answers_support import (
    answer_data,
    answer_url,
    answers_world,
    html,
    make_idea,
    plain,
    says,
    says_n,
    shortlist,
    shows,
    state,
    stored,
)

from consult.answers import services
from consult.extensions import db


@pytest.fixture
def world(app, make_user):
    return answers_world(make_user)


def answer(world, idea, **values):
    return services.answer_idea(world.staff, world.challenge, idea.id, answer_data(**values))


def test_staff_answer_an_idea_through_the_form(world, client, login):
    idea = world.ideas[1]
    login(world.staff)
    page = client.get(f"/staff/challenges/{world.challenge.id}/answers")
    assert page.status_code == 200
    listed = re.findall(r'href="/staff/challenges/\d+/ideas/(\d+)/answer"', html(page))
    assert listed == [str(i.id) for i in world.ideas]  # oldest first
    assert says_n(
        "%(answered)d of %(num)d published idea has an official answer.",
        "%(answered)d of %(num)d published ideas have an official answer.",
        3,
        answered=0,
    ) in html(page)
    form = client.get(answer_url(world.challenge, idea))
    assert form.status_code == 200 and 'name="department"' in html(form)
    response = client.post_form(answer_url(world.challenge, idea), answer_data())
    assert response.status_code == 302
    assert response.location.endswith(f"/staff/challenges/{world.challenge.id}/answers")
    assert stored(idea).state == "already_planned"
    page = client.get(f"/staff/challenges/{world.challenge.id}/answers")
    assert f"/ideas/{idea.id}/answer" not in html(page)
    assert shows(
        page, "The answer has been saved. The author, followers and voters are told by mail."
    )
    # The staff challenge page links here.
    edit = html(client.get(f"/staff/challenges/{world.challenge.id}/edit"))
    assert f'href="/staff/challenges/{world.challenge.id}/answers"' in edit


def test_the_idea_page_shows_the_answer_in_the_readers_language(world, client):
    idea = world.ideas[0]
    answer(world, idea, text_en="")
    page = html(client.get(f"/ideas/{idea.id}", headers={"Accept-Language": "de"}))
    box = page.split('id="answer"', 1)[1].split("</section>", 1)[0]
    assert plain("The city's answer") in box
    assert says("Already planned") in box
    assert '<div class="idea-body" lang="de"><p>Das ist <strong>schon geplant</strong>.' in box
    assert "Grünflächenamt" in box and "<time datetime=" in box
    english = client.get(f"/ideas/{idea.id}", headers={"Accept-Language": "en"})
    box = html(english).split('id="answer"', 1)[1].split("</section>", 1)[0]
    assert "Already planned" in box and 'lang="de"' in box  # the German fallback
    # Visitors get no staff link, and the page stays cacheable.
    assert "/answer" not in box
    response = client.get(f"/ideas/{idea.id}")
    assert response.cache_control.public and "Set-Cookie" not in response.headers


def test_staff_see_a_link_to_answer_on_the_idea_page(world, client, login):
    login(world.staff)
    page = html(client.get(f"/ideas/{world.ideas[0].id}"))
    assert f'href="{answer_url(world.challenge, world.ideas[0])}"' in page
    assert says("Write the official answer") in page


def test_a_shortlisted_idea_shows_its_state_without_a_written_answer(world, client, login):
    idea = world.ideas[0]
    shortlist(world.challenge, [idea])
    page = html(client.get(f"/ideas/{idea.id}"))
    assert says("Shortlisted") in page
    assert says("The idea is on the jury's shortlist: the jury is evaluating it.") in page
    # The form shows the state fixed, with no choice to contradict it.
    login(world.staff)
    form = html(client.get(answer_url(world.challenge, idea)))
    assert 'name="state"' not in form and says("Shortlisted") in form


def test_a_merged_ideas_link_leads_to_the_idea_it_was_merged_into(world, client, login, make_user):
    from consult.answers.models import IdeaAnswer

    duplicate, target = world.ideas[2], world.ideas[0]
    duplicate.status, duplicate.merged_into_id = "merged", target.id
    db.session.add(IdeaAnswer(idea_id=duplicate.id, state="merged", department="Team"))
    db.session.commit()
    login(make_user(roles=("citizen", "moderator")))
    # The duplicate's page itself is never shown: its link leads to the idea it went into.
    response = client.get(f"/ideas/{duplicate.id}")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/ideas/{target.id}?merged_from={duplicate.id}"
    page = html(client.get(response.headers["Location"]))
    assert says("The idea you opened has been merged into this one:") in page
    assert db.session.get(IdeaAnswer, duplicate.id).state == "merged"


def test_the_idea_list_filters_by_answer_state(world, client):
    first, second, third = world.ideas
    answer(world, second, state="already_planned")
    shortlist(world.challenge, [first])
    url = f"/challenges/{world.challenge.id}"
    page = html(client.get(url))
    assert 'name="answer"' in page and says("No answer yet") in page
    assert says("Already planned") in page  # the card's badge

    def titles(query):
        found = re.findall(
            r'id="idea-title-\d+"><a [^>]*>([^<]+)</a>', html(client.get(url + query))
        )
        return sorted(found)

    assert titles("?answer=already_planned") == ["Trinkbrunnen"]
    assert titles("?answer=shortlisted") == ["Bäume am Markt"]
    assert titles("?answer=unanswered") == ["Grüne Dächer"]
    assert titles("?answer=not_pursued") == []
    # Links to other pages of the list keep the filter.
    for n in range(25):
        make_idea(world.challenge, f"Idee {n}", submitted_days_ago=3)
    page = html(client.get(url + "?answer=unanswered"))
    assert "answer=unanswered" in page.split('class="pagination"', 1)[-1] or "page=2" not in page
    # A forged filter is ignored, and the page says so.
    response = client.get(url + "?answer=%3Cscript%3E")
    assert response.status_code == 200
    assert shows(response, "Some of the list options were not valid and have been reset.")
    assert len(titles("?answer=merged")) == 20


def test_the_results_page_counts_the_answered_ideas(app, client, make_user):
    from projects.project_support import frozen_world

    world = frozen_world(make_user)  # three ideas, all shortlisted
    make_idea(world.challenge, "Noch offen")
    page = client.get(f"/challenges/{world.challenge.id}/results")
    assert page.status_code == 200
    assert says_n(
        "%(answered)s of %(total)s idea got an official answer",
        "%(answered)s of %(total)s ideas got an official answer",
        4,
        answered="3",
        total="4",
    ) in html(page)


# --- hostile requests -------------------------------------------------------------------


def test_an_idea_of_another_challenge_through_a_forged_id_is_a_404(world, client, login):
    login(world.staff)
    foreign = make_idea(world.other, "Anderswo")
    before = state()
    assert client.get(answer_url(world.challenge, foreign)).status_code == 404
    response = client.post_form(answer_url(world.challenge, foreign), answer_data())
    assert response.status_code == 404
    assert (
        client.post_form(
            f"/staff/challenges/{world.challenge.id}/ideas/999999/answer", answer_data()
        ).status_code
        == 404
    )
    assert (
        client.post_form(
            f"/staff/challenges/999999/ideas/{world.ideas[0].id}/answer", answer_data()
        ).status_code
        == 404
    )
    assert client.get("/staff/challenges/999999/answers").status_code == 404
    assert state() == before


def test_an_answer_of_100000_characters_is_a_form_error(world, client, login):
    login(world.staff)
    before = state()
    response = client.post_form(
        answer_url(world.challenge, world.ideas[0]), answer_data(text_de="x" * 100_000)
    )
    assert response.status_code == 400
    assert 'id="text_de-error"' in html(response)
    assert shows(response, "Please use at most %(max)d characters.", max=5000)
    assert state() == before


def test_raw_html_and_javascript_links_are_sanitised(world, client, login):
    idea = world.ideas[0]
    login(world.staff)
    hostile = (
        '<script>alert(1)</script> <img src=x onerror="alert(2)"> '
        "[klick](javascript:alert(3)) [auch](JaVaScRiPt&#x3A;alert(4)) "
        '<a href="javascript:alert(5)">a</a> [gut](https://example.org)'
    )
    response = client.post_form(
        answer_url(world.challenge, idea), answer_data(text_de=hostile, text_en=hostile)
    )
    assert response.status_code == 302
    page = html(client.get(f"/ideas/{idea.id}"))
    box = page.split('id="answer"', 1)[1].split("</section>", 1)[0]
    answer_html = box.split('<div class="idea-body" lang="de">', 1)[1].split("</div>", 1)[0]
    tags = re.findall(r"<([a-zA-Z][a-zA-Z0-9]*)([^>]*)>", answer_html)
    assert {name for name, _ in tags} <= {"p", "a"}, tags
    for name, attributes in tags:  # no event handler, no script link: only web links
        assert not re.search(r"\son\w+\s*=", attributes), attributes
        if name == "a":
            assert re.fullmatch(r' href="https://[^"]*" rel="nofollow ugc"', attributes)
    assert '<a href="https://example.org" rel="nofollow ugc">gut</a>' in box
    assert "&lt;script&gt;" in box  # shown as text, never run


@pytest.mark.parametrize("role", ["citizen", "moderator", "juror", "press"])
def test_citizens_and_other_roles_get_a_403(world, client, login, make_user, role):
    login(make_user(roles=tuple(dict.fromkeys(("citizen", role)))))
    before = state()
    url = answer_url(world.challenge, world.ideas[0])
    assert client.get(url).status_code == 403
    assert client.post_form(url, answer_data()).status_code == 403
    assert client.get(f"/staff/challenges/{world.challenge.id}/answers").status_code == 403
    assert state() == before


def test_visitors_are_sent_to_the_login(world, client):
    response = client.get(answer_url(world.challenge, world.ideas[0]))
    assert response.status_code == 302 and "/account/login" in response.location


@pytest.mark.parametrize("value", ["merged", "shortlisted", "lab_project", "granted", "x" * 500])
def test_a_state_chosen_by_hand_that_staff_may_not_set_is_refused(world, client, login, value):
    login(world.staff)
    before = state()
    response = client.post_form(
        answer_url(world.challenge, world.ideas[0]), answer_data(state=value)
    )
    assert response.status_code == 400 and 'id="state-error"' in html(response)
    assert state() == before


def test_a_lab_project_cannot_be_marked_not_pursued_by_a_forged_form(world, client, login):
    from consult.projects.models import LabProject

    idea = world.ideas[0]
    db.session.add(LabProject(challenge_id=world.challenge.id, idea_id=idea.id, title_de="M"))
    db.session.commit()
    login(world.staff)
    before = state()
    response = client.post_form(answer_url(world.challenge, idea), answer_data(state="not_pursued"))
    assert response.status_code == 409
    assert state() == before


@pytest.mark.parametrize("status", ["hidden", "draft", "submitted", "withdrawn"])
def test_a_hidden_or_unpublished_idea_cannot_be_answered(world, client, login, status):
    idea = world.ideas[0]
    idea.status = status
    db.session.commit()
    login(world.staff)
    before = state()
    assert client.get(answer_url(world.challenge, idea)).status_code == 409
    response = client.post_form(answer_url(world.challenge, idea), answer_data())
    assert response.status_code == 409
    assert shows(response, "Only published ideas can get an official answer.")
    assert state() == before


def test_a_form_without_csrf_token_changes_nothing(world, client, login):
    login(world.staff)
    before = state()
    response = client.post(answer_url(world.challenge, world.ideas[0]), data=answer_data())
    assert response.status_code == 400
    assert state() == before
    assert stored(world.ideas[0]) is None
