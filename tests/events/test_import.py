"""Taking an event into its challenge: one audited action, once, with its refusals."""

from datetime import timedelta

import pytest
from events.event_support import add_participant, give_dots, make_event, make_round, room_idea
from intake_support import evening, make_person, status_of
from sqlalchemy import select
from sqlalchemy.orm.attributes import set_committed_value

from consult.audit.models import AuditEntry
from consult.audit.sentences import describe_entries
from consult.clock import now
from consult.errors import UserError
from consult.events import intake
from consult.events.models import Event
from consult.events.room_ideas import credited_names
from consult.extensions import db
from consult.ideas.models import Idea


def test_import_publishes_the_room_ideas_and_names_the_event(app):
    w = evening()
    preview = intake.import_preview(w["event"])
    assert (preview.round.id, preview.ideas, preview.merged, preview.queued) == (
        w["round"].id, 2, 1, 0,
    )  # fmt: skip
    # 5 dots in the round; Cem's dot for a is already counted as his online vote.
    assert (preview.votes, preview.counted, preview.not_counted_again) == (5, 4, 1)
    assert preview.refusal is None

    result = intake.import_event(w["event"], w["staff"], w["round"].id)

    assert (result.ideas, result.votes, result.counted, result.round_number) == (2, 5, 4, 1)
    db.session.expire_all()
    a = db.session.get(Idea, w["a"].id)
    assert (a.status, a.origin, a.workshop_name) == ("published", "event", "Helpathon Nord")
    assert a.published_at is not None and a.submitted_at == a.created_at
    assert status_of(w["b"].id) == "published"
    assert status_of(w["c"].id) == "merged" and status_of(w["d"].id) == "hidden"
    event = db.session.get(Event, w["event"].id)
    assert event.imported_at is not None
    assert (event.imported_by_id, event.imported_round_id) == (w["staff"].id, w["round"].id)
    [entry] = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "event.import"))
    assert entry.details["ideas"] == 2 and entry.details["counted"] == 4
    with app.test_request_context("/"):
        [(_entry, sentence)] = describe_entries([entry])
    assert "Helpathon Nord" in sentence and "Runde 1" in sentence
    assert credited_names(a) == ["Anna", "Cem"]  # the merged idea's poster too


def test_the_name_falls_back_to_english_and_is_cut_to_120(app):
    w = evening()
    w["event"].title_de = ""
    w["event"].title_en = "N" * 160
    db.session.commit()
    intake.import_event(w["event"], w["staff"], w["round"].id)
    assert db.session.get(Idea, w["a"].id).workshop_name == "N" * 120


def _nothing_changed(w):
    db.session.expire_all()
    assert db.session.get(Event, w["event"].id).imported_at is None
    assert status_of(w["a"].id) == "room"
    assert (
        db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == "event.import")) is None
    )


def test_refusals_change_nothing(app):
    w = evening()
    other = make_round(make_event(w["challenge"], status="closed"), closed=True)
    with pytest.raises(UserError) as refused:
        intake.import_event(w["event"], w["staff"], other.id)  # a round of another event
    assert refused.value.status == 404
    with pytest.raises(UserError) as refused:
        intake.import_event(w["event"], make_person(), w["round"].id)  # a citizen
    assert refused.value.status == 403
    with pytest.raises(UserError) as refused:
        intake.import_event(w["event"], w["staff"], None)  # the event has a round: choose it
    assert refused.value.status == 409
    running = make_round(w["event"], number=2)
    with pytest.raises(UserError) as refused:
        intake.import_event(w["event"], w["staff"], running.id)
    assert refused.value.status == 409
    waiting = room_idea(w["event"], add_participant(w["event"], "Dana"), "Noch offen", "queued")
    with pytest.raises(UserError) as refused:
        intake.import_event(w["event"], w["staff"], w["round"].id)
    assert refused.value.status == 409 and "Moderation" in refused.value.message
    assert intake.import_preview(w["event"]).queued == 1
    _nothing_changed(w)

    waiting.status = "hidden"
    w["challenge"].results_frozen_at = now()
    db.session.commit()
    with pytest.raises(UserError) as refused:
        intake.import_event(w["event"], w["staff"], w["round"].id)
    assert refused.value.status == 409
    _nothing_changed(w)


def test_only_once(app):
    w = evening()
    intake.import_event(w["event"], w["staff"], w["round"].id)
    event = db.session.get(Event, w["event"].id)
    with pytest.raises(UserError) as refused:
        intake.import_event(event, w["staff"], w["round"].id)
    assert refused.value.status == 409
    # A stale copy that still thinks it is not imported meets the conditional UPDATE.
    set_committed_value(event, "imported_at", None)  # in memory only, never flushed
    with pytest.raises(UserError) as refused:
        intake.import_event(event, w["staff"], w["round"].id)
    assert refused.value.status == 409
    assert db.session.scalar(select(Event.imported_at).where(Event.id == w["event"].id))
    assert (
        len(list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == "event.import"))))
        == 1
    )


def test_an_open_event_without_rounds_must_close_first(app):
    w = evening()
    event = make_event(w["challenge"], status="open")
    room_idea(event, add_participant(event), "Ohne Runde")
    with pytest.raises(UserError) as refused:
        intake.import_event(event, w["staff"], None)
    assert refused.value.status == 409
    event.status = "closed"
    db.session.commit()
    assert intake.import_event(event, w["staff"], None).ideas == 1


@pytest.mark.postgres_only
def test_two_concurrent_imports_import_once(app):
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from consult.accounts.models import User

    w = evening()
    event_id, staff_id, round_id = w["event"].id, w["staff"].id, w["round"].id
    barrier = threading.Barrier(2)

    def job():
        with app.app_context():
            try:
                event = db.session.get(Event, event_id)
                staff = db.session.get(User, staff_id)
                barrier.wait(timeout=30)
                intake.import_event(event, staff, round_id)
                return "imported"
            except UserError as error:
                return error.status
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = sorted(map(str, pool.map(lambda _: job(), range(2))))
    assert outcomes == ["409", "imported"]
    db.session.expire_all()
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "event.import"))
    assert len(list(entries)) == 1
    assert db.session.get(Idea, w["a"].id).status == "published"


def test_a_second_event_with_the_same_citizen_counts_once(app):
    """A registered citizen's dot for one idea counts once across events; anonymous each."""
    from consult.voting import services

    w = evening()
    intake.import_event(w["event"], w["staff"], w["round"].id)
    second = make_event(w["challenge"], status="closed", title_de="Helpathon Süd")
    rnd = make_round(second, scope="challenge", closed=True)
    b = db.session.get(Idea, w["b"].id)
    cem_again = add_participant(second, "Cem", user=w["cem"])
    give_dots(rnd, cem_again, b)  # Cem again, for b (counted in event 1)
    give_dots(rnd, add_participant(second, "Eva"), b)  # anonymous: counts
    preview = intake.import_preview(second)
    assert (preview.votes, preview.counted, preview.not_counted_again) == (2, 1, 1)
    intake.import_event(second, w["staff"], rnd.id)
    assert services.event_vote_totals(w["challenge"]) == {w["a"].id: 2, w["b"].id: 3}
    # The ranking's votes: a's online vote plus its two event votes.
    assert services.counted_votes_for(w["challenge"], [w["a"].id]) == {w["a"].id: 1 + 2}
    assert services.check_vote_counts() == [] and services.check_round_ballots() == []
    assert second.imported_at is not None and timedelta(0) <= now() - second.imported_at
