"""Events as services: codes, create and edit, open and close, joining and leaving."""

from datetime import timedelta

import pytest
from events.event_support import add_participant, make_challenge, make_event

from consult.accounts import services as accounts
from consult.audit.models import AuditEntry
from consult.clock import now
from consult.errors import FieldErrors, UserError
from consult.events import services
from consult.events.models import CODE_ALPHABET, Event, EventParticipant
from consult.extensions import db


def event_data(**changes) -> dict:
    t = now()
    data = {"title_de": "Helpathon", "title_en": "", "place": "Rathaus", "video_url": "",
            "starts_at": t + timedelta(days=1), "ends_at": t + timedelta(days=1, hours=3)}  # fmt: skip
    return {**data, **changes}


def test_codes_are_six_characters_of_the_alphabet_and_random():
    codes = {services.new_join_code() for _ in range(200)}
    assert all(len(c) == 6 and set(c) <= set(CODE_ALPHABET) for c in codes)
    assert len(codes) > 190
    assert not set("01258BILOSZ") & set(CODE_ALPHABET)


def test_typed_codes_are_upper_cased_without_spaces_and_dashes():
    assert services.normalise_code(" acd-efg ") == "ACDEFG"
    assert services.normalise_code("acd efg") == "ACDEFG"
    assert not services.is_wellformed_code(services.normalise_code("0CDEFG"))
    assert services.normalise_code(["x"]) == ""


def test_a_new_event_is_a_draft_with_a_code_no_running_event_has(app, make_user, monkeypatch):
    staff = make_user(roles=("staff",))
    challenge = make_challenge()
    make_event(challenge, status="open", code="ACDEFG")
    make_event(challenge, status="closed", code="CCCCCC")
    drawn = iter(["ACDEFG", "CCCCCC"])
    monkeypatch.setattr(services, "new_join_code", lambda: next(drawn))
    event = services.create_event(staff, challenge, event_data())
    # The open event's code is taken; a closed event's code may be drawn again.
    assert (event.status, event.join_code, event.open_code) == ("draft", "CCCCCC", None)
    entry = db.session.query(AuditEntry).filter_by(action="event.create").one()
    assert entry.details == {"challenge": challenge.id, "title": "Helpathon"}


def test_the_event_form_is_checked_field_by_field(app, make_user):
    staff = make_user(roles=("staff",))
    challenge = make_challenge()
    t = now()
    with pytest.raises(FieldErrors) as refused:
        services.create_event(staff, challenge, event_data(
            title_de="", video_url="http://example.org/call", starts_at=t, ends_at=t))  # fmt: skip
    assert set(refused.value.errors) == {"title_de", "video_url", "ends_at"}
    with pytest.raises(FieldErrors) as refused:
        services.create_event(staff, challenge, event_data(starts_at=t, ends_at=t))
    assert set(refused.value.errors) == {"ends_at"}
    assert db.session.query(Event).count() == 0
    event = services.create_event(
        staff, challenge, event_data(video_url="https://meet.example.org/x")
    )
    assert event.video_url == "https://meet.example.org/x"


def test_edit_records_the_changed_fields(app, make_user):
    staff = make_user(roles=("staff",))
    event = make_event(status="draft")
    data = event_data(title_de=event.title_de, title_en=event.title_en, place="Saal 2",
                      starts_at=event.starts_at, ends_at=event.ends_at)  # fmt: skip
    assert services.update_event(staff, event, data) is True
    assert services.update_event(staff, event, data) is False
    entry = db.session.query(AuditEntry).filter_by(action="event.update").one()
    assert entry.details["fields"] == ["place"]


def test_open_sets_the_open_code_and_close_clears_it(app, make_user):
    staff = make_user(roles=("staff",))
    event = make_event(status="draft", code="HJKMNP")
    services.open_event(staff, event)
    assert (event.status, event.open_code) == ("open", "HJKMNP")
    with pytest.raises(UserError):
        services.open_event(staff, event)
    services.close_event(staff, event)
    assert (event.status, event.open_code, event.join_code) == ("closed", None, "HJKMNP")
    assert event.closed_at is not None
    with pytest.raises(UserError):
        services.close_event(staff, event)
    actions = [e.action for e in db.session.query(AuditEntry).order_by(AuditEntry.id)]
    assert actions == ["event.open", "event.close"]


