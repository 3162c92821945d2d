"""A logged-in citizen joining from several tabs at once gets one participant (PostgreSQL
only: SQLite serialises writers, there is nothing to race)."""

import threading

import pytest
from events.event_support import make_event, participants

from consult.accounts.models import User
from consult.events import services
from consult.events.models import Event
from consult.extensions import db

pytestmark = pytest.mark.postgres_only


def test_one_citizen_joining_from_eight_tabs_at_once_is_one_participant(app, make_user):
    citizen = make_user()
    event = make_event()
    user_id, event_id = citizen.id, event.id
    barrier = threading.Barrier(8)
    got, errors = [], []

    def tab():
        with app.app_context():
            try:
                user, ev = db.session.get(User, user_id), db.session.get(Event, event_id)
                barrier.wait()
                participant, token = services.join_event(ev, user, "Berta", "de", True, "10.0.0.9")
                got.append((participant.id, token))
            except Exception as error:  # noqa: BLE001 - any error fails the test below
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=tab) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert len({pid for pid, _token in got}) == 1 and {t for _pid, t in got} == {None}
    assert len(participants(event)) == 1
