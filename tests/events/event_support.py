"""Events for tests: a challenge's event in any state, and phones joining it.

Imported by name (``from events.event_support import ...``), never collected.
"""

from datetime import timedelta

from voting.voting_support import make_challenge

from consult.clock import now
from consult.events.models import Event, EventParticipant
from consult.events.participants import cookie_name, hash_token
from consult.extensions import db

_codes = iter(f"{a}{b}CDEF" for a in "ACDEFGHJKM" for b in "ACDEFGHJKM")


def make_event(challenge=None, status: str = "open", code: str | None = None, **values) -> Event:
    """An event of ``challenge`` (a new one when None), ``status`` as given, a known code."""
    challenge = challenge or make_challenge()
    code = code or next(_codes)
    t = now()
    event = Event(
        challenge_id=challenge.id,
        title_de=values.pop("title_de", "Helpathon Hörde"),
        title_en=values.pop("title_en", "Helpathon Hoerde"),
        place=values.pop("place", "Bezirksrathaus Hörde"),
        starts_at=t - timedelta(hours=1),
        ends_at=t + timedelta(hours=2),
        join_code=code,
        open_code=code if status == "open" else None,
        status=status,
        **values,
    )
    db.session.add(event)
    db.session.commit()
    return event


def add_participant(event: Event, name: str = "Gast", token: str | None = "tok", user=None):  # noqa: S107
    """A participant straight in the database, holding ``token`` (None for a citizen)."""
    participant = EventParticipant(
        event_id=event.id,
        display_name=name,
        token_hash=hash_token(token) if token else None,
        user_id=user.id if user else None,
    )
    db.session.add(participant)
    db.session.commit()
    return participant


def give_cookie(client, event: Event, token: str) -> None:
    """Put an event token on the test client, scoped like the real cookie."""
    client.http.set_cookie(cookie_name(event.id), token, path=f"/events/{event.id}/")


def join(client, event: Event, name: str = "Anna", language: str = "de", privacy: str = "y"):
    """Post the join form of ``event`` as a phone would."""
    data = {"display_name": name, "language": language}
    if privacy:
        data["privacy"] = privacy
    return client.post_form(f"/events/{event.id}/join", data)


def participants(event: Event) -> list[EventParticipant]:
    db.session.expire_all()
    return list(db.session.query(EventParticipant).filter_by(event_id=event.id))
