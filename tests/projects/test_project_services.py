"""Lab project services: promotion, co-creator invitation, running a project, update mails."""

from datetime import date, timedelta

import pytest
from project_support import (
    audit,
    count,
    freeze,
    frozen_world,
    jury_world,
    plain,
    promote,
    publish_results_time,
    state,
)
from sqlalchemy import select

from consult import jobs
from consult.clock import travel
from consult.errors import UserError
from consult.extensions import db
from consult.ideas.models import IdeaFollower
from consult.jobs import Outbox, run_outbox
from consult.projects import services
from consult.projects.models import CoCreator, LabProject, Milestone, Partner, ProjectUpdate
from consult.voting.models import Vote


def test_promote_creates_the_project_audits_and_invites_the_author(make_user, mailbox):
    world = frozen_world(make_user)
    project = promote(world)

    assert (project.challenge_id, project.idea_id, project.status) == (
        world.challenge.id, world.ideas[0].id, "incubating",
    )  # fmt: skip
    assert project.title_en == "Trees for the market" and project.summary_de == "Wir **pflanzen**."
    assert project.created_by_id == world.staff.id
    [entry] = audit("project.create")
    assert entry.actor_id == world.staff.id and entry.object_id == project.id
    assert entry.details["idea"] == world.ideas[0].id
    invitation = db.session.get(CoCreator, (project.id, world.author.id))
    assert invitation.state == "invited" and invitation.responded_at is None

    mail = mailbox.last_to(world.author.email)
    assert mail["Subject"] == plain("Your idea becomes a lab project: join as co-creator?")
    assert mail["Content-Language"] == "de"
    text = mailbox.text(mail)
    assert "Bäume für den Markt" in text and "Bäume am Markt" in text
    assert f"/projects/{project.id}/co-creator/accept/" in text
    assert f"/projects/{project.id}/co-creator/decline/" in text


def test_an_english_author_is_invited_in_english(make_user, mailbox):
    world = jury_world(make_user)
    world.author.locale = "en"
    db.session.commit()
    freeze(world)
    promote(world)
    mail = mailbox.last_to(world.author.email)
    assert mail["Content-Language"] == "en"
    assert "Trees for the market" in mailbox.text(mail)


def test_an_idea_without_an_author_account_invites_nobody(make_user, mailbox):
    world = frozen_world(make_user)
    project = promote(world, world.ideas[1])  # entered without an author
    assert count(CoCreator) == 0 and project.id
    assert mailbox.messages() == []


def test_a_deleted_author_is_not_invited(make_user, mailbox):
    world = frozen_world(make_user)
    from consult.clock import now

    world.author.deleted_at = now()
    world.author.email = None
    db.session.commit()
    promote(world)
    assert count(CoCreator) == 0 and mailbox.messages() == []


@pytest.mark.parametrize(
    "change, status, message",
    [
        ("not_frozen", 409, "The results of this challenge are not frozen yet. Ideas become lab projects only from the frozen ranking."),
        ("not_ranked", 409, "This idea is not in the frozen ranking of the challenge."),
        ("other_challenge", 404, "This idea does not belong to this challenge."),
        ("twice", 409, "This idea is already a lab project."),
        ("not_staff", 403, "Only staff can manage lab projects."),
    ],
)  # fmt: skip
def test_promotion_refusals_change_nothing(make_user, change, status, message):
    from jury.jury_support import evaluation_challenge, make_idea

    world = jury_world(make_user)
    idea, actor = world.ideas[0], world.staff
    if change != "not_frozen":
        freeze(world)
    if change == "not_ranked":
        idea = make_idea(world.challenge, "Nicht auf der Liste")
    elif change == "other_challenge":
        idea = make_idea(evaluation_challenge(), "Anderswo")
    elif change == "twice":
        promote(world)
    elif change == "not_staff":
        actor = world.jurors[0]
    before = state()
    with pytest.raises(UserError) as refused:
        services.promote_idea(actor, world.challenge, idea.id, "Titel", "Title")
    assert refused.value.status == status
    assert refused.value.message == plain(message)
    assert state() == before


