"""Lab project pages: the public list and page, promotion and the staff page, with hostile input."""

import re
from datetime import date

import pytest
from project_support import (
    audit,
    field_error,
    frozen_world,
    html,
    jury_world,
    promote,
    says,
    shows,
    state,
)

from consult.extensions import db
from consult.projects import services
from consult.projects.models import LabProject, Milestone, Partner, ProjectUpdate


@pytest.fixture
def world(make_user):
    return frozen_world(make_user)


@pytest.fixture
def project(world):
    return promote(world)


@pytest.fixture
def as_staff(client, login, world):
    login(world.staff)
    return world.staff


def staff_url(project, part: str = "") -> str:
    return f"/staff/projects/{project.id}{part}"


# --- public pages ---------------------------------------------------------------------------


def test_the_public_list_shows_projects_newest_first_and_is_cacheable(client, world, project):
    second = promote(world, world.ideas[1], title_de="Trinkbrunnen am Platz", title_en="Fountains")
    response = client.get("/projects")
    assert response.status_code == 200
    page = html(response)
    assert page.index("Trinkbrunnen am Platz") < page.index("Bäume für den Markt")
    assert says("Incubating") in page and "Grünere Innenstadt" in page
    assert f'href="/projects/{second.id}"' in page
    assert response.cache_control.public and response.headers["ETag"]
    assert "Set-Cookie" not in response.headers


def test_the_project_page_shows_everything_in_the_visitors_language(client, world, project):
    services.add_partner(world.staff, project, "Umweltamt", "administration")
    services.add_partner(world.staff, project, "Uni Dortmund", "science")
    services.add_milestone(world.staff, project, "Pflanzung", "Planting", date(2027, 4, 1))
    reached = services.add_milestone(world.staff, project, "Planung", "", date(2027, 1, 15))
    services.mark_milestone_reached(world.staff, project, reached, date(2027, 1, 20))
    services.publish_update(world.staff, project, "Erster **Bericht**", "First report")
    services.publish_update(world.staff, project, "Zweiter Bericht", "")

    response = client.get(f"/projects/{project.id}")
    assert response.status_code == 200 and "Set-Cookie" not in response.headers
    assert response.cache_control.public
    page = html(response)
    assert '<h1 lang="de">Bäume für den Markt</h1>' in page
    assert "<strong>pflanzen</strong>" in page  # the summary's Markdown, rendered
    assert says("Administration") in page and says("Science") in page
    assert "Umweltamt" in page and "Uni Dortmund" in page
    assert "01.04.2027" in page and "20.01.2027" in page  # German dates
    assert page.index("Zweiter Bericht") < page.index("Erster <strong>Bericht</strong>")
    assert f'href="/ideas/{world.ideas[0].id}"' in page

    english = html(client.get(f"/projects/{project.id}", headers={"Accept-Language": "en"}))
    assert '<h1 lang="en">Trees for the market</h1>' in english
    assert "First report" in english
    # Only German exists for the second update and the second milestone: shown marked as German.
    assert '<div class="idea-body" lang="de"><p>Zweiter Bericht</p>' in english
    assert '<strong lang="de">Planung</strong>' in english
    assert "Apr 1, 2027" in english


@pytest.mark.parametrize("status", ["hidden", "withdrawn"])
def test_the_project_of_a_hidden_idea_shows_nothing_of_the_idea(client, world, project, status):
    idea = world.ideas[0]
    idea.status = status  # moderation hid it, or the author withdrew it, after promotion
    db.session.commit()
    page = html(client.get(f"/projects/{project.id}"))
    assert "Bäume am Markt" not in page and f"/ideas/{idea.id}" not in page
    assert says("From the idea") not in page
    assert "Grünere Innenstadt" in page  # the challenge is still named


def test_an_unknown_project_is_not_found(client):
    assert client.get("/projects/4711").status_code == 404
    assert client.get("/projects/99999999999").status_code == 404


def test_the_idea_page_links_its_lab_project(client, world, project):
    page = html(client.get(f"/ideas/{world.ideas[0].id}"))
    assert f'href="/projects/{project.id}"' in page and "Bäume für den Markt" in page
    other = html(client.get(f"/ideas/{world.ideas[1].id}"))
    assert "/projects/" + str(project.id) not in other.replace('href="/projects"', "")


# --- who may use the staff pages ------------------------------------------------------------