def test_two_drafts_with_one_code_cannot_both_run_with_it(app, make_user):
    # Two drafts may have drawn the same code at the same moment; the unique index on
    # open_code lets only one run with it, the other draws a new code on opening.
    staff = make_user(roles=("staff",))
    first = make_event(status="draft", code="QRTUVW")
    second = make_event(first.challenge, status="draft", code="QRTUVW")
    services.open_event(staff, first)
    services.open_event(staff, second)
    assert first.open_code == "QRTUVW"
    assert second.status == "open" and second.open_code == second.join_code != "QRTUVW"


def test_a_code_finds_only_its_open_event(app):
    event = make_event(code="XY3467")
    assert services.find_event_by_code("xy3-467", "10.0.0.1") == event
    closed = make_event(status="closed", code="XY3469")
    with pytest.raises(UserError) as refused:
        services.find_event_by_code("XY3469", "10.0.0.1")
    assert refused.value.status == 409
    with pytest.raises(UserError) as refused:
        services.find_event_by_code("XY3466", "10.0.0.1")
    assert refused.value.status == 404
    assert closed.open_code is None


IMITATIONS = (
    ["Moderation", "moderator", "MODERATION", "Die Moderation", "M o d e r a t i o n",
     "Mоderation",  # Cyrillic о
     "Ｍｏｄｅｒａｔｉｏｎ", "Mödëratiön", "Adm1n", "ADMIN", "Staff", "St4ff", "Stadt Dortmund",
     "stadt-dortmund", "consult", "Consu1t", "Team Admin"]
)  # fmt: skip
BAD_NAMES = [
    "",
    "   ",
    "x" * 41,
    "x" * 10_000,
    "An\x00na",
    "An\u202ena",
    "Anna\u200b",
    "<b>",
    "---",
]


def test_names_imitating_the_team_and_bad_names_are_refused(app):
    for name in IMITATIONS:
        with pytest.raises(UserError) as refused:
            services.check_display_name(name)
        assert refused.value.field == "display_name", name
        assert "team" in refused.value.message.lower(), name
    for name in BAD_NAMES:
        with pytest.raises(UserError):
            services.check_display_name(name)


def test_good_names_pass_cleaned(app):
    assert services.check_display_name("  Anna   M. ") == "Anna M."
    assert services.check_display_name("Çağrı") == "Çağrı"
    assert services.check_display_name("x" * 40) == "x" * 40


def test_a_logged_in_citizen_joins_once(app, make_user):
    citizen = make_user(pseudonym="Bürgerin")
    event = make_event()
    first, token = services.join_event(event, citizen, "Bürgerin", "en", True, "10.0.0.1")
    again, token_again = services.join_event(event, citizen, "Anders", "en", True, "10.0.0.1")
    assert token is None and token_again is None
    assert again.id == first.id and again.display_name == "Bürgerin"
    assert db.session.query(EventParticipant).count() == 1
    assert citizen.locale == "en"  # the pages now speak the language chosen


def test_a_phone_joins_with_a_hashed_token(app):
    event = make_event()
    participant, token = services.join_event(event, None, "Anna", "de", True, "10.0.0.1")
    assert token and participant.token_hash and token not in participant.token_hash
    assert participant.user_id is None


def test_leaving_and_deleting_the_account_forget_the_person(app, make_user):
    citizen = make_user()
    event = make_event()
    participant = add_participant(event, "Bürgerin", token=None, user=citizen)
    other = add_participant(event, "Gast", token="abc")
    accounts.delete_account(citizen, "a long and lovely passphrase")
    db.session.refresh(participant)
    # The name goes; the link to the (now anonymous) account stays, as its votes keep
    # theirs, so that its room vote and online vote for one idea count once.
    assert participant.display_name == "" and participant.user_id == citizen.id
    assert citizen.email is None and participant.left_at is not None
    services.leave_event(other)
    assert (other.display_name, other.token_hash, other.user_id) == ("", None, None)
    assert other.left_at is not None


def test_a_citizen_who_left_comes_back_as_the_same_participant(app, make_user):
    citizen = make_user(pseudonym="Bürgerin")
    event = make_event()
    first, _token = services.join_event(event, citizen, "Bürgerin", "de", True, "10.0.0.1")
    services.leave_event(first)
    assert first.user_id == citizen.id and first.display_name == ""
    again, _token = services.join_event(event, citizen, "Wieder da", "de", True, "10.0.0.1")
    assert again.id == first.id
    assert (again.display_name, again.left_at) == ("Wieder da", None)