def test_no_promotion_before_the_results_time_even_when_frozen(make_user, mailbox):
    # Freezing is allowed during evaluation; a project would name the winner early.
    world = jury_world(make_user)
    freeze(world, results_out=False)
    assert world.challenge.phase() == "evaluation" and world.challenge.is_frozen
    before = state()
    with pytest.raises(UserError) as refused:
        promote(world)
    assert refused.value.status == 409
    assert refused.value.message == plain(
        "Lab projects can be created once the results are public: after the press office has "
        "published them and their embargo has passed.",
        "de",
    )
    assert services.promotion_problem(world.challenge, world.ideas[0]).status == 409
    assert state() == before and mailbox.messages() == []
    assert services.list_projects() == []
    # Not even after the results date, while the press office has published nothing.
    with travel(timedelta(days=8)):
        assert world.challenge.phase() == "results"
        with pytest.raises(UserError):
            promote(world)
    # Once the announcement's embargo has passed, promotion works.
    publish_results_time(world.challenge)
    assert promote(world).id


def test_an_archived_challenge_still_allows_promotion(make_user):
    world = frozen_world(make_user)
    world.challenge.archived_at = world.challenge.results_at
    db.session.commit()
    assert world.challenge.phase() == "archived"
    assert promote(world).id


@pytest.mark.parametrize("status", ["hidden", "withdrawn", "submitted"])
def test_an_idea_that_is_not_published_cannot_be_promoted(make_user, mailbox, status):
    world = frozen_world(make_user)
    idea = world.ideas[0]
    idea.status = status
    db.session.commit()
    before = state()
    with pytest.raises(UserError) as refused:
        promote(world, idea)
    assert refused.value.status == 409
    assert refused.value.message == "Nur veröffentlichte Ideen können zu Lab-Projekten werden."
    assert state() == before and mailbox.messages() == []


def test_a_second_promotion_names_the_existing_project(make_user):
    world = frozen_world(make_user)
    first = promote(world)
    with pytest.raises(services.AlreadyPromoted) as refused:
        promote(world, title_de="Noch einmal")
    assert refused.value.project_id == first.id
    assert count(LabProject) == 1


@pytest.mark.parametrize(
    "texts, field, message",
    [
        ({"title_de": "  "}, "title_de", "Please fill in this field."),
        ({"title_en": ""}, "title_en", "Please fill in this field."),
        ({"title_de": "x" * 161}, "title_de", ("Please use at most %(max)d characters.", 160)),
        ({"summary_en": "x" * 5001}, "summary_en", ("Please use at most %(max)d characters.", 5000)),
        ({"title_en": "Trees\u202e"}, "title_en", "Please remove invisible control characters from this text."),
    ],
)  # fmt: skip
def test_promotion_texts_are_checked(make_user, texts, field, message):
    world = frozen_world(make_user)
    before = state()
    with pytest.raises(UserError) as refused:
        promote(world, **texts)
    expected = plain(message[0], max=message[1]) if isinstance(message, tuple) else plain(message)
    assert (refused.value.field, refused.value.message) == (field, expected)
    assert state() == before


def test_update_project_changes_texts_and_status_and_audits(make_user):
    world = frozen_world(make_user)
    project = promote(world)
    data = {"title_de": "Neuer Titel", "title_en": "Trees for the market",
            "summary_de": "", "summary_en": "We plant.", "status": "piloting"}  # fmt: skip
    assert services.update_project(world.staff, project, data) is True
    assert (project.title_de, project.summary_de, project.status) == ("Neuer Titel", "", "piloting")
    [entry] = audit("project.update")
    assert entry.details["fields"] == ["status", "summary_de", "summary_en", "title_de"]
    # The same values again change nothing and record nothing.
    assert services.update_project(world.staff, project, data) is False
    assert len(audit("project.update")) == 1


@pytest.mark.parametrize("status", ["finished", "", None, "Incubating"])
def test_an_unknown_status_is_refused(make_user, status):
    world = frozen_world(make_user)
    project = promote(world)
    data = {"title_de": "T", "title_en": "T", "status": status}
    before = state()
    with pytest.raises(UserError) as refused:
        services.update_project(world.staff, project, data)
    assert refused.value.field == "status"
    assert state() == before and db.session.get(LabProject, project.id).status == "incubating"


