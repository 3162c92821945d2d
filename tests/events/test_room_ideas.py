"""Ideas from the room: posting from a phone, what the phone shows, credit for authors."""

from datetime import timedelta

import pytest
from events.event_support import (
    add_participant,
    join,
    leave,
    make_challenge,
    make_event,
    published_idea,
    room_idea,
    with_cookie,
)
from sqlalchemy import func, select
from testdata import html, says

from consult.errors import UserError
from consult.events import participants, room_ideas
from consult.events.models import Event
from consult.extensions import db
from consult.ideas.models import Idea
from consult.moderation.services import HIDE_REASONS


def post(client, event, data):
    data = dict(data)
    data.setdefault("csrf_token", client.csrf_token())
    return client.http.post(f"/events/{event.id}/ideas", data=data)


def idea_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Idea))


def joined(client, **event_settings):
    event = make_event(**event_settings)
    participant, token = join(event, name="Ada", language="de")
    with_cookie(client, event, token)
    return event, participant


def test_a_posted_idea_waits_for_the_moderator_with_its_fields(client, monkeypatch):
    told = []
    monkeypatch.setattr(room_ideas.live, "announce", lambda e, topic: told.append((e, topic)))
    event = make_event(make_challenge(categories=2))
    participant, token = join(event, name="Ada", language="en")
    with_cookie(client, event, token)
    category = event.challenge.categories[1]

    response = post(client, event, {"title": "  Bänke   am Markt ", "text": "**Mehr** Bänke",
                                    "category_id": str(category.id)})  # fmt: skip

    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/events/{event.id}/#ideas")
    idea = db.session.scalar(select(Idea))
    assert (idea.title, idea.status, idea.event_id, idea.participant_id) == (
        "Bänke am Markt", "queued", event.id, participant.id,
    )  # fmt: skip
    assert idea.challenge_id == event.challenge_id and idea.language == "en"
    assert idea.category_id == category.id and idea.author_id is None
    assert idea.body_html == "<p><strong>Mehr</strong> Bänke</p>\n"
    assert told == [(event.id, "queue")]


def test_post_moderated_events_put_the_idea_on_the_wall_at_once(client, monkeypatch):
    told = []
    monkeypatch.setattr(room_ideas.live, "announce", lambda e, topic: told.append(topic))
    event, _p = joined(client, moderation="post")
    assert post(client, event, {"title": "Brunnen"}).status_code == 303
    assert db.session.scalar(select(Idea.status)) == "room"
    assert told == ["ideas"]


def test_without_joining_or_with_a_forged_or_foreign_cookie_nothing_is_posted(client):
    event = make_event()
    other = make_event(event.challenge)
    _p, other_token = join(other)
    assert post(client, event, {"title": "Hallo"}).status_code == 403
    with_cookie(client, event, "forged-token-" + "x" * 30)
    assert post(client, event, {"title": "Hallo"}).status_code == 403
    # Another event's valid token under this event's cookie name finds nobody.
    with_cookie(client, event, other_token)
    response = post(client, event, {"title": "Hallo"})
    assert response.status_code == 403
    assert says("Please join this event first: enter its code on the join page.") in html(response)
    assert idea_count() == 0


def test_posting_after_leaving_is_refused(client):
    event, participant = joined(client)
    leave(participant)
    assert post(client, event, {"title": "Hallo"}).status_code == 403
    with pytest.raises(UserError) as refused:  # the service itself checks it too
        room_ideas.post_room_idea(event, participant, {"title": "Hallo"})
    assert refused.value.status == 403
    assert idea_count() == 0


def test_posting_to_a_closed_event_is_a_conflict(client):
    event, _p = joined(client)
    event.status, event.open_code = "closed", None
    db.session.commit()
    response = post(client, event, {"title": "Zu spät"})
    assert response.status_code == 409
    assert says("This event is not running, so no ideas can be posted to it now.") in html(response)
    assert idea_count() == 0


def test_bad_fields_come_back_tied_to_them_in_the_participants_language(client):
    event, participant = joined(client)
    participant.language = "en"
    db.session.commit()
    response = post(client, event, {"title": "x" * 10_000, "text": "y" * 1001})
    page = html(response)
    assert response.status_code == 400
    assert 'id="room-idea-title-error"' in page and 'aria-invalid="true"' in page
    assert says("Please use at most %(max)d characters.", "en", max=140) in page
    assert idea_count() == 0

    response = post(client, event, {"title": "", "text": "ok"})
    assert response.status_code == 400
    assert says("Please fill in this field.", "en") in html(response)
    response = post(client, event, {"title": "Gut", "text": "y" * 1001, "district_id": "999"})
    page = html(response)
    assert response.status_code == 400 and 'id="room-idea-text-error"' in page
    assert says("Please choose a district from the list.", "en") in page
    assert idea_count() == 0


