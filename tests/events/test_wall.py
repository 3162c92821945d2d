"""The projector wall: its page, its state, who may see it, and the staff's tally switch."""

import re
from datetime import timedelta

import pytest
from events.event_support import add_participant, give_dots, make_event, make_round, room_idea
from flask import render_template
from sqlalchemy import select
from testdata import plain, says

from consult.audit.models import AuditEntry
from consult.clock import travel
from consult.events import live
from consult.events.wall import wall_state
from consult.extensions import db


@pytest.fixture
def staff(make_user):
    return make_user(pseudonym="Chefin", roles=("citizen", "staff"), locale="en")


@pytest.fixture
def event(app):
    return make_event(code="ACDEFG")


def urls(event_id):
    return (
        f"/events/{event_id}/wall",
        f"/events/{event_id}/wall/state.json",
        f"/live/events/{event_id}/stream",
    )


def test_the_state_shows_this_events_approved_ideas_newest_first_with_their_credit(event):
    anna, ben, gone = (add_participant(event, n) for n in ("Anna", "Ben", "Cleo"))
    gone.display_name, gone.left_at = "", gone.joined_at  # left: anonymised
    older = room_idea(event, anna, "Ältere Idee")
    with travel(timedelta(seconds=5)):
        newer = room_idea(event, ben, "Neuere Idee")
    room_idea(event, gone, "Doppelt", status="merged", merged_into_id=newer.id)
    room_idea(event, anna, "Noch in der Warteschlange", status="queued")
    room_idea(event, anna, "Versteckt", status="hidden")
    other = make_event(event.challenge, code="HJKMNP")
    room_idea(other, add_participant(other, "Fremd"), "Andere Veranstaltung")
    with travel(timedelta(seconds=8)):
        anonymous = room_idea(event, None, "Ohne Namen")  # approved last
    with travel(timedelta(seconds=10)):
        state = wall_state(event)
    assert [i["title"] for i in state["ideas"]] == ["Ohne Namen", "Neuere Idee", "Ältere Idee"]
    # The credit rule of room_ideas.credited_names_for: a participant who left stays
    # credited without a name, an idea without an author is "anonymous".
    assert [i["names"] for i in state["ideas"]] == [
        [plain("anonymous")],
        ["Ben", plain("former participant")],
        ["Anna"],
    ]
    assert state["ideas"][0]["id"] == anonymous.id and state["ideas"][2]["id"] == older.id
    assert state["event"] | {"join_url": None} == {
        "id": event.id,
        "title": "Helpathon Nord",
        "lang": "de",
        "code": "ACDEFG",
        "join_url": None,
        "join_text": "localhost/join",
        "status": "open",
    }
    assert state["round"] is None
    assert "Andere Veranstaltung" not in str(state) and "Fremd" not in str(state)


def test_a_merged_idea_credits_both_authors(event):
    anna, ben = add_participant(event, "Anna"), add_participant(event, "Ben")
    target = room_idea(event, anna, "Bänke")
    room_idea(event, ben, "Sitzbänke", status="merged", merged_into_id=target.id)
    assert wall_state(event)["ideas"][0]["names"] == ["Anna", "Ben"]


def test_the_running_tally_shows_only_when_staff_allow_it_the_result_always(event):
    anna, ben = add_participant(event, "Anna"), add_participant(event, "Ben")
    bench, tree = room_idea(event, anna, "Bänke"), room_idea(event, ben, "Bäume")
    hidden = room_idea(event, ben, "Versteckt", status="hidden")
    event_round = make_round(event, minutes=2, budget=3)
    for participant, idea in ((anna, tree), (ben, tree), (anna, bench), (ben, hidden)):
        give_dots(event_round, participant, idea)
    other = make_event(event.challenge, code="HJKMNP")
    other_round = make_round(other)
    give_dots(other_round, add_participant(other, "Fremd"), room_idea(other, None, "Fremde Idee"))

    running = wall_state(event)["round"]
    assert running["open"] and running["budget"] == 3 and running["number"] == 1
    assert "tally" not in running  # staff have not allowed it
    event.wall_shows_tally = True
    db.session.commit()
    expected = [
        {"id": tree.id, "title": "Bäume", "votes": 2},
        {"id": bench.id, "title": "Bänke", "votes": 1},
    ]
    assert wall_state(event)["round"]["tally"] == expected
    event.wall_shows_tally = False
    db.session.commit()
    with travel(timedelta(minutes=2)):  # the round closed by the clock
        closed = wall_state(event)["round"]
    assert not closed["open"] and closed["tally"] == expected