def test_partners_are_added_and_removed_with_audit(make_user):
    world = frozen_world(make_user)
    project = promote(world)
    first = services.add_partner(world.staff, project, " Umweltamt ", "administration")
    second = services.add_partner(world.staff, project, "Nachbarschaftsverein", "civil_society")
    assert (first.name, first.sector) == ("Umweltamt", "administration")
    assert second.position > first.position
    services.remove_partner(world.staff, project, first)
    assert [p.name for p in db.session.scalars(select(Partner))] == ["Nachbarschaftsverein"]
    assert [e.details.get("name") for e in audit("project.partner")] == [
        "Umweltamt", "Nachbarschaftsverein", "Umweltamt",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "name, sector, field",
    [("Verein", "church", "sector"), ("Verein", "", "sector"), ("", "business", "name"),
     ("x" * 161, "business", "name")],
)  # fmt: skip
def test_bad_partners_are_refused(make_user, name, sector, field):
    world = frozen_world(make_user)
    project = promote(world)
    before = state()
    with pytest.raises(UserError) as refused:
        services.add_partner(world.staff, project, name, sector)
    assert refused.value.field == field and state() == before


def test_a_partner_of_another_project_cannot_be_removed(make_user):
    world = frozen_world(make_user)
    project, other = promote(world), promote(world, world.ideas[1])
    partner = services.add_partner(world.staff, other, "Uni", "science")
    with pytest.raises(UserError) as refused:
        services.remove_partner(world.staff, project, partner)
    assert refused.value.status == 404 and count(Partner) == 1


def test_milestones_are_added_reached_and_removed(make_user):
    world = frozen_world(make_user)
    project = promote(world)
    milestone = services.add_milestone(world.staff, project, "Pflanzung", "", date(2027, 4, 1))
    services.mark_milestone_reached(world.staff, project, milestone, date(2027, 4, 3))
    assert db.session.get(Milestone, milestone.id).reached_on == date(2027, 4, 3)
    services.mark_milestone_reached(world.staff, project, milestone, None)
    assert db.session.get(Milestone, milestone.id).reached_on is None
    services.remove_milestone(world.staff, project, milestone)
    assert count(Milestone) == 0
    details = [e.details for e in audit("project.milestone")]
    assert details[0]["due_on"] == "2027-04-01" and details[1]["reached_on"] == "2027-04-03"
    assert details[-1]["removed"] == milestone.id


@pytest.mark.parametrize(
    "title_de, title_en, due_on, field",
    [("", "", date(2027, 1, 1), "title_de"), ("Start", "", None, "due_on"),
     ("Start", "", date(1999, 12, 31), "due_on"), ("Start", "x" * 201, date(2027, 1, 1), "title_en")],
)  # fmt: skip
def test_bad_milestones_are_refused(make_user, title_de, title_en, due_on, field):
    world = frozen_world(make_user)
    project = promote(world)
    before = state()
    with pytest.raises(UserError) as refused:
        services.add_milestone(world.staff, project, title_de, title_en, due_on)
    assert refused.value.field == field and state() == before


def _supporters(world, make_user):
    """Voters and followers of the promoted idea, and people who must not get the mail."""
    from consult.clock import now

    idea = world.ideas[0]
    voter = make_user(pseudonym="Wählerin", locale="en")
    both = make_user(pseudonym="Beides")
    follower = make_user(pseudonym="Folgender")
    quiet = make_user(pseudonym="Keine Post")
    quiet.notify_projects = False
    gone = make_user(pseudonym="Gelöscht")
    gone.deleted_at = now()
    unverified = make_user(pseudonym="Unbestätigt", verified=False)
    other_idea_voter = make_user(pseudonym="Anderswo")
    for user in (voter, both, quiet, gone, unverified):
        db.session.add(Vote(challenge_id=world.challenge.id, idea_id=idea.id, user_id=user.id))
    db.session.add(
        Vote(
            challenge_id=world.challenge.id, idea_id=world.ideas[1].id, user_id=other_idea_voter.id
        )
    )
    for user in (both, follower, quiet):
        db.session.add(IdeaFollower(idea_id=idea.id, user_id=user.id))
    db.session.commit()
    return voter, both, follower


