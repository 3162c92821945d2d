"""Staff pages of events: list and create, edit, open and close, poster, QR code."""

from events.event_support import add_participant, make_challenge, make_event
from testdata import html, shows

from consult.events.models import Event
from consult.extensions import db

FORM = {"title_de": "Helpathon Hörde", "title_en": "Helpathon Hoerde", "place": "Rathaus",
        "video_url": "", "starts_at": "2026-12-10T18:00", "ends_at": "2026-12-10T21:00"}  # fmt: skip


def test_staff_create_an_event_in_berlin_time_and_open_and_close_it(client, login, make_user):
    login(make_user(roles=("staff",)))
    challenge = make_challenge()
    page = client.get(f"/staff/challenges/{challenge.id}/edit")
    assert f"/staff/challenges/{challenge.id}/events" in html(page)
    response = client.post_form(f"/staff/challenges/{challenge.id}/events", FORM)
    assert response.status_code == 302
    event = db.session.query(Event).one()
    assert event.starts_at.hour == 17 and event.status == "draft"  # 18:00 Berlin in winter
    page = client.get(response.location)
    assert shows(page, "The event is a draft: the code does not let anyone in yet.")
    for part in (event.join_code, "http://localhost/j/", f"/events/{event.id}/wall",
                 f"/events/{event.id}/moderation", f"/staff/events/{event.id}/poster"):  # fmt: skip
        assert part in html(page), part
    client.post_form(f"/staff/events/{event.id}/open")
    assert (event.status, event.open_code) == ("open", event.join_code)
    client.post_form(f"/staff/events/{event.id}/close")
    assert (event.status, event.open_code) == ("closed", None)
    listing = client.get(f"/staff/challenges/{challenge.id}/events")
    assert shows(listing, "Closed") and "Helpathon Hörde" in html(listing)


def test_the_form_says_what_is_wrong_in_english(client, login, make_user):
    login(make_user(roles=("staff",), locale="en"))
    challenge = make_challenge()
    bad = {**FORM, "video_url": "http://insecure.example", "ends_at": "2026-12-10T17:00"}
    response = client.post_form(f"/staff/challenges/{challenge.id}/events", bad)
    assert response.status_code == 400
    assert shows(response, "The event must end after it starts.", "en")
    assert shows(
        response,
        "Please enter a web address starting with https://, at most %(max)d characters.",
        "en",
        max=500,
    )
    assert db.session.query(Event).count() == 0


def test_edit_keeps_the_event_and_records_it(client, login, make_user):
    login(make_user(roles=("staff",)))
    event = make_event(status="draft")
    response = client.post_form(f"/staff/events/{event.id}/edit", {**FORM, "place": "Saal 2"})
    assert response.status_code == 302
    assert event.place == "Saal 2" and event.title_de == "Helpathon Hörde"
    assert client.get(f"/staff/events/{event.id}/edit").status_code == 200


def test_the_poster_and_the_qr_code(client, login, make_user):
    draft = make_event(status="draft", code="PQRTUV")
    assert client.get(f"/events/{draft.id}/qr.svg").status_code == 404
    event = make_event(code="WXY346")
    qr = client.get(f"/events/{event.id}/qr.svg")
    assert qr.status_code == 200 and qr.mimetype == "image/svg+xml"
    assert "public" in qr.headers["Cache-Control"] and b"<svg" in qr.data
    login(make_user(roles=("staff",)))
    assert client.get(f"/events/{draft.id}/qr.svg").status_code == 200
    poster = client.get(f"/staff/events/{event.id}/poster")
    assert poster.status_code == 200
    text = html(poster)
    assert "WXY346" in text and "http://localhost/join" in text and "<svg" in text
    assert shows(poster, "Join with your phone: scan the code, or open the page and type the code.")


def test_people_without_the_staff_role_stay_out(client, login, make_user):
    event = make_event()
    for path in (f"/staff/events/{event.id}", f"/staff/events/{event.id}/poster",
                 f"/staff/challenges/{event.challenge_id}/events"):  # fmt: skip
        assert "/account/login" in client.get(path).location
    # A participant by cookie is nobody to staff pages; a citizen who joined gets a 403.
    citizen = make_user()
    add_participant(event, "Bürgerin", token=None, user=citizen)
    login(citizen)
    assert client.get(f"/staff/events/{event.id}").status_code == 403
    assert client.post_form(f"/staff/events/{event.id}/close").status_code == 403
    assert event.status == "open"
