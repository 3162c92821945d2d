"""Answering ideas: states that cannot contradict the jury or the lab, checked texts, what is open."""

from datetime import timedelta

import pytest
from answers_support import answer_data, answers_world, make_idea, shortlist, stored
from sqlalchemy import select

from consult.answers import services
from consult.answers.models import IdeaAnswer
from consult.answers.states import effective_state
from consult.audit.models import AuditEntry
from consult.errors import UserError
from consult.extensions import db
from consult.ideas.services import list_ideas
from consult.projects.models import LabProject


@pytest.fixture
def world(app, make_user):
    return answers_world(make_user)


def answer(world, idea, **values):
    return services.answer_idea(world.staff, world.challenge, idea.id, answer_data(**values))


def test_a_first_answer_is_stored_rendered_and_audited(world):
    idea = world.ideas[1]
    assert answer(world, idea) == "new"
    saved = stored(idea)
    assert saved.state == "already_planned"
    assert saved.html_de == "<p>Das ist <strong>schon geplant</strong>.</p>\n"
    assert saved.html_en == "<p>This is <strong>already planned</strong>.</p>\n"
    assert saved.department == "Grünflächenamt" and saved.answered_by_id == world.staff.id
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "idea.answer"))
    assert entry.object_id == idea.id
    assert entry.details["state"] == "already_planned" and entry.details["change"] == "new"


def test_changes_are_told_apart_new_state_text_unchanged(world):
    idea = world.ideas[0]
    assert answer(world, idea, state="under_review") == "new"
    first = stored(idea).answered_at
    assert answer(world, idea, state="under_review") == "unchanged"
    assert answer(world, idea, state="under_review", text_en="") == "text"
    assert stored(idea).answered_at == first
    assert answer(world, idea, state="not_pursued", text_en="") == "state"
    assert stored(idea).state == "not_pursued"
    changes = [
        e.details["change"]
        for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        if e.action == "idea.answer"
    ]
    assert changes == ["new", "text", "state"]  # "unchanged" writes nothing


def test_the_shown_state_follows_the_shortlist_and_the_lab():
    assert effective_state(None, False, False) is None
    assert effective_state("not_pursued", False, False) == "not_pursued"
    assert effective_state("not_pursued", False, True) == "shortlisted"
    assert effective_state("under_review", True, True) == "lab_project"
    assert effective_state("shortlisted", False, False) == "under_review"
    assert effective_state("lab_project", False, False) == "under_review"
    assert effective_state("merged", False, False) == "merged"


def test_a_shortlisted_idea_shows_shortlisted_and_staff_cannot_contradict_it(world):
    idea = world.ideas[0]
    answer(world, idea, state="under_review")
    shortlist(world.challenge, [idea])
    view = services.answer_view(idea)
    assert view.state == "shortlisted" and view.answer is not None
    with pytest.raises(UserError) as refused:
        answer(world, idea, state="not_pursued")
    assert refused.value.status == 409 and refused.value.field == "state"
    # Without a state (the form shows it fixed) the text changes; the state shown was
    # "shortlisted" already, so this is a correction (nobody is mailed).
    assert answer(world, idea, state="", text_de="Die Jury prüft.") == "text"
    assert stored(idea).state == "shortlisted"


def test_a_lab_project_cannot_be_marked_not_pursued(world):
    idea = world.ideas[0]
    shortlist(world.challenge, [idea])
    db.session.add(LabProject(challenge_id=world.challenge.id, idea_id=idea.id, title_de="Markt"))
    db.session.commit()
    assert services.answer_view(idea).state == "lab_project"
    with pytest.raises(UserError) as refused:
        answer(world, idea, state="not_pursued")
    assert refused.value.status == 409
    assert stored(idea) is None
    assert answer(world, idea, state="lab_project") == "new"
    assert stored(idea).state == "lab_project"


@pytest.mark.parametrize("state", ["shortlisted", "lab_project", "merged", "won", "", None])
def test_automatic_or_unknown_states_are_refused_by_hand(world, state):
    with pytest.raises(UserError) as refused:
        answer(world, world.ideas[0], state=state)
    assert refused.value.field == "state" and refused.value.status == 400
    assert stored(world.ideas[0]) is None


def test_taken_off_the_shortlist_the_idea_shows_under_review_with_its_text(world):
    idea = world.ideas[0]
    shortlist(world.challenge, [idea])
    answer(world, idea, state="shortlisted", text_de="Auf der Auswahlliste.")
    db.session.execute(db.delete(db.metadata.tables["shortlist_entries"]))
    db.session.commit()
    view = services.answer_view(idea)
    assert view.state == "under_review"
    assert "Auswahlliste" in view.text_html("de")[0]