def test_an_update_is_mailed_once_to_each_voter_and_follower(make_user, mailbox):
    world = jury_world(make_user, submitted=False)
    voter, both, follower = _supporters(world, make_user)
    from jury.jury_support import mark_submitted

    for juror in world.jurors:
        mark_submitted(world.challenge, juror)
    freeze(world)
    project = promote(world)
    mailbox.clear()

    entry = services.publish_update(world.staff, project, "Die **ersten** Bäume stehen.", "")
    assert entry.body_html_de == "<p>Die <strong>ersten</strong> Bäume stehen.</p>\n"
    db.session.expire_all()
    assert db.session.get(ProjectUpdate, entry.id).mailed_at is not None
    assert sorted(m["To"] for m in mailbox.messages()) == sorted(
        [voter.email, both.email, follower.email]
    )
    mail = mailbox.last_to(voter.email)  # English account, German-only update: the fallback
    assert mail["Subject"] == plain("News from a lab project you follow", "en")
    assert mail["Content-Language"] == "en"
    text = mailbox.text(mail)
    assert "Trees for the market" in text and "Die **ersten** Bäume stehen." in text
    assert f"http://localhost/projects/{project.id}" in text
    assert mail["List-Unsubscribe"].startswith("<http://localhost/projects/unsubscribe/")
    [entry_audit] = audit("project.progress")
    assert entry_audit.details["update"] == entry.id


def test_the_update_job_mails_nobody_twice(make_user, mailbox):
    world = frozen_world(make_user)
    follower = make_user()
    db.session.add(IdeaFollower(idea_id=world.ideas[0].id, user_id=follower.id))
    db.session.commit()
    project = promote(world)
    mailbox.clear()
    entry = services.publish_update(world.staff, project, "Neu", "New")
    assert len(mailbox.to(follower.email)) == 1
    # Run again, directly and through a second outbox row: nothing more is sent.
    assert services.mail_project_update(entry.id) == 0
    assert jobs.send_project_update_mails(entry.id) == 0
    job = db.session.scalar(select(Outbox).where(Outbox.job == "send_project_update_mails"))
    job.done_at = None
    job.started_at = None
    db.session.commit()
    run_outbox(job.id)
    assert len(mailbox.to(follower.email)) == 1


def test_the_update_job_lives_in_jobs_and_calls_the_service():
    # DESIGN §11: jobs are plain functions in consult/jobs.py, registered under their name.
    assert jobs.JOBS["send_project_update_mails"] is jobs.send_project_update_mails
    assert jobs.send_project_update_mails.__module__ == "consult.jobs"
    assert not hasattr(services, "send_project_update_mails")


def test_an_update_needs_a_text(make_user):
    world = frozen_world(make_user)
    project = promote(world)
    before = state()
    with pytest.raises(UserError) as refused:
        services.publish_update(world.staff, project, "  ", "")
    assert refused.value.field == "body_de" and state() == before
    with pytest.raises(UserError) as refused:
        services.publish_update(world.staff, project, "x" * 10_001, "")
    assert refused.value.message == plain("Please use at most %(max)d characters.", max=10_000)
    assert state() == before


def test_the_unsubscribe_link_switches_project_mails_off(make_user):
    from consult.accounts.tokens import make_token

    user = make_user()
    token = make_token("project-unsubscribe", user.id)
    services.unsubscribe_project_mails(token)
    services.unsubscribe_project_mails(token)  # a lasting link: twice is fine
    assert db.session.get(type(user), user.id).notify_projects is False
    assert db.session.get(type(user), user.id).notify_comments is True
    with pytest.raises(UserError):
        services.unsubscribe_project_mails(make_token("unsubscribe", user.id))  # other purpose


@pytest.mark.postgres_only
def test_two_staff_promoting_at_once_make_one_project(app, make_user, monkeypatch):
    """Both requests pass every check; the unique idea_id lets only one insert through."""
    import threading

    world = frozen_world(make_user)
    challenge_id, idea_id, staff_id = world.challenge.id, world.ideas[0].id, world.staff.id
    barrier = threading.Barrier(2)
    checked = services.promotion_problem

    def check_then_wait(challenge, idea):
        problem = checked(challenge, idea)
        barrier.wait(timeout=10)  # both have found "no project yet" before either inserts
        return problem

    monkeypatch.setattr(services, "promotion_problem", check_then_wait)
    results = []

    def attempt(title):
        with app.app_context():
            from consult.accounts.models import User
            from consult.challenges.models import Challenge

            actor = db.session.get(User, staff_id)
            challenge = db.session.get(Challenge, challenge_id)
            try:
                services.promote_idea(actor, challenge, idea_id, title, title)
                results.append("ok")
            except services.AlreadyPromoted as refused:
                results.append(refused.project_id)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt, args=(t,)) for t in ("Eins", "Zwei")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db.session.expire_all()
    [project] = db.session.scalars(select(LabProject)).all()
    assert sorted(results, key=str) == sorted([project.id, "ok"], key=str)
    assert count(CoCreator) == 1 and len(audit("project.create")) == 1
