"""Every table that holds a person's data is in "download my data" (GDPR Art. 15), or is
listed in consult/accounts/personal_data.py as deliberately left out, with a reason."""

import json

import pytest
from jury.jury_support import jury_world
from voting.voting_support import make_challenge, make_idea

from consult.accounts import services
from consult.accounts.models import SsoIdentity
from consult.accounts.personal_data import EXPORTED, LEFT_OUT
from consult.audit.services import record_action
from consult.events.models import Event, EventParticipant
from consult.extensions import db
from consult.ideas.models import Comment, IdeaFollower, Report
from consult.media.models import Image
from consult.notifications.models import ChallengeFollower, DigestItem, NotificationSent
from consult.projects.models import CoCreator, LabProject
from consult.results.models import ResultsSubscription
from consult.voting import services as voting

# Columns that name a person even without a foreign key (e.g. a table of a later migration).
PERSON_COLUMN_NAMES = {"user_id", "author_id", "owner_id", "actor_id", "juror_id", "reporter_id"}


def person_columns() -> set[str]:
    """Every "table.column" of the schema that points at an account."""
    found = set()
    for table in db.metadata.sorted_tables:
        if table.name == "users":
            continue
        for column in table.columns:
            to_users = any(fk.column.table.name == "users" for fk in column.foreign_keys)
            named = column.name in PERSON_COLUMN_NAMES or column.name.endswith(("_by_id", "_by"))
            if to_users or named:
                found.add(f"{table.name}.{column.name}")
    return found


def test_every_column_that_names_a_person_is_exported_or_left_out_with_a_reason(app):
    columns = person_columns()
    # The walk finds what it should (a broken walk would make this test vacuous).
    assert {"votes.user_id", "ballots.user_id", "audit_entries.actor_id"} <= columns
    missing = columns - EXPORTED.keys() - LEFT_OUT.keys()
    assert not missing, f"add these to EXPORTED or LEFT_OUT in personal_data.py: {missing}"
    stale = (EXPORTED.keys() | LEFT_OUT.keys()) - columns
    assert not stale, f"no such columns any more: {stale}"
    assert not EXPORTED.keys() & LEFT_OUT.keys()
    assert all(len(reason) > 20 for reason in LEFT_OUT.values())


def test_every_exported_key_is_in_the_download_even_when_empty(app, make_user):
    data = services.export_user_data(make_user())
    for column, key in EXPORTED.items():
        assert key in data, column
    assert data["votes"] == [] and data["ballots"] == [] and data["your_actions"] == []


@pytest.fixture
def people(app, make_user):
    """Juror X of a jury world, who also takes part in a running vote, and another person
    who does the same things: X's download must hold all of X's rows and none of theirs."""
    world = jury_world(make_user)
    person, other = world.jurors
    challenge = make_challenge(budget=3)
    own = make_idea(challenge, author=person, title="Annas eigene Idee")
    theirs = make_idea(challenge, author=other, title="Idee der anderen Person")
    draft = make_idea(challenge, author=other, status="draft", title="Geheimer Entwurf")
    for user, idea in ((person, theirs), (other, own), (other, theirs)):
        voting.cast_vote(user, challenge, idea.id)
    project = LabProject(
        challenge_id=challenge.id, idea_id=own.id, title_de="Labor", title_en="Lab"
    )
    db.session.add(project)
    db.session.flush()
    event = Event(challenge_id=challenge.id, title_de="Abend", join_code="ACDEFG",
                  starts_at=challenge.voting_opens_at, ends_at=challenge.voting_closes_at)  # fmt: skip
    db.session.add(event)
    db.session.flush()
    for user, words in ((person, "Meine Meinung"), (other, "Fremde Meinung")):
        comment = Comment(idea_id=theirs.id, author_id=user.id, body=words)
        db.session.add(comment)
        db.session.add(
            Report(idea_id=draft.id, reporter_id=user.id, reason="other", note=f"Notiz {words}")
        )
        db.session.add(IdeaFollower(idea_id=theirs.id, user_id=user.id))
        db.session.add(ResultsSubscription(challenge_id=challenge.id, user_id=user.id))
        db.session.add(ChallengeFollower(challenge_id=challenge.id, user_id=user.id))
        db.session.add(NotificationSent(kind="answers", subject_id=theirs.id, user_id=user.id))
        db.session.add(DigestItem(user_id=user.id, kind="answers", template="idea_answered"))
        db.session.add(
            Image(owner_id=user.id, data=b"x", width=4, height=3, digest=f"{user.id:064d}")
        )
        db.session.add(CoCreator(project_id=project.id, user_id=user.id))
        db.session.add(
            SsoIdentity(user_id=user.id, issuer="https://idp.example", subject=f"sub-{user.id}")
        )
        record_action(user, "jury.score", "idea", world.ideas[0].id, challenge=world.challenge.id)
        db.session.add(
            EventParticipant(event_id=event.id, user_id=user.id, display_name=f"Gast {user.id}")
        )
    # Staff act on X's account: X sees the change, not who made it.
    services.grant_role(world.staff, person, "press")
    db.session.commit()
    return world, person, other, challenge, own, theirs


