"""The room's live moderation queue: who may work it, approve, hide, merge, hostile ids."""

import pytest
from events.event_support import (
    add_participant,
    give_dots,
    join,
    make_challenge,
    make_event,
    make_round,
    published_idea,
    room_idea,
    with_cookie,
)
from sqlalchemy import select
from testdata import html, says

from consult.audit.models import AuditEntry
from consult.audit.sentences import describe_entries
from consult.errors import UserError
from consult.events import room_ideas
from consult.events.models import RoundBallot, RoundVote
from consult.extensions import db
from consult.ideas.models import Idea


@pytest.fixture
def moderator(make_user, login):
    user = make_user(roles=("citizen", "moderator"))
    login(user)
    return user


@pytest.fixture
def told(monkeypatch):
    topics = []
    monkeypatch.setattr(room_ideas.live, "announce", lambda e, topic: topics.append(topic))
    return topics


def act(client, event, idea_id, action, data=None):
    return client.post_form(f"/events/{event.id}/moderation/{idea_id}/{action}", data or {})


def actions() -> list[str]:
    return list(db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def test_the_queue_shows_waiting_ideas_oldest_first_with_their_decisions(client, moderator):
    event = make_event()
    ada = add_participant(event, "Ada")
    first = room_idea(event, ada, "Erste Idee", "queued")
    second = room_idea(event, ada, "Zweite Idee", "queued")
    shown = room_idea(event, ada, status="room", title="Schon an der Wand")
    response = client.get(f"/events/{event.id}/moderation")
    page = html(response)
    assert response.status_code == 200
    cards = [page.index(f'id="idea-{i.id}"') for i in (first, second, shown)]
    assert cards == sorted(cards)
    assert f"/events/{event.id}/moderation/{first.id}/approve" in page
    assert f"/events/{event.id}/moderation/{first.id}/merge" in page
    assert says("Ada") in page
    # Pushed to: the page listens on the event's stream and says when new ideas arrive.
    assert f'data-stream-url="/live/events/{event.id}/stream"' in page
    assert "/static/js/moderation.js" in page
    assert says("New ideas have arrived.") in page


def test_participants_and_citizens_may_not_open_or_work_the_queue(client, make_user, login):
    event = make_event()
    ada, token = join(event, "Ada")
    idea = room_idea(event, ada, status="queued")
    with_cookie(client, event, token)
    assert client.get(f"/events/{event.id}/moderation").status_code == 403
    client.http.post(f"/events/{event.id}/moderation/{idea.id}/approve")  # no token either
    assert act(client, event, idea.id, "approve").status_code == 403
    login(make_user())
    assert client.get(f"/events/{event.id}/moderation").status_code == 403
    assert act(client, event, idea.id, "approve").status_code == 403
    db.session.refresh(idea)
    assert idea.status == "queued" and actions() == []


def test_approve_puts_the_idea_on_the_wall_once(app, client, moderator, told):
    event = make_event()
    idea = room_idea(event, add_participant(event), status="queued")
    response = act(client, event, idea.id, "approve")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/events/{event.id}/moderation#queue")
    db.session.refresh(idea)
    assert idea.status == "room" and idea.moderated_by_id == moderator.id
    assert told == ["ideas", "queue"]
    again = act(client, event, idea.id, "approve")
    assert again.status_code == 409
    assert says("This idea has already been approved.") in html(again)
    # A colleague's hide form, drawn while the idea still waited, does not overrule it.
    late = act(client, event, idea.id, "hide", {"reason": "offensive", "seen": "queued"})
    assert late.status_code == 409
    assert actions() == ["event_idea.approve"]
    with app.test_request_context("/"):
        [(_entry, sentence)] = describe_entries(list(db.session.scalars(select(AuditEntry))))
    assert "Mehr Bänke" in sentence


def test_an_idea_of_another_event_is_not_found(client, moderator):
    event = make_event()
    other = make_event(event.challenge)
    foreign = room_idea(other, add_participant(other), status="queued")
    assert act(client, event, foreign.id, "approve").status_code == 404
    assert act(client, event, 2**40, "approve").status_code == 404
    db.session.refresh(foreign)
    assert foreign.status == "queued"


def test_hide_needs_a_reason_and_tells_the_author_on_the_phone(client, moderator, told):
    event = make_event()
    idea = room_idea(event, add_participant(event), status="queued")
    response = act(client, event, idea.id, "hide", {"reason": "nonsense"})
    assert response.status_code == 400
    assert says("Please choose a reason from the list.") in html(response)
    response = act(client, event, idea.id, "hide", {"reason": "offensive", "note": "Bitte höflich"})
    assert response.status_code == 303
    db.session.refresh(idea)
    assert (idea.status, idea.moderation_reason, idea.moderation_note) == (
        "hidden", "offensive", "Bitte höflich",
    )  # fmt: skip
    assert actions() == ["event_idea.hide"]
    assert act(client, event, idea.id, "approve").status_code == 409


def test_merge_into_an_approved_idea_credits_both_authors(client, moderator, told):
    event = make_event()
    ada = add_participant(event, "Ada")
    bob = add_participant(event, "Bob")
    target = room_idea(event, ada, status="room", title="Spielplatz")
    duplicate = room_idea(event, bob, "Spielplatz bitte", "queued")
    response = act(client, event, duplicate.id, "merge", {"target": str(target.id)})
    assert response.status_code == 303
    db.session.refresh(duplicate)
    assert (duplicate.status, duplicate.merged_into_id) == ("merged", target.id)
    assert room_ideas.credited_names(target) == ["Ada", "Bob"]
    assert actions() == ["event_idea.merge"]
    assert told == ["ideas", "queue"]


def test_merge_refuses_other_challenges_itself_hidden_and_merged_targets(client, moderator):
    event = make_event()
    ada = add_participant(event, "Ada")
    idea = room_idea(event, ada, status="queued")
    foreign = published_idea(make_challenge("Andere"), "Fremd")
    hidden = room_idea(event, ada, status="hidden")
    merged = room_idea(event, ada, status="merged")
    queued = room_idea(event, ada, status="queued")
    response = act(client, event, idea.id, "merge", {"target": str(foreign.id)})
    assert response.status_code == 404
    assert says("The idea to merge into is not part of this event's challenge.") in html(response)
    for target, status in ((idea, 409), (hidden, 409), (merged, 409), (queued, 409)):
        assert (
            act(client, event, idea.id, "merge", {"target": str(target.id)}).status_code == status
        )
    assert act(client, event, idea.id, "merge", {"target": "abc"}).status_code == 404
    assert act(client, event, idea.id, "merge", {"target": ""}).status_code == 400
    db.session.refresh(idea)
    assert idea.status == "queued" and actions() == []


def test_merging_moves_dots_without_double_votes_or_exceeding_a_budget(app, make_user):
    event = make_event()
    moderator = make_user(roles=("moderator",))
    ada = add_participant(event, "Ada")
    bob = add_participant(event, "Bob")
    target = published_idea(event.challenge)
    source = room_idea(event, ada, status="room")
    other = room_idea(event, ada, status="room", title="Anderes")
    first, second = make_round(event, budget=2), make_round(event, budget=2, number=2)
    give_dots(first, ada, source, target)  # Ada has both: one dot goes back
    give_dots(first, bob, source, other)  # Bob only the source: his dot moves
    give_dots(second, ada, source)
    earlier = room_idea(event, bob, status="merged")
    earlier.merged_into_id = source.id
    db.session.commit()

    room_ideas.merge_room_idea(moderator, event, source, str(target.id))

    rows = db.session.execute(
        select(RoundVote.round_id, RoundVote.participant_id, RoundVote.idea_id)
    ).all()
    assert sorted(rows) == sorted([
        (first.id, ada.id, target.id), (first.id, bob.id, target.id),
        (first.id, bob.id, other.id), (second.id, ada.id, target.id),
    ])  # fmt: skip
    ballots = {
        (b.round_id, b.participant_id): b.used for b in db.session.scalars(select(RoundBallot))
    }
    assert ballots == {(first.id, ada.id): 1, (first.id, bob.id): 2, (second.id, ada.id): 1}
    db.session.refresh(earlier)
    assert earlier.merged_into_id == target.id  # no chains
    assert room_ideas.credited_names(target)[1:] == ["Ada", "Bob"]
    entry = db.session.scalar(select(AuditEntry))
    assert entry.details["votes_moved"] == 2 and entry.details["votes_returned"] == 1


def test_hiding_an_approved_idea_gives_its_dots_back_while_the_round_runs(app, make_user):
    event = make_event()
    moderator = make_user(roles=("moderator",))
    ada = add_participant(event, "Ada")
    idea = room_idea(event, ada, status="room")
    round_ = make_round(event)
    give_dots(round_, ada, idea)
    room_ideas.hide_room_idea(moderator, event, idea, "duplicate")
    assert db.session.scalar(select(RoundVote.id)) is None
    assert db.session.get(RoundBallot, (round_.id, ada.id)).used == 0
    with pytest.raises(UserError) as refused:
        room_ideas.hide_room_idea(moderator, event, idea, "duplicate")
    assert refused.value.status == 409
    assert db.session.get(Idea, idea.id).status == "hidden"