@pytest.mark.parametrize(
    "values, field",
    [
        ({"text_de": "x" * 5001}, "text_de"),
        ({"text_en": "y" * 100_000}, "text_en"),
        ({"text_de": "", "text_en": "  "}, "text_de"),
        ({"department": ""}, "department"),
        ({"department": "A" * 161}, "department"),
        ({"text_de": "Gut\u202egeplant"}, "text_de"),
    ],
)
def test_texts_are_checked_and_nothing_is_stored(world, values, field):
    with pytest.raises(UserError) as refused:
        answer(world, world.ideas[0], **values)
    assert refused.value.field == field and refused.value.status == 400
    assert stored(world.ideas[0]) is None


def test_one_language_is_enough_and_the_other_falls_back(world):
    idea = world.ideas[0]
    answer(world, idea, text_en="")
    text, lang = services.answer_view(idea).text_html("en")
    assert lang == "de" and "schon geplant" in text


def test_only_published_ideas_of_the_challenge_are_answered(world):
    idea = world.ideas[0]
    with pytest.raises(UserError) as refused:
        services.answer_idea(world.staff, world.other, idea.id, answer_data())
    assert refused.value.status == 404
    for status in ("hidden", "draft", "submitted", "withdrawn", "merged"):
        idea.status = status
        db.session.commit()
        with pytest.raises(UserError) as refused:
            answer(world, idea)
        assert refused.value.status == 409, status
    assert stored(idea) is None


def test_only_staff_answer(world, make_user):
    moderator = make_user(roles=("citizen", "moderator"))
    with pytest.raises(UserError) as refused:
        services.answer_idea(moderator, world.challenge, world.ideas[0].id, answer_data())
    assert refused.value.status == 403


def test_a_merged_idea_keeps_its_merge_answer_and_links_the_target(world):
    duplicate, target = world.ideas[2], world.ideas[0]
    duplicate.status, duplicate.merged_into_id = "merged", target.id
    db.session.add(
        IdeaAnswer(idea_id=duplicate.id, state="merged", department="Team", text_de="Doppelt.")
    )
    db.session.commit()
    view = services.answer_view(duplicate)
    assert view.state == "merged" and view.merged_into.id == target.id
    # Staff may correct its text; the state stays "merged".
    assert answer(world, duplicate, state="", text_de="Zusammengeführt.") == "text"
    assert stored(duplicate).state == "merged"
    with pytest.raises(UserError):
        answer(world, duplicate, state="not_pursued")


def test_unanswered_ideas_oldest_first_count_the_jury_and_the_lab_as_answered(world):
    first, second, third = world.ideas
    late = make_idea(world.challenge, "Spät", submitted_days_ago=1)
    make_idea(world.other, "Anderswo", submitted_days_ago=30)
    hidden = make_idea(world.challenge, "Versteckt", submitted_days_ago=25)
    hidden.status = "hidden"
    db.session.commit()
    assert [i.id for i in services.unanswered_ideas(world.challenge.id)] == [
        first.id, second.id, third.id, late.id,
    ]  # fmt: skip
    assert services.count_unanswered(world.challenge.id) == 4
    assert services.answer_counts(world.challenge.id) == (0, 4)
    answer(world, second)
    shortlist(world.challenge, [third])
    db.session.add(LabProject(challenge_id=world.challenge.id, idea_id=late.id, title_de="Spät"))
    db.session.commit()
    assert [i.id for i in services.unanswered_ideas(world.challenge.id)] == [first.id]
    assert services.count_unanswered(world.challenge.id) == 1
    assert services.answer_counts(world.challenge.id) == (3, 4)


def test_the_list_filters_by_the_shown_state_and_carries_it(world):
    first, second, third = world.ideas
    answer(world, first, state="not_pursued")
    answer(world, second, state="already_planned")
    shortlist(world.challenge, [first])  # the jury overrides "not pursued"

    def titles(answer_filter):
        page = list_ideas(world.challenge, answer=answer_filter)
        return sorted(item.idea.title for item in page.items), page.total

    assert titles("shortlisted") == (["Bäume am Markt"], 1)
    assert titles("not_pursued") == ([], 0)
    assert titles("already_planned") == (["Trinkbrunnen"], 1)
    assert titles("unanswered") == (["Grüne Dächer"], 1)
    states = {item.idea.title: item.answer_state for item in list_ideas(world.challenge).items}
    assert states == {
        "Bäume am Markt": "shortlisted", "Trinkbrunnen": "already_planned", "Grüne Dächer": None,
    }  # fmt: skip


def test_the_department_is_remembered_for_the_next_answer(world):
    answer(world, world.ideas[0], department="Tiefbauamt")
    start = services.answer_form(world.staff, world.challenge, world.ideas[1].id)
    assert start.department == "Tiefbauamt" and start.answer is None
    assert start.fixed_state is None


def test_answered_at_is_the_last_change_of_state(world):
    from consult.clock import travel

    idea = world.ideas[0]
    answer(world, idea, state="under_review")
    first = stored(idea).answered_at
    with travel(timedelta(days=3)):
        answer(world, idea, state="already_planned")
    assert stored(idea).answered_at - first >= timedelta(days=3)
