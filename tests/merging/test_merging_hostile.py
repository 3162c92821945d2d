"""Hostile merges: each is refused with a clear message, and nothing changes."""

import pytest
from merging_support import count, merge, merge_world, vote
from sqlalchemy import select
from voting.voting_support import make_challenge, make_idea, snapshot

from consult.answers.models import IdeaAnswer
from consult.audit.models import AuditEntry
from consult.clock import now
from consult.errors import UserError
from consult.extensions import db
from consult.ideas.models import Idea
from consult.jobs import Outbox
from consult.jury.models import ShortlistEntry
from consult.merging import services
from consult.projects.models import LabProject


@pytest.fixture
def world(make_user):
    w = merge_world(make_user)
    citizen = make_user()
    vote(citizen, w.source)
    vote(citizen, w.target)
    return w


def refused(world, **kwargs) -> UserError:
    """Merge as told, expect a refusal, and check that nothing at all changed."""
    before = snapshot()
    statuses = dict(db.session.execute(select(Idea.id, Idea.status)).all())
    with pytest.raises(UserError) as caught:
        merge(world, **kwargs)
    assert snapshot() == before
    db.session.expire_all()
    assert dict(db.session.execute(select(Idea.id, Idea.status)).all()) == statuses
    assert count(AuditEntry, AuditEntry.action == "idea.merge") == 0
    assert count(IdeaAnswer) == 0
    assert count(Outbox) == 0
    return caught.value


def test_an_idea_cannot_be_merged_into_itself(world):
    error = refused(world, target=world.source)
    assert (error.status, error.field) == (409, "target")


def test_an_idea_cannot_be_merged_into_a_hidden_idea(world):
    world.target.status = "hidden"
    db.session.commit()
    error = refused(world)
    assert (error.status, error.field) == (409, "target")


def test_an_idea_cannot_be_merged_into_an_idea_of_another_challenge(world, make_user):
    elsewhere = make_idea(make_challenge(), make_user(), title="Anderswo")
    error = refused(world, target=elsewhere)
    assert (error.status, error.field) == (404, "target")


@pytest.mark.parametrize("forged", [10**6, "2147483648", "abc", "-1"])
def test_forged_target_ids_are_not_found(world, forged):
    error = refused(world, target=str(forged))
    assert (error.status, error.field) == (404, "target")


def test_no_target_chosen(world):
    error = refused(world, target="")
    assert (error.status, error.field) == (400, "target")


def test_merging_back_into_the_idea_it_was_merged_from_is_refused(world):
    merge(world)
    before = count(AuditEntry)
    with pytest.raises(UserError) as caught:
        merge(world, source=world.target, target=world.source)
    assert (caught.value.status, caught.value.field) == (409, "target")
    db.session.expire_all()
    assert world.target.status == "published" and world.source.merged_into_id == world.target.id
    assert count(AuditEntry) == before


def test_merging_after_the_results_were_frozen_is_409(world):
    world.challenge.results_frozen_at = now()
    db.session.commit()
    error = refused(world)
    assert error.status == 409
    assert error.message == services.source_problem(world.source).message


@pytest.mark.parametrize("status", ["draft", "submitted", "withdrawn", "hidden"])
def test_only_published_ideas_can_be_merged(world, status):
    world.source.status = status
    db.session.commit()
    error = refused(world)
    assert error.status == 409 and error.field is None


def test_a_shortlisted_idea_is_not_merged_away(world):
    db.session.add(ShortlistEntry(challenge_id=world.challenge.id, idea_id=world.source.id,
                                  source="staff", reason="Stark"))  # fmt: skip
    db.session.commit()
    error = refused(world)
    assert error.status == 409
    assert error.message == services.source_problem(world.source).message
    assert error.message != services.source_problem(world.target)


def test_a_lab_project_is_not_merged_away(world):
    db.session.add(LabProject(challenge_id=world.challenge.id, idea_id=world.source.id,
                              title_de="Bäume", title_en="Trees"))  # fmt: skip
    db.session.commit()
    error = refused(world)
    assert error.status == 409


def test_a_shortlisted_target_may_take_a_duplicate_in(world):
    db.session.add(ShortlistEntry(challenge_id=world.challenge.id, idea_id=world.target.id,
                                  source="votes"))  # fmt: skip
    db.session.commit()
    merge(world)
    assert db.session.get(Idea, world.source.id).status == "merged"


def test_a_double_submit_merges_once(world):
    merge(world)
    before = snapshot()
    mails = count(Outbox)
    with pytest.raises(services.AlreadyMerged) as caught:
        merge(world)
    assert caught.value.target_id == world.target.id and caught.value.status == 409
    assert snapshot() == before
    assert count(AuditEntry, AuditEntry.action == "idea.merge") == 1
    assert count(Outbox) == mails


def test_an_already_merged_idea_cannot_go_into_a_third_idea(world):
    merge(world)
    with pytest.raises(UserError) as caught:
        merge(world, target=world.other)
    assert caught.value.status == 409
    assert not isinstance(caught.value, services.AlreadyMerged)


def test_a_merged_idea_takes_no_other_idea_in(world):
    merge(world)
    with pytest.raises(UserError) as caught:
        merge(world, source=world.other, target=world.source)
    assert (caught.value.status, caught.value.field) == (409, "target")


@pytest.mark.parametrize(
    "texts, field",
    [
        ({"department": "x" * 161}, "department"),
        ({"note_de": "a" * 2001}, "note_de"),
        ({"note_en": "Bad\u202etext"}, "note_en"),
        ({"department": ["Amt"]}, "department"),
    ],
)
def test_bad_texts_are_refused_at_their_field(world, texts, field):
    error = refused(world, **texts)
    assert error.field == field and error.status == 400
