"""Voting rounds of a live event: starting, stopping, voting, closing by the clock, results."""

from datetime import UTC, datetime, timedelta

import pytest
from events.event_support import (
    add_participant,
    join,
    make_challenge,
    make_event,
    make_room_ideas,
    make_round,
    published_idea,
    with_cookie,
)
from flask import render_template
from flask_babel import force_locale, ngettext
from markupsafe import escape
from round_support import assert_ballots_match_rows, state
from sqlalchemy import func, select
from testdata import plain, says

from consult.audit.models import AuditEntry
from consult.clock import frozen, now, travel
from consult.errors import UserError
from consult.events import live, rounds
from consult.events.models import EventRound, RoundBallot, RoundVote
from consult.extensions import db


@pytest.fixture
def announced(monkeypatch):
    """The (event id, topic) pairs announced to the walls."""
    calls = []
    monkeypatch.setattr(live, "announce", lambda event_id, topic: calls.append((event_id, topic)))
    return calls


def _refused(call, status: int, text: str):
    with pytest.raises(UserError) as caught:
        call()
    assert caught.value.status == status, caught.value.message
    assert caught.value.message == plain(text) or text in caught.value.message


# --- services -------------------------------------------------------------------------------


def test_start_and_stop_a_round_audited_and_announced(app, make_user, announced):
    staff = make_user(roles=("staff",))
    event = make_event()
    started = rounds.start_round(staff, event, 5, 3, "event")
    assert (started.number, started.budget, started.scope) == (1, 3, "event")
    assert started.ends_at - started.starts_at == timedelta(minutes=5)
    assert rounds.current_round(event).id == started.id
    # One round at a time.
    with pytest.raises(UserError) as caught:
        rounds.start_round(staff, event, 5, 3, "event")
    assert caught.value.status == 409
    rounds.stop_round(staff, event, started)
    assert rounds.current_round(event) is None
    with pytest.raises(UserError) as caught:
        rounds.stop_round(staff, event, db.session.get(EventRound, started.id))
    assert caught.value.status == 409
    second = rounds.start_round(staff, event, 1, 2, "challenge")
    assert second.number == 2
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions == ["event_round.start", "event_round.stop", "event_round.start"]
    assert announced == [(event.id, "round")] * 3


def test_no_round_on_an_event_that_is_not_open(app, make_user):
    staff = make_user(roles=("staff",))
    for status in ("draft", "closed"):
        event = make_event(status=status)
        with pytest.raises(UserError) as caught:
            rounds.start_round(staff, event, 5, 3, "event")
        assert caught.value.status == 409
    assert db.session.scalar(select(func.count()).select_from(EventRound)) == 0


def test_budget_idempotent_repeat_and_withdraw(app, announced):
    event = make_event()
    a, b, c = make_room_ideas(event)
    person = add_participant(event)
    r = make_round(event, budget=2)
    assert rounds.cast_round_vote(person, event, r, a.id).used == 1
    # Again (a double tap): nothing changes, no dot taken.
    assert rounds.cast_round_vote(person, event, r, a.id).used == 1
    assert rounds.cast_round_vote(person, event, r, b.id).remaining == 0
    with pytest.raises(UserError) as caught:
        rounds.cast_round_vote(person, event, r, c.id)
    assert caught.value.status == 409
    with force_locale("de"):
        assert caught.value.message == ngettext(
            "You have used your %(num)d dot. Take it back from another idea to vote for this one.",
            "You have used all %(num)d of your dots. Take one back from another idea to vote "
            "for this one.",
            2,
        )
    assert caught.value.message.startswith("Sie haben alle 2 Punkte vergeben.")
    # Spent, but a repeat of a given dot is still just a repeat.
    assert rounds.cast_round_vote(person, event, r, b.id).used == 2
    assert rounds.withdraw_round_vote(person, event, r, a.id).used == 1
    with pytest.raises(UserError) as caught:
        rounds.withdraw_round_vote(person, event, r, a.id)
    assert caught.value.status == 409
    assert rounds.cast_round_vote(person, event, r, c.id).used == 2
    assert [(i.title, n) for i, n in rounds.round_tally(r)] == [("Licht", 1), ("Wasser", 1)]
    assert_ballots_match_rows()
    # One announcement per change that was committed: 3 casts and 1 withdrawal.
    assert announced.count((event.id, "tally")) == 4