@pytest.mark.parametrize("role", ["staff", "moderator"])
def test_staff_and_moderators_open_the_wall_in_their_language(client, make_user, login, role):
    event = make_event(code="ACDEFG")
    person = make_user(roles=("citizen", role), locale="en")
    login(person)
    wall, state, _stream = urls(event.id)
    page = client.get(wall)
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Helpathon North" in html and "ACDEFG" in html and 'lang="en"' in html
    assert f'src="/events/{event.id}/qr.svg"' in html
    assert "<noscript>" in html and says("The wall needs JavaScript.", "en")[:20] in html
    assert f'data-stream-url="/live/events/{event.id}/stream"' in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html) and "style=" not in html
    response = client.get(state)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert response.get_json()["event"]["title"] == "Helpathon North"


def test_participants_get_403_visitors_are_sent_to_log_in_unknown_events_are_404(
    client, make_user, login, staff
):
    event = make_event()
    for path in urls(event.id):  # not logged in
        response = client.get(path)
        assert response.status_code in (302, 401), path
        if response.status_code == 302:
            assert "/account/login" in response.headers["Location"]
    assert client.get(urls(event.id)[0]).status_code == 302  # the page itself: log in
    citizen = make_user(roles=("citizen",))
    add_participant(event, "Anna").user_id = citizen.id
    db.session.commit()
    login(citizen)  # a participant of this very event
    for path in urls(event.id):
        assert client.get(path).status_code == 403, path
    client.post_form("/account/logout")
    client.forget_csrf()
    login(staff)
    for path in urls(event.id + 1):
        assert client.get(path).status_code == 404, path


def test_staff_switch_the_running_tally_audited_and_announced(app, client, login, staff):
    event = make_event()
    login(staff)
    broker = live.hub(app).broker
    seen = broker.subscribe(event.id)  # as a wall listening on this process
    response = client.post_form(f"/staff/events/{event.id}/tally", {"show": "1"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/staff/events/{event.id}")
    db.session.refresh(event)
    assert event.wall_shows_tally is True
    assert broker.changes(event.id, seen)[1] == ["event"]
    (entry,) = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "event.tally"))
    assert entry.actor_id == staff.id and entry.object_id == event.id
    assert entry.details == {"shows": True, "title": "Helpathon Nord"}
    # Sent twice (a double click): nothing changes, nothing is written again.
    client.post_form(f"/staff/events/{event.id}/tally", {"show": "1"})
    assert db.session.scalar(select(AuditEntry.id).where(AuditEntry.id > entry.id)) is None
    client.post_form(f"/staff/events/{event.id}/tally", {"show": "0"})
    db.session.refresh(event)
    assert event.wall_shows_tally is False
    assert client.post_form(f"/staff/events/{event.id}/tally", {"show": "x"}).status_code == 400
    assert client.post_form(f"/staff/events/{event.id + 1}/tally", {"show": "1"}).status_code == 404
    broker.unsubscribe(event.id)


def test_moderators_may_not_switch_the_tally(client, make_user, login):
    event = make_event()
    login(make_user(roles=("citizen", "moderator")))
    assert client.post_form(f"/staff/events/{event.id}/tally", {"show": "1"}).status_code == 403
    db.session.refresh(event)
    assert event.wall_shows_tally is False


def test_the_staff_section_links_the_wall_and_offers_the_switch(app, staff):
    event = make_event(wall_shows_tally=True)
    with app.test_request_context():
        html = render_template("events/_staff_wall.html", event=event)
    assert f'href="/events/{event.id}/wall"' in html
    assert f'action="/staff/events/{event.id}/tally"' in html
    assert 'name="show" value="0"' in html and 'name="csrf_token"' in html
