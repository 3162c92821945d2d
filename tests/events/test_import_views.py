"""The import's pages: a confirmation that says what will happen, then one POST."""

from events.event_support import make_event, make_round
from flask_babel import force_locale, ngettext
from intake_support import evening, status_of
from markupsafe import escape
from sqlalchemy import select
from testdata import html

from consult.audit.models import AuditEntry
from consult.events.models import Event
from consult.extensions import db


def _says_plural(singular, plural, num, locale, **kwargs) -> str:
    with force_locale(locale):
        return str(escape(ngettext(singular, plural, num, **kwargs)))


def test_staff_confirm_then_import(app, client, make_user, login):
    w = evening()
    staff = make_user(roles=("staff",), locale="en")
    login(staff)
    url = f"/staff/events/{w['event'].id}/import"
    page = client.get(url)
    assert page.status_code == 200
    for text in (
        _says_plural(
            "%(num)d approved idea becomes a workshop idea of the challenge, with the event named as its origin.",
            "%(num)d approved ideas become workshop ideas of the challenge, with the event named as their origin.",
            2, "en",
        ),
        _says_plural(
            "%(num)d vote of round %(round)d becomes an event vote.",
            "%(num)d votes of round %(round)d become event votes.",
            5, "en", round=1,
        ),
        _says_plural(
            "%(num)d of them is by a registered citizen who also voted online or at another event for the same idea, and is counted once.",
            "%(num)d of them are by registered citizens who also voted online or at another event for the same idea, and are counted once.",
            1, "en",
        ),
    ):  # fmt: skip
        assert text in html(page)
    response = client.post_form(url, {"round": str(w["round"].id)})
    assert response.status_code == 302
    assert status_of(w["a"].id) == "published"
    # The staff's paper-vote board adds a column for them, so that its totals add up.
    board = html(client.get(f"/staff/challenges/{w['challenge'].id}/paper-votes"))
    assert '<th scope="col" class="num">Event votes</th>' in board
    # Sent twice (a double click): the second is refused, and nothing is imported again.
    again = client.post_form(url, {"round": str(w["round"].id)})
    assert again.status_code == 409
    assert (
        len(
            list(
                db.session.scalars(select(AuditEntry.id).where(AuditEntry.action == "event.import"))
            )
        )
        == 1
    )


def test_hostile_requests_import_nothing(app, client, make_user, login):
    w = evening()
    url = f"/staff/events/{w['event'].id}/import"
    # Not logged in (a participant's cookie is scoped to /events/<id>/): to the login.
    assert client.post_form(url, {"round": str(w["round"].id)}).status_code == 302
    citizen = make_user()  # a citizen who joined the room as themselves is still a citizen
    login(citizen)
    assert client.get(url).status_code == 403
    assert client.post_form(url, {"round": str(w["round"].id)}).status_code == 403
    client.post_form("/account/logout")
    client.forget_csrf()
    login(make_user(roles=("staff",)))
    assert client.get("/staff/events/999999/import").status_code == 404
    assert client.post_form("/staff/events/999999/import", {}).status_code == 404
    other = make_round(make_event(w["challenge"], status="closed"), closed=True)
    assert client.post_form(url, {"round": str(other.id)}).status_code == 404
    assert client.get(f"{url}?round={other.id}").status_code == 404
    assert client.post_form(url, {"round": "1 OR 1=1"}).status_code == 404
    db.session.expire_all()
    assert db.session.scalar(select(Event.imported_at).where(Event.id == w["event"].id)) is None
    assert status_of(w["a"].id) == "room"


def test_the_staff_page_section_says_what_waits_and_what_was_done(app):
    from flask import render_template

    from consult.accounts.models import User
    from consult.events import intake

    w = evening()
    event_id = w["event"].id
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        before = render_template(
            "events/_staff_import.html", import_panel=intake.import_panel(w["event"])
        )
        assert f"/staff/events/{event_id}/import" in before
    intake.import_event(w["event"], db.session.get(User, w["staff"].id), w["round"].id)
    event = db.session.get(Event, event_id)
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        after = render_template(
            "events/_staff_import.html", import_panel=intake.import_panel(event)
        )
        assert "Its votes come from round 1." in after
        assert f"/staff/events/{event_id}/import" not in after