@pytest.mark.parametrize("role", ["citizen", "moderator", "juror", "press"])
def test_only_staff_open_the_staff_pages(client, login, make_user, world, project, role):
    roles = ("citizen",) if role == "citizen" else ("citizen", role)
    login(make_user(roles=roles))
    idea = world.ideas[1]
    before = state()
    for url in (
        "/staff/projects",
        staff_url(project),
        f"/staff/challenges/{world.challenge.id}/ideas/{idea.id}/promote",
    ):
        assert client.get(url).status_code == 403, url
    posts = {
        staff_url(project): {"title_de": "X", "title_en": "X", "status": "paused"},
        staff_url(project, "/partners"): {"name": "X", "sector": "business"},
        staff_url(project, "/milestones"): {"title_de": "X", "due_on": "2027-01-01"},
        staff_url(project, "/updates"): {"body_de": "X"},
        f"/staff/challenges/{world.challenge.id}/ideas/{idea.id}/promote": {
            "title_de": "X", "title_en": "X",
        },
    }  # fmt: skip
    for url, data in posts.items():
        assert client.post_form(url, data).status_code == 403, url
    assert state() == before


def test_anonymous_visitors_are_sent_to_log_in(client, project):
    response = client.get(staff_url(project))
    assert response.status_code == 302 and "/account/login" in response.location


# --- promotion ------------------------------------------------------------------------------


def promote_url(world, idea) -> str:
    return f"/staff/challenges/{world.challenge.id}/ideas/{idea.id}/promote"


def test_staff_promote_an_idea_through_the_form(client, world, as_staff, mailbox):
    idea = world.ideas[0]
    form = client.get(promote_url(world, idea))
    assert form.status_code == 200
    assert 'value="Bäume am Markt"' in html(form)  # prefilled with the idea's title
    response = client.post_form(
        promote_url(world, idea),
        {"title_de": "Bäume", "title_en": "Trees", "summary_de": "", "summary_en": ""},
    )
    project = db.session.query(LabProject).one()
    assert response.status_code == 302 and response.location.endswith(staff_url(project))
    assert (project.title_de, project.title_en, project.idea_id) == ("Bäume", "Trees", idea.id)
    assert len(mailbox.to(world.author.email)) == 1


def test_promoting_twice_answers_409_with_a_link(client, world, project, as_staff):
    before = state()
    for response in (
        client.get(promote_url(world, world.ideas[0])),
        client.post_form(promote_url(world, world.ideas[0]), {"title_de": "A", "title_en": "B"}),
    ):
        assert response.status_code == 409
        assert shows(response, "This idea is already a lab project.")
        assert f'href="{staff_url(project)}"' in html(response)
    assert state() == before


def test_promoting_before_freezing_answers_409(client, make_user, login):
    world = jury_world(make_user)
    login(world.staff)
    before = state()
    response = client.post_form(
        promote_url(world, world.ideas[0]), {"title_de": "A", "title_en": "B"}
    )
    assert response.status_code == 409
    assert shows(
        response,
        "The results of this challenge are not frozen yet. Ideas become lab projects only "
        "from the frozen ranking.",
    )
    assert state() == before


def test_the_promote_page_waits_for_the_results_time(client, make_user, login):
    from project_support import freeze

    world = jury_world(make_user)
    freeze(world, results_out=False)
    login(world.staff)
    before = state()
    response = client.get(promote_url(world, world.ideas[0]))
    assert response.status_code == 409
    page = html(response)
    assert "Lab-Projekte können angelegt werden, sobald die Ergebnisse öffentlich sind" in page
    assert 'name="title_de"' not in page  # the message instead of the form
    response = client.post_form(
        promote_url(world, world.ideas[0]), {"title_de": "A", "title_en": "B"}
    )
    assert response.status_code == 409 and 'name="title_de"' not in html(response)
    assert "Lab-Projekte können angelegt werden, sobald" in html(response)
    assert state() == before
    assert "Bäume" not in html(client.get("/projects"))


def test_a_hidden_idea_cannot_be_promoted_from_the_page(client, world, as_staff):
    world.ideas[0].status = "hidden"
    db.session.commit()
    before = state()
    response = client.post_form(
        promote_url(world, world.ideas[0]), {"title_de": "A", "title_en": "B"}
    )
    assert response.status_code == 409
    assert "Nur veröffentlichte Ideen können zu Lab-Projekten werden." in html(response)
    assert state() == before


