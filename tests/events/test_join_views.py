"""Joining by code on a phone, the phone page, leaving; in German and English."""

from events.event_support import make_event, participants, post_join
from testdata import html, shows

from consult.events.participants import cookie_name


def test_a_phone_joins_by_typed_code_in_english_and_leaves(client):
    event = make_event(code="MNPQRT")
    form = client.get("/join", headers={"Accept-Language": "de"})
    assert form.status_code == 200 and shows(form, "Join an event")
    response = client.post_form("/join", {"code": " mnp-qrt "})
    assert response.status_code == 303 and response.location.endswith(f"/events/{event.id}/join")
    page = client.get(response.location, headers={"Accept-Language": "de"})
    assert shows(
        page,
        "We store only your display name and your contributions (ideas and votes), no e-mail address. Your display name is shown with your ideas on the wall in the room and, after the event, in the challenge.",
    )
    joined = post_join(client, event, "Anna", language="en")
    assert joined.status_code == 303 and joined.location.endswith(f"/events/{event.id}/")
    cookies = joined.headers.getlist("Set-Cookie")
    token_cookie = next(c for c in cookies if c.startswith(cookie_name(event.id)))
    assert f"Path=/events/{event.id}/" in token_cookie and "HttpOnly" in token_cookie
    assert any(c.startswith("consult_lang=en") for c in cookies)
    (participant,) = participants(event)
    assert (participant.display_name, participant.language) == ("Anna", "en")
    room = client.get(f"/events/{event.id}/", headers={"Accept-Language": "de"})
    assert room.status_code == 200 and room.headers["Cache-Control"] == "private, no-store"
    assert shows(room, "You take part as %(name)s.", "en", name="Anna")
    assert shows(room, "Welcome, %(name)s! You are in.", "en", name="Anna")
    client.http.delete_cookie("consult_lang")  # gone: the language picked when joining
    room = client.get(f"/events/{event.id}/", headers={"Accept-Language": "de"})
    assert shows(room, "You take part as %(name)s.", "en", name="Anna")
    left = client.post_form(f"/events/{event.id}/leave")
    assert left.status_code == 200 and shows(left, "You have left the event", "en")
    assert any(
        c.startswith(f"{cookie_name(event.id)}=;") for c in left.headers.getlist("Set-Cookie")
    )
    (participant,) = participants(event)
    assert (participant.display_name, participant.token_hash) == ("", None)
    assert client.get(f"/events/{event.id}/").status_code == 303


def test_the_qr_link_leads_to_the_join_form(client):
    event = make_event(code="VWXY34")
    response = client.get("/j/vwxy34")
    assert response.status_code == 303 and response.location.endswith(f"/events/{event.id}/join")


def test_a_logged_in_citizen_joins_as_themselves_once(client, login, make_user):
    citizen = make_user(pseudonym="Bürgerin Berta")
    login(citizen)
    event = make_event()
    form = client.get(f"/events/{event.id}/join")
    assert 'value="Bürgerin Berta"' in html(form)
    assert post_join(client, event, "Bürgerin Berta").status_code == 303
    # Joined: the form sends the person to the room, a second post changes nothing.
    assert client.get(f"/events/{event.id}/join").status_code == 303
    post_join(client, event, "Berta")
    (participant,) = participants(event)
    assert participant.user_id == citizen.id and participant.token_hash is None
    assert shows(
        client.get(f"/events/{event.id}/"), "You take part as %(name)s.", name="Bürgerin Berta"
    )
