"""Hostile input to joining: each a clear 4xx in the person's language, nothing stored."""

from events.event_support import (
    add_participant,
    make_event,
    participants,
    post_join,
    with_cookie,
)
from testdata import shows

from consult.events.services import WRONG_CODE_LIMIT

EN = {"Accept-Language": "en"}


def test_a_wrong_code_is_a_404_that_says_so(client):
    response = client.post_form("/join", {"code": "ACDEF9"})
    assert response.status_code == 404
    assert shows(
        response, "There is no event with this code. Please check the code on the screen or poster."
    )
    response = client.get("/j/0OO0OO", headers=EN)
    assert response.status_code == 404
    assert shows(
        response,
        "There is no event with this code. Please check the code on the screen or poster.",
        "en",
    )


def test_the_code_of_a_closed_event_and_joining_it(client):
    event = make_event(status="closed", code="TUVW34")
    response = client.post_form("/join", {"code": "TUVW34"}, headers=EN)
    assert response.status_code == 409
    assert shows(response, "This event is not open any more: it has ended.", "en")
    response = post_join(client, event, "Anna")
    assert response.status_code == 409
    assert shows(response, "This event is not open any more: it has ended.")
    draft = make_event(event.challenge, status="draft")
    assert post_join(client, draft, "Anna").status_code == 409
    assert participants(event) == [] and participants(draft) == []


def test_guessing_codes_is_throttled_with_retry_after(client):
    make_event(code="XXXXXX")
    for n in range(WRONG_CODE_LIMIT):
        assert client.post_form("/join", {"code": f"ACDE{n:02d}"}).status_code == 404
    refused = client.post_form("/join", {"code": "XXXXXX"}, headers=EN)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert shows(refused, "Too many wrong codes. Please wait a few minutes and try again.", "en")


def test_bad_display_names_are_refused_and_nothing_is_stored(client):
    event = make_event()
    cases = [
        ("x" * 10_000, "Please use between %(min)d and %(max)d characters.", {"min": 1, "max": 40}),
        # NUL is refused for every form of the app before any view runs.
        ("An\x00na", "The form contained characters that are not allowed.", {}),
        ("An\u202ena", "Please use only letters, digits, spaces and . - _ ' in your name.", {}),
        ("Mоderation", "This name is kept for the event's team. Please choose another one.", {}),
    ]
    for name, message, values in cases:
        response = post_join(client, event, name)
        assert response.status_code == 400, name[:20]
        assert shows(response, message, **values), name[:20]
    english = client.post_form(
        f"/events/{event.id}/join", {"display_name": "Admin", "language": "en"}, headers=EN
    )
    assert english.status_code == 400
    assert shows(
        english, "This name is kept for the event's team. Please choose another one.", "en"
    )
    assert shows(english, "Please agree to the privacy note to join.", "en")
    assert participants(event) == []


def test_a_forged_or_foreign_cookie_is_nobody(client):
    event = make_event()
    other = make_event(event.challenge)
    add_participant(other, "Gast", token="their-token")
    with_cookie(client, event, "forged-token")
    assert client.get(f"/events/{event.id}/").status_code == 303
    # The other event's token, presented to this event (copied to its path), is nobody here.
    with_cookie(client, event, "their-token")
    response = client.get(f"/events/{event.id}/")
    assert response.status_code == 303 and response.location.endswith(f"/events/{event.id}/join")
    assert client.post_form(f"/events/{event.id}/leave").status_code == 403
    with_cookie(client, other, "their-token")
    assert client.get(f"/events/{other.id}/").status_code == 200


def test_a_participant_opening_staff_controls_is_sent_to_log_in(client):
    event = make_event()
    add_participant(event, "Gast", token="tok")
    with_cookie(client, event, "tok")
    for path in (f"/staff/events/{event.id}", f"/staff/events/{event.id}/poster"):
        assert "/account/login" in client.get(path).location
    assert client.post_form(f"/staff/events/{event.id}/close").status_code == 302
    assert event.status == "open"