def test_scope_event_and_challenge(app):
    challenge = make_challenge()
    event = make_event(challenge)
    other_event = make_event(challenge)
    (room,) = make_room_ideas(event, ("Bänke",))
    (queued,) = make_room_ideas(event, ("Wartet",), status="queued")
    (elsewhere,) = make_room_ideas(other_event, ("Anderswo",))
    published = published_idea(challenge)
    foreign = published_idea(make_challenge("Andere"), "Fremd")
    person = add_participant(event)
    r = make_round(event, budget=5)
    for idea in (queued, elsewhere, published, foreign):
        with pytest.raises(UserError) as caught:
            rounds.cast_round_vote(person, event, r, idea.id)
        assert caught.value.status == 404
    rounds.cast_round_vote(person, event, r, room.id)
    assert [i.id for i in rounds.round_ideas(event, r)] == [room.id]
    rounds.stop_round(None, event, r)
    wide = make_round(event, budget=5, scope="challenge")
    assert {i.id for i in rounds.round_ideas(event, wide)} == {room.id, published.id}
    rounds.cast_round_vote(person, event, wide, published.id)
    for idea in (queued, elsewhere, foreign):
        with pytest.raises(UserError) as caught:
            rounds.cast_round_vote(person, event, wide, idea.id)
        assert caught.value.status == 404


def test_tally_counts_rows_most_dots_first_ties_by_title(app):
    event = make_event()
    a, b, c = make_room_ideas(event, ("Zebrastreifen", "Ampel", "Brunnen"))
    r = make_round(event, budget=3)
    people = [add_participant(event, f"P{i}") for i in range(3)]
    for person in people:
        rounds.cast_round_vote(person, event, r, a.id)
    for person in people[:2]:
        rounds.cast_round_vote(person, event, r, b.id)
        rounds.cast_round_vote(person, event, r, c.id)
    assert [(i.title, n) for i, n in rounds.round_tally(r)] == [
        ("Zebrastreifen", 3),
        ("Ampel", 2),
        ("Brunnen", 2),
    ]


# --- closing by the clock -------------------------------------------------------------------


def test_round_closes_by_the_clock(app):
    event = make_event()
    a, b, _c = make_room_ideas(event)
    person = add_participant(event)
    r = make_round(event, minutes=2)
    with frozen(r.ends_at - timedelta(seconds=1)):
        rounds.cast_round_vote(person, event, r, a.id)
    with travel(timedelta(minutes=2, seconds=1)):
        assert rounds.current_round(event) is None
        before = state()
        with pytest.raises(UserError) as caught:
            rounds.cast_round_vote(person, event, r, b.id)
        assert caught.value.status == 409
        with pytest.raises(UserError) as caught:
            rounds.withdraw_round_vote(person, event, r, a.id)
        assert caught.value.status == 409
        assert state() == before
        # Over: its results show on the phones.
        panel = rounds.round_panel(event, person)
        assert panel["round"] is None
        assert [(x["round"].id, [(i.id, n) for i, n in x["tally"]]) for x in panel["results"]] == [
            (r.id, [(a.id, 1)])
        ]


# The last Sunday of October 2026: at 01:00 UTC Berlin's clocks go back from 03:00 CEST to
# 02:00 CET. A round started at 02:50 CEST for 30 minutes ends at 02:20 CET (01:20 UTC),
# not at 03:20 as wall-clock arithmetic would say.
DST_START = datetime(2026, 10, 25, 0, 50, tzinfo=UTC)
DST_END = datetime(2026, 10, 25, 1, 20, tzinfo=UTC)