def test_promoting_an_unranked_or_foreign_idea_is_refused(client, world, as_staff):
    from jury.jury_support import evaluation_challenge, make_idea

    unranked = make_idea(world.challenge, "Nicht gerankt")
    foreign = make_idea(evaluation_challenge(), "Fremd")
    before = state()
    response = client.post_form(promote_url(world, unranked), {"title_de": "A", "title_en": "B"})
    assert response.status_code == 409
    assert shows(response, "This idea is not in the frozen ranking of the challenge.")
    assert (
        client.post_form(
            promote_url(world, foreign), {"title_de": "A", "title_en": "B"}
        ).status_code
        == 404
    )
    assert (
        client.get(f"/staff/challenges/{world.challenge.id}/ideas/4711/promote").status_code == 404
    )
    assert state() == before


def test_promotion_form_errors_are_tied_to_their_fields(client, world, as_staff):
    before = state()
    response = client.post_form(
        promote_url(world, world.ideas[0]), {"title_de": "x" * 161, "title_en": ""}
    )
    assert response.status_code == 400
    page = html(response)
    assert field_error(page, "title_de") == says("Please use at most %(max)d characters.", max=160)
    assert 'aria-describedby="title_de-error"' in page
    assert state() == before
    response = client.post_form(
        promote_url(world, world.ideas[0]), {"title_de": "Bäume", "title_en": ""}
    )
    assert field_error(html(response), "title_en") == says("Please fill in this field.")
    assert response.status_code == 400 and state() == before


def test_english_staff_get_english_messages(client, make_user, login, world):
    world.staff.locale = "en"
    db.session.commit()
    login(world.staff)
    response = client.post_form(
        promote_url(world, world.ideas[0]), {"title_de": "", "title_en": "T"}
    )
    assert field_error(html(response), "title_de") == says("Please fill in this field.", "en")


# --- the staff page -------------------------------------------------------------------------


def test_staff_run_a_project_from_its_page(client, world, project, as_staff):
    assert client.get("/staff/projects").status_code == 200
    page = client.get(staff_url(project))
    assert page.status_code == 200 and says("invited, no answer yet") in html(page)

    ok = client.post_form(
        staff_url(project),
        {"title_de": "Bäume", "title_en": "Trees", "summary_de": "", "summary_en": "", "status": "piloting"},
    )  # fmt: skip
    assert ok.status_code == 302
    assert (
        client.post_form(
            staff_url(project, "/partners"), {"name": "Verein", "sector": "civil_society"}
        ).status_code
        == 302
    )
    assert (
        client.post_form(
            staff_url(project, "/milestones"),
            {"title_de": "Start", "title_en": "", "due_on": "2027-03-01"},
        ).status_code
        == 302
    )
    milestone = db.session.query(Milestone).one()
    reached = client.post_form(
        staff_url(project, f"/milestones/{milestone.id}/reached"),
        {f"milestone-{milestone.id}-reached_on": "2027-03-02"},
    )
    assert reached.status_code == 302
    assert (
        client.post_form(
            staff_url(project, "/updates"), {"body_de": "Es geht los", "body_en": ""}
        ).status_code
        == 302
    )

    db.session.expire_all()
    project = db.session.get(LabProject, project.id)
    assert (project.title_en, project.status) == ("Trees", "piloting")
    assert db.session.query(Partner).one().sector == "civil_society"
    assert db.session.get(Milestone, milestone.id).reached_on == date(2027, 3, 2)
    assert db.session.query(ProjectUpdate).one().body_de == "Es geht los"
    assert [
        len(audit(a))
        for a in ("project.update", "project.partner", "project.milestone", "project.progress")
    ] == [1, 1, 2, 1]

    partner = db.session.query(Partner).one()
    assert client.post_form(staff_url(project, f"/partners/{partner.id}/remove")).status_code == 302
    assert (
        client.post_form(staff_url(project, f"/milestones/{milestone.id}/remove")).status_code
        == 302
    )
    assert db.session.query(Partner).count() == 0 and db.session.query(Milestone).count() == 0