def test_a_category_of_another_challenge_is_refused(client):
    event, _p = joined(client)
    foreign = make_challenge("Andere", categories=1)
    response = post(client, event, {"title": "Hm", "category_id": str(foreign.categories[0].id)})
    assert response.status_code == 400
    assert says("Please choose one of this challenge's categories.") in html(response)
    assert idea_count() == 0


def test_html_and_script_links_in_the_text_are_rendered_harmless(client):
    event, _p = joined(client)
    text = "<script>alert(1)</script> [klick](javascript:alert(1)) <img src=x onerror=alert(1)>"
    assert post(client, event, {"title": "<b>Titel</b>", "text": text}).status_code == 303
    idea = db.session.scalar(select(Idea))
    assert "<script" not in idea.body_html and "<img" not in idea.body_html
    assert "javascript:" not in idea.body_html.replace("(javascript:alert(1))", "")
    assert "href" not in idea.body_html
    assert idea.title == "<b>Titel</b>"  # shown escaped, stored as typed


def test_a_participant_posting_too_fast_is_slowed_down(client, monkeypatch):
    monkeypatch.setitem(room_ideas.POST_LIMITS, "participant", (2, 600))
    event, _p = joined(client)
    assert post(client, event, {"title": "Eins"}).status_code == 303
    assert post(client, event, {"title": "Zwei"}).status_code == 303
    response = post(client, event, {"title": "Drei"})
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert idea_count() == 2


def test_the_phone_section_shows_the_wall_own_waiting_and_hidden_ideas(client):
    event, ada = joined(client)
    bob = add_participant(event, "Bob")
    carla = add_participant(event, "Carla")
    on_wall = room_idea(event, bob, status="room", title="Spielplatz")
    duplicate = room_idea(event, carla, status="merged", title="Noch ein Spielplatz")
    duplicate.merged_into_id = on_wall.id
    room_idea(event, ada, status="queued", title="Meine wartende Idee")
    hidden = room_idea(event, ada, status="hidden", title="Meine versteckte Idee")
    hidden.moderation_reason = "off_topic"
    room_idea(event, bob, status="queued", title="Bobs wartende Idee")
    newer = room_idea(event, carla, status="room", title="Brunnen")
    newer.moderated_at = on_wall.moderated_at + timedelta(minutes=1)
    db.session.commit()

    response = client.get(f"/events/{event.id}/ideas")
    page = html(response)
    assert response.status_code == 200
    assert "Spielplatz" in page and says("By %(names)s", names="Bob, Carla") in page
    assert "Meine wartende Idee" in page and says("Waiting for moderation") in page
    assert "Meine versteckte Idee" in page and says(str(HIDE_REASONS["off_topic"])) in page
    assert page.index(f'id="room-idea-{newer.id}"') < page.index(f'id="room-idea-{on_wall.id}"')
    assert "Bobs wartende Idee" not in page and "Noch ein Spielplatz" not in page
    assert f'action="/events/{event.id}/ideas"' in page


def test_credit_survives_merging_and_leaving(app):
    event = make_event()
    ada = add_participant(event, "Ada")
    bob = add_participant(event, "Bob")
    target = published_idea(event.challenge, "Bäume")
    mine = room_idea(event, ada, status="room")
    merged = room_idea(event, bob, status="merged")
    merged.merged_into_id = mine.id
    db.session.commit()
    assert room_ideas.credited_names(mine) == ["Ada", "Bob"]
    leave(bob)
    from testdata import plain

    assert room_ideas.credited_names(mine) == ["Ada", plain("former participant")]
    assert room_ideas.credited_names(target) == [plain("anonymous")]


def test_the_section_renders_without_a_participant_for_a_closed_event(app):
    from flask import render_template

    event = make_event(status="closed")
    with app.test_request_context(participants.cookie_path(event.id)):
        page = render_template(
            "events/_room_ideas.html",
            ideas_panel=room_ideas.room_ideas_panel(db.session.get(Event, event.id), None),
        )
    assert 'id="ideas"' in page and "<form" not in page