def _at(moment: datetime):
    return travel(moment - now())


def test_round_across_the_end_of_summer_time(app, client):
    event = make_event()
    a, b, _c = make_room_ideas(event)
    person, token = join(event)
    with _at(DST_START):
        r = rounds.start_round(None, event, 30, 3, "event")
    assert abs(r.ends_at - DST_END) < timedelta(seconds=1)
    with_cookie(client, event, token)
    url = f"/events/{event.id}/rounds/{r.id}/votes"
    client.csrf_token()
    end = r.ends_at
    with _at(end - timedelta(seconds=1)):
        with app.test_request_context():
            assert rounds.round_panel(event, person)["ends_at"] == "02:20"
        response = client.post_form(url, {"idea": str(a.id), "action": "cast"})
        assert response.status_code == 302
    before = state()
    with _at(end + timedelta(seconds=1)):
        response = client.post_form(url, {"idea": str(b.id), "action": "cast"})
    assert response.status_code == 409
    assert says("This round has ended: votes are no longer accepted.") in response.get_data(
        as_text=True
    )
    assert state() == before


# --- the staff's pages ------------------------------------------------------------------------


def test_staff_start_and_stop_over_http(app, client, make_user, login, announced):
    event = make_event()
    login(make_user(roles=("staff",)))
    response = client.post_form(
        f"/staff/events/{event.id}/rounds", {"minutes": "2", "budget": "3", "scope": "challenge"}
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/staff/events/{event.id}")
    r = db.session.scalar(select(EventRound))
    assert (r.scope, r.budget, r.ends_at - r.starts_at) == ("challenge", 3, timedelta(minutes=2))
    response = client.post_form(
        f"/staff/events/{event.id}/rounds", {"minutes": "2", "budget": "3", "scope": "event"}
    )
    assert response.status_code == 409
    assert says("A round is already running. Stop it first.") in response.get_data(as_text=True)
    # Another event's round is not found under this event.
    other = make_event()
    assert client.post_form(f"/staff/events/{other.id}/rounds/{r.id}/stop").status_code == 404
    response = client.post_form(f"/staff/events/{event.id}/rounds/{r.id}/stop")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(EventRound, r.id).stopped_at is not None
    assert announced == [(event.id, "round"), (event.id, "round")]


def test_staff_start_refuses_bad_numbers(app, client, make_user, login):
    event = make_event()
    login(make_user(roles=("staff",)))
    minutes = says("Please enter a whole number from %(min)d to %(max)d.", min=1, max=120)
    dots = says("Please enter a whole number from %(min)d to %(max)d.", min=1, max=20)
    scope = says("Please choose which ideas the round is about.")
    for form, message in (
        ({"minutes": "0"}, minutes),
        ({"minutes": "10000"}, minutes),
        ({"minutes": "abc"}, minutes),
        ({"minutes": "١٢"}, minutes),
        ({"minutes": ""}, says("Please fill in this field.")),
        ({"budget": "21"}, dots),
        ({"budget": "0"}, dots),
        ({"scope": "everything"}, scope),
    ):
        data = {"minutes": "5", "budget": "3", "scope": "event", **form}
        response = client.post_form(f"/staff/events/{event.id}/rounds", data)
        assert response.status_code == 400, form
        assert message in response.get_data(as_text=True), form
    assert db.session.scalar(select(func.count()).select_from(EventRound)) == 0


def test_staff_start_on_a_closed_event_is_refused(app, client, make_user, login):
    event = make_event(status="closed")
    login(make_user(roles=("staff",)))
    response = client.post_form(
        f"/staff/events/{event.id}/rounds", {"minutes": "2", "budget": "3", "scope": "event"}
    )
    assert response.status_code == 409
    assert says("Rounds can only be started while the event is open.") in response.get_data(
        as_text=True
    )


def test_participants_cannot_start_or_stop_rounds(app, client, make_user, login):
    event = make_event()
    r = make_round(event)
    # A logged-in citizen in the room: 403.
    login(make_user())
    start = f"/staff/events/{event.id}/rounds"
    form = {"minutes": "2", "budget": "3", "scope": "event"}
    assert client.post_form(start, form).status_code == 403
    assert client.post_form(f"/staff/events/{event.id}/rounds/{r.id}/stop").status_code == 403
    # A phone without an account: the staff pages want a login first.
    anonymous = type(client)(app.test_client())
    _person, token = join(event)
    with_cookie(anonymous, event, token)
    response = anonymous.post_form(start, form)
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(EventRound)) == 1
    assert db.session.get(EventRound, r.id).stopped_at is None