def download(client, login, user) -> dict:
    login(user)
    response = client.get("/account/data.json")
    assert response.status_code == 200
    return json.loads(response.get_data(as_text=True))


def test_a_citizen_who_voted_finds_the_votes_in_the_download(people, client, login):
    world, person, other, challenge, own, theirs = people
    data = download(client, login, person)
    assert [(v["challenge_id"], v["idea_id"], v["idea_title"]) for v in data["votes"]] == [
        (challenge.id, theirs.id, "Idee der anderen Person")
    ]
    vote = data["votes"][0]
    assert vote["voted_at"] and vote["challenge_title_de"] == "Abstimmung"
    assert vote["challenge_title_en"] == "Vote"
    assert data["ballots"] == [
        {"challenge_id": challenge.id, "challenge_title_de": "Abstimmung",
         "challenge_title_en": "Vote", "votes_used": 1}
    ]  # fmt: skip


def test_the_download_holds_a_row_of_every_exported_table(people, client, login):
    world, person, other, challenge, own, theirs = people
    data = download(client, login, person)
    for column, key in EXPORTED.items():
        assert data[key], f"{column}: nothing under {key!r}"
    assert [s["challenge_id"] for s in data["jury_seats"]] == [world.challenge.id]
    assert data["jury_seats"][0]["submitted_at"]
    assert {r["role"] for r in data["roles"]} == {"citizen", "juror", "press"}
    assert [a["action"] for a in data["your_actions"]] == ["jury.score"]
    assert [i["subject"] for i in data["sso_identities"]] == [f"sub-{person.id}"]
    assert data["changes_to_your_account"] == [
        {"action": "role.grant", "details": {"role": "press"},
         "at": data["changes_to_your_account"][0]["at"]}
    ]  # fmt: skip
    assert [c["body"] for c in data["comments"]] == ["Meine Meinung"]
    assert [r["note"] for r in data["reports"]] == ["Notiz Meine Meinung"]
    assert data["followed_ideas"] == [theirs.id]
    assert [i["title"] for i in data["ideas"]] == ["Annas eigene Idee"]


def test_another_persons_data_never_appears(people, client, login):
    world, person, other, challenge, own, theirs = people
    text = json.dumps(download(client, login, person), ensure_ascii=False)
    for foreign in (
        other.email, other.pseudonym, world.staff.email, world.staff.pseudonym,
        "Fremde Meinung", "Notiz Fremde Meinung", "Geheimer Entwurf", f"{other.id:064d}",
    ):  # fmt: skip
        assert foreign not in text, foreign
    data = json.loads(text)
    # One vote, one ballot, one photo, one invitation: X's, although the other has more.
    assert len(data["votes"]) == 1 and len(data["images"]) == 1
    assert len(data["cocreator_invitations"]) == 1 and len(data["results_mail_requests"]) == 1
    assert len(data["your_actions"]) == 1
    assert [p["display_name"] for p in data["event_participation"]] == [f"Gast {person.id}"]


def test_the_other_person_gets_their_own_votes(people, client, login):
    world, person, other, challenge, own, theirs = people
    data = download(client, login, other)
    assert sorted(v["idea_id"] for v in data["votes"]) == sorted([own.id, theirs.id])
    assert data["ballots"][0]["votes_used"] == 2
    assert "Meine Meinung" not in json.dumps(data, ensure_ascii=False)
