"""Who is in the room: the participant behind a request, from the event's cookie.

The cookie holds a random token (``secrets.token_urlsafe``) and is scoped to the
event's path, so a phone in two events holds two independent tokens and no other page
ever sees them. Only the SHA-256 of a token is stored: a copy of the database does not
let anyone act as a participant.
"""

import hashlib
import secrets

from flask import abort, current_app, request
from flask_login import current_user
from sqlalchemy import select

from ..extensions import db
from ..i18n import _
from .models import Event, EventParticipant


def cookie_name(event_id: int) -> str:
    return f"consult_event_{event_id}"


def cookie_path(event_id: int) -> str:
    return f"/events/{event_id}/"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def set_participant_cookie(response, event: Event, token: str) -> None:
    """Keep the token on the phone for the evening (the event's end plus a day at most)."""
    response.set_cookie(
        cookie_name(event.id),
        token,
        max_age=36 * 3600,
        path=cookie_path(event.id),
        secure=current_app.config.get("SESSION_COOKIE_SECURE", False),
        httponly=True,
        samesite="Lax",
    )


def forget_participant_cookie(response, event: Event) -> None:
    response.delete_cookie(cookie_name(event.id), path=cookie_path(event.id))


def current_participant(event: Event) -> EventParticipant | None:
    """The participant of ``event`` making this request, or None.

    A logged-in citizen who joined is found by account; anyone else by the token of this
    event's cookie. A token of another event, a forged token or one of a participant who
    left finds nobody: the lookup is by hash *and* event.
    """
    if current_user.is_authenticated:
        found = db.session.scalar(
            select(EventParticipant).where(
                EventParticipant.event_id == event.id,
                EventParticipant.user_id == current_user.id,
                EventParticipant.left_at.is_(None),
            )
        )
        if found is not None:
            return found
    token = request.cookies.get(cookie_name(event.id), "")
    if not token or len(token) > 100:
        return None
    return db.session.scalar(
        select(EventParticipant).where(
            EventParticipant.event_id == event.id,
            EventParticipant.token_hash == hash_token(token),
            EventParticipant.left_at.is_(None),
        )
    )


def require_participant(event: Event) -> EventParticipant:
    """The participant, or a 403 that tells the person to join with the code."""
    participant = current_participant(event)
    if participant is None:
        abort(403, description=_("Please join this event first: enter its code on the join page."))
    return participant