# --- voting from a phone ----------------------------------------------------------------------


def test_vote_without_javascript_and_with_json(app, client, announced):
    event = make_event()
    a, b, _c = make_room_ideas(event)
    person, token = join(event, language="en")
    r = make_round(event, budget=2)
    with_cookie(client, event, token)
    url = f"/events/{event.id}/rounds/{r.id}/votes"
    response = client.post_form(url, {"idea": str(a.id), "action": "cast"})
    assert response.status_code == 302
    # Back to the tapped button, where the answer is said (not at the top of the page).
    assert response.headers["Location"].endswith(f"/events/{event.id}/#round-idea-{a.id}")
    answer = (
        plain("Your dot has been counted.", "en")
        + " "
        + plain("%(left)d of %(budget)d dots left", "en", left=1, budget=2)
    )
    page = client.get(f"/events/{event.id}/").get_data(as_text=True)
    button = page.index(f'id="round-idea-{a.id}"')
    note = page.index('class="vote-note" role="status">' + str(escape(answer)))
    assert button < note < page.index(f'id="round-idea-{b.id}"')
    assert page.count(str(escape(answer))) == 1  # not also at the top of the page
    response = client.post_form(
        url, {"idea": str(b.id), "action": "cast"}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 200
    assert response.json["remaining"] == 0 and response.json["voted"] is True
    response = client.post_form(
        url, {"idea": str(a.id), "action": "withdraw"}, headers={"Accept": "application/json"}
    )
    assert response.json == {
        "voted": False,
        "message": plain("Your dot has been taken back.", "en"),
        "dots": plain("%(left)d of %(budget)d dots left", "en", left=1, budget=2),
        "used": 1,
        "remaining": 1,
    }
    assert announced == [(event.id, "tally")] * 3


def test_two_tabs_and_two_phones_with_one_token_share_the_budget(app, client):
    event = make_event()
    ideas = make_room_ideas(event, ("A", "B", "C", "D"))
    person, token = join(event)
    r = make_round(event, budget=3)
    url = f"/events/{event.id}/rounds/{r.id}/votes"
    second = type(client)(app.test_client())
    phones = [with_cookie(client, event, token), with_cookie(second, event, token)]
    answers = []
    for idea in ideas:
        for device in phones:  # each idea from both phones (and twice from one session)
            answers.append(
                device.post_form(
                    url, {"idea": str(idea.id)}, headers={"Accept": "application/json"}
                ).status_code
            )
    assert answers == [200] * 6 + [409, 409]
    db.session.expire_all()
    assert db.session.get(RoundBallot, (r.id, person.id)).used == 3
    assert_ballots_match_rows()


def test_forged_or_foreign_cookie_is_refused(app, client):
    event = make_event()
    other = make_event()
    (idea,) = make_room_ideas(event, ("A",))
    r = make_round(event)
    _stranger, foreign_token = join(other)
    url = f"/events/{event.id}/rounds/{r.id}/votes"
    before = state()
    for token in (None, "forged-token", foreign_token, "x" * 200):
        fresh = type(client)(app.test_client())
        with_cookie(fresh, event, token)
        response = fresh.post_form(url, {"idea": str(idea.id)})
        assert response.status_code == 403, token
        assert says("Please join this event first: enter its code on the join page.") in (
            response.get_data(as_text=True)
        )
    # The other event's cookie, under its own name and path, does not reach this event.
    fresh = type(client)(app.test_client())
    with_cookie(fresh, other, foreign_token)
    assert fresh.post_form(url, {"idea": str(idea.id)}).status_code == 403
    assert state() == before


def test_bad_idea_values_are_refused_in_the_participants_language(app, client):
    event = make_event()
    (real,) = make_room_ideas(event, ("A",))
    assert real.id == 1  # so that "1" below would be a real idea
    _person, token = join(event, language="en")
    r = make_round(event)
    with_cookie(client, event, token)
    before = state()
    for idea in (None, "", "١", "１", "1 ", "-1", "0", "99999999999", "9" * 10_000, ["1", "1"]):
        form = {"action": "cast"} if idea is None else {"action": "cast", "idea": idea}
        response = client.post_form(f"/events/{event.id}/rounds/{r.id}/votes", form)
        assert response.status_code == 400, idea
        assert says("Please choose exactly one idea.", "en") in response.get_data(as_text=True)
    # The same through the page's buttons (vote=<action>:<id>).
    for vote in ("", "cast", "cast:", "cast:abc", "cast:١", "cast:" + "9" * 10_000, "give:1",
                 ["cast:1", "cast:1"]):  # fmt: skip
        response = client.post_form(f"/events/{event.id}/rounds/{r.id}/votes", {"vote": vote})
        assert response.status_code == 400, vote
    assert state() == before
    response = client.post_form(f"/events/{event.id}/rounds/{r.id}/votes", {"vote": "cast:1"})
    assert response.status_code == 302 and state() != before


def test_unknown_action_idea_outside_scope_and_foreign_round(app, client):
    challenge = make_challenge()
    event = make_event(challenge)
    (room,) = make_room_ideas(event, ("A",))
    published = published_idea(challenge)
    foreign = published_idea(make_challenge("Andere"), "Fremd")
    _person, token = join(event)
    r = make_round(event)
    other_round = make_round(make_event())
    with_cookie(client, event, token)
    url = f"/events/{event.id}/rounds/{r.id}/votes"
    before = state()
    assert client.post_form(url, {"idea": str(room.id), "action": "delete"}).status_code == 400
    for idea in (published, foreign):
        response = client.post_form(url, {"idea": str(idea.id)})
        assert response.status_code == 404
        assert says("This idea is not part of this round.") in response.get_data(as_text=True)
    response = client.post_form(
        url, {"idea": str(foreign.id), "action": "withdraw"}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 404
    foreign_round = f"/events/{event.id}/rounds/{other_round.id}/votes"
    assert client.post_form(foreign_round, {"idea": str(room.id)}).status_code == 404
    assert state() == before


def test_vote_one_second_after_the_end_and_after_a_stop(app, client):
    event = make_event()
    a, b, _c = make_room_ideas(event)
    _person, token = join(event)
    r = make_round(event, minutes=1)
    with_cookie(client, event, token)
    url = f"/events/{event.id}/rounds/{r.id}/votes"
    client.csrf_token()
    before = state()
    with travel(timedelta(minutes=1, seconds=1)):
        response = client.post_form(
            url, {"idea": str(a.id)}, headers={"Accept": "application/json"}
        )
    assert response.status_code == 409
    assert response.json["message"] == plain("This round has ended: votes are no longer accepted.")
    assert state() == before
    second = make_round(event, minutes=5)
    rounds.stop_round(None, event, second)
    url = f"/events/{event.id}/rounds/{second.id}/votes"
    assert client.post_form(url, {"idea": str(b.id)}).status_code == 409


# --- what the pages show ----------------------------------------------------------------------


def test_phone_and_staff_sections_render(app):
    event = make_event()
    a, b, _c = make_room_ideas(event)
    person = add_participant(event)
    with _at(datetime(2026, 12, 3, 18, 30, tzinfo=UTC)):
        closed = make_round(event, minutes=1, at=now() - timedelta(minutes=20))
        db.session.add_all(
            [
                RoundVote(round_id=closed.id, participant_id=person.id, idea_id=b.id),
                RoundBallot(round_id=closed.id, participant_id=person.id, used=1),
            ]
        )
        db.session.commit()
        r = make_round(event, minutes=12, budget=3)
        rounds.cast_round_vote(person, event, r, a.id)
        with app.test_request_context():
            phone_html = render_template(
                "events/_room_round.html", round_panel=rounds.round_panel(event, person)
            )
            staff_html = render_template(
                "events/_staff_rounds.html", rounds_panel=rounds.staff_rounds_panel(event)
            )
            nobody_html = render_template(
                "events/_room_round.html", round_panel=rounds.round_panel(event, None)
            )
    # 18:42 UTC is 19:42 in Berlin in December.
    assert says("Ends at %(time)s (Berlin).", time="19:42") in phone_html
    assert says("%(left)d of %(budget)d dots left", left=2, budget=3) in phone_html
    assert phone_html.count('aria-pressed="true"') == 1
    assert phone_html.count('aria-pressed="false"') == 2
    assert says("Results of round %(number)d", number=1) in phone_html
    # One form (one token) for the whole list; each button says what it does to which idea.
    assert phone_html.count("<form") == 1 and phone_html.count('name="csrf_token"') == 1
    assert f'name="vote" value="withdraw:{a.id}"' in phone_html
    assert f'name="vote" value="cast:{b.id}"' in phone_html
    assert "<form" not in nobody_html  # no buttons for someone who has not joined
    assert says("Stop the round now") in staff_html
    assert f"/staff/events/{event.id}/rounds/{r.id}/stop" in staff_html
    assert says("Results of round %(number)d", number=1) in staff_html
    with _at(datetime(2026, 12, 3, 19, 0, tzinfo=UTC)), app.test_request_context():
        idle_phone = render_template(
            "events/_room_round.html", round_panel=rounds.round_panel(event, person)
        )
        idle_staff = render_template(
            "events/_staff_rounds.html", rounds_panel=rounds.staff_rounds_panel(event)
        )
    assert says("No round is running at the moment.") in idle_phone
    assert says("Start a round") in idle_staff
    assert says("Results of round %(number)d", number=2) in idle_staff


def test_abuse_limits_per_participant_and_a_hall_behind_one_address(app, client, monkeypatch):
    # A full hall on one Wi-Fi address: 500 phones spending 3 dots and changing their mind
    # on each (a withdraw and a cast) fit in one minute's window of the address limit.
    assert rounds.ADDRESS_LIMIT >= 500 * 3 * 3 and rounds.ADDRESS_WINDOW == 60
    monkeypatch.setattr(rounds, "PARTICIPANT_LIMIT", 2)
    event = make_event()
    a, b, c = make_room_ideas(event)
    _person, token = join(event, language="en")
    r = make_round(event)
    with_cookie(client, event, token)
    url = f"/events/{event.id}/rounds/{r.id}/votes"
    for idea in (a, b):
        assert client.post_form(url, {"idea": str(idea.id)}).status_code == 302
    before = state()
    response = client.post_form(url, {"idea": str(c.id)})
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert "You are voting very fast." in response.get_data(as_text=True)
    assert state() == before


def test_closing_the_event_ends_its_round(app):
    event = make_event()
    (idea,) = make_room_ideas(event, ("A",))
    person = add_participant(event)
    r = make_round(event)
    event.status = "closed"
    db.session.commit()
    assert rounds.current_round(event) is None
    with pytest.raises(UserError) as caught:
        rounds.cast_round_vote(person, event, r, idea.id)
    assert caught.value.status == 409