@pytest.mark.parametrize(
    "part, data, field_id, message",
    [
        ("", {"title_de": "T", "title_en": "T", "status": "finished"}, "status",
         ("Please choose a status from the list.", {})),
        ("", {"title_de": "T" * 161, "title_en": "T", "status": "paused"}, "title_de",
         ("Please use at most %(max)d characters.", {"max": 160})),
        ("", {"title_de": "T", "title_en": "T", "summary_de": "s" * 5001, "status": "paused"}, "summary_de",
         ("Please use at most %(max)d characters.", {"max": 5000})),
        ("/partners", {"name": "Verein", "sector": "church"}, "sector",
         ("Please choose a sector from the list.", {})),
        ("/partners", {"name": "V" * 161, "sector": "business"}, "name",
         ("Please use at most %(max)d characters.", {"max": 160})),
        ("/milestones", {"title_de": "Start", "due_on": "01.03.2027"}, "due_on",
         ("Please enter a date, for example 2026-05-01.", {})),
        ("/milestones", {"title_de": "Start", "due_on": "2027-02-30"}, "due_on",
         ("Please enter a date, for example 2026-05-01.", {})),
        ("/milestones", {"title_de": "Start", "due_on": ""}, "due_on",
         ("Please enter a date, for example 2026-05-01.", {})),
        ("/milestones", {"title_de": "Start", "due_on": "0001-01-01"}, "due_on",
         ("Please enter a date between the years %(first)d and %(last)d.", {"first": 2000, "last": 2100})),
        ("/updates", {"body_de": "", "body_en": " "}, "body_de",
         ("Please write the update in at least one language.", {})),
        ("/updates", {"body_de": "b" * 10_001}, "body_de",
         ("Please use at most %(max)d characters.", {"max": 10_000})),
    ],
)  # fmt: skip
def test_hostile_staff_input_is_refused_with_the_message_at_the_field(
    client, project, as_staff, part, data, field_id, message
):
    before = state()
    response = client.post_form(staff_url(project, part), data)
    assert response.status_code == 400
    text, kwargs = message
    assert field_error(html(response), field_id) == says(text, **kwargs)
    assert state() == before
    db.session.expire_all()
    assert db.session.get(LabProject, project.id).status == "incubating"


def test_a_malformed_reached_date_is_refused(client, world, project, as_staff):
    milestone = services.add_milestone(world.staff, project, "Start", "", date(2027, 1, 1))
    before = state()
    response = client.post_form(
        staff_url(project, f"/milestones/{milestone.id}/reached"),
        {f"milestone-{milestone.id}-reached_on": "gestern"},
    )
    assert response.status_code == 400
    assert field_error(html(response), f"milestone-{milestone.id}-reached_on") == says(
        "Please enter a date, for example 2026-05-01."
    )
    assert state() == before and db.session.get(Milestone, milestone.id).reached_on is None


def test_ids_of_other_projects_are_not_found(client, world, project, as_staff):
    other = promote(world, world.ideas[1])
    partner = services.add_partner(world.staff, other, "Uni", "science")
    milestone = services.add_milestone(world.staff, other, "Start", "", date(2027, 1, 1))
    before = state()
    assert client.post_form(staff_url(project, f"/partners/{partner.id}/remove")).status_code == 404
    assert (
        client.post_form(staff_url(project, f"/milestones/{milestone.id}/remove")).status_code
        == 404
    )
    assert (
        client.post_form(
            staff_url(project, f"/milestones/{milestone.id}/reached"),
            {f"milestone-{milestone.id}-reached_on": "2027-01-02"},
        ).status_code
        == 404
    )
    assert client.get("/staff/projects/4711").status_code == 404
    assert state() == before


def test_state_changes_need_post_and_csrf(client, project, as_staff):
    assert client.get(staff_url(project, "/updates")).status_code == 405
    before = state()
    response = client.post(staff_url(project, "/updates"), data={"body_de": "ohne Token"})
    assert response.status_code == 400 and state() == before


def test_the_unsubscribe_link_page_asks_before_switching_off(client, make_user):
    user = make_user()
    url = re.sub(r"^http://localhost", "", services.project_unsubscribe_url(user))
    assert client.get(url).status_code == 200
    db.session.expire_all()
    assert db.session.get(type(user), user.id).notify_projects is True
    assert client.post_form(url).status_code == 302
    db.session.expire_all()
    assert db.session.get(type(user), user.id).notify_projects is False
    assert client.get("/projects/unsubscribe/forged").status_code == 400
