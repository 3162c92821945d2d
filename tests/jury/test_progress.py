"""Staff watch the jury's progress (no values until all submitted) and remind jurors by mail."""

from datetime import timedelta

import pytest
from jury_support import jury_world, mark_submitted, says_n, tr, tr_n
from sqlalchemy import func, select
from testdata import html, says, shows

from consult.audit.models import AuditEntry
from consult.clock import travel
from consult.extensions import db
from consult.jobs import Outbox
from consult.jury.models import JurorAssignment

SKIPPED = "%(num)d juror was reminded less than an hour ago and was not mailed again."
SKIPPED_PLURAL = "%(num)d jurors were reminded less than an hour ago and were not mailed again."


def url(world, what: str = "progress") -> str:
    return f"/staff/challenges/{world.challenge.id}/jury/{what}"


def seat(world, juror) -> JurorAssignment:
    db.session.expire_all()
    return db.session.get(JurorAssignment, (world.challenge.id, juror.id))


def test_progress_shows_who_scored_what_but_no_values_before_all_submitted(
    client, login, make_user
):
    world = jury_world(make_user, scored=True, submitted=False)
    x, y = world.jurors
    mark_submitted(world.challenge, x)
    login(world.staff)
    response = client.get(url(world))
    assert response.status_code == 200
    page = html(response)
    assert "Jurorin X" in page and "Juror Y" in page
    # y: 3 assigned, 2 scored, 1 conflict, not submitted, never reminded
    assert "<td>3</td><td>2</td><td>1</td>" in page
    assert says("not yet") in page and says("never") in page
    assert shows(response, "Score values are shown here once every seated juror has submitted.")
    assert "J =" not in page and "0.700" not in page and "6 / 9" not in page
    assert says("Remind jurors") in page


def test_progress_shows_values_and_means_once_everyone_submitted(client, login, make_user):
    world = jury_world(make_user)
    login(world.staff)
    response = client.get(url(world))
    page = html(response)
    assert response.status_code == 200
    assert "8 / 5<br>J = 0.700" in page and "6 / 9<br>J = 0.700" in page
    assert "<td>0.700</td>" in page and "<td>0.500</td>" in page and "<td>1.000</td>" in page
    assert says("Remind jurors") not in page


@pytest.mark.parametrize("roles", [("citizen",), ("citizen", "juror"), ("moderator",)])
def test_progress_and_remind_are_for_staff_only(client, login, make_user, roles):
    world = jury_world(make_user, scored=False)
    login(make_user(roles=roles))
    assert client.get(url(world)).status_code == 403
    assert client.post_form(url(world, "remind")).status_code == 403
    assert db.session.scalar(select(func.count()).select_from(Outbox)) == 0


def test_progress_asks_anonymous_visitors_to_log_in(client, make_user):
    world = jury_world(make_user, scored=False)
    response = client.get(url(world))
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]


def test_progress_of_an_unknown_challenge_is_404(client, login, make_user):
    world = jury_world(make_user, scored=False)
    login(world.staff)
    assert (
        client.get(f"/staff/challenges/{world.challenge.id + 99}/jury/progress").status_code == 404
    )


def test_remind_mails_each_open_juror_in_their_language(client, login, make_user, mailbox):
    world = jury_world(make_user, scored=False)
    x, y = world.jurors
    y.locale = "en"
    db.session.commit()
    submitted = make_user(roles=("juror",), pseudonym="Fertig")
    from jury_support import seat_juror

    seat_juror(world.challenge, submitted, world.ideas)
    mark_submitted(world.challenge, submitted)
    login(world.staff)

    response = client.post_form(url(world, "remind"))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(url(world))
    page = html(client.get(url(world)))
    assert (
        says_n("%(num)d juror has been reminded.", "%(num)d jurors have been reminded.", 2) in page
    )

    assert mailbox.to(submitted.email) == []
    german, english = mailbox.last_to(x.email), mailbox.last_to(y.email)
    assert german["Subject"] == tr("Reminder: your jury scores are still open", "de")
    assert english["Subject"] == tr("Reminder: your jury scores are still open", "en")
    assert german["Content-Language"] == "de" and english["Content-Language"] == "en"
    link = mailbox.link(german, "/jury/challenges/")
    assert link == f"http://localhost/jury/challenges/{world.challenge.id}"
    assert tr_n("%(num)d idea is still open.", "%(num)d ideas are still open.", 3) in mailbox.text(
        german
    )
    assert "A greener city centre" in mailbox.text(english)
    assert "Grünere Innenstadt" in mailbox.text(german)
    assert link in mailbox.html(german)

    assert seat(world, x).last_reminded_at is not None
    assert seat(world, submitted).last_reminded_at is None
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "jury.remind"))
    assert entry.actor_id == world.staff.id and entry.object_id == world.challenge.id
    assert entry.details == {"reminded": 2, "skipped": 0}


def test_a_juror_reminded_within_the_hour_is_skipped(client, login, make_user, mailbox):
    world = jury_world(make_user, scored=False)
    x, _y = world.jurors
    login(world.staff)
    client.post_form(url(world, "remind"))
    assert len(mailbox.to(x.email)) == 1
    first = seat(world, x).last_reminded_at

    with travel(timedelta(minutes=59)):
        response = client.post_form(url(world, "remind"), follow_redirects=True)
    assert says_n(SKIPPED, SKIPPED_PLURAL, 2) in html(response)
    assert len(mailbox.to(x.email)) == 1
    assert seat(world, x).last_reminded_at == first
    assert (
        db.session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "jury.remind")
        )
        == 1
    )

    with travel(timedelta(minutes=61)):
        client.post_form(url(world, "remind"))
    assert len(mailbox.to(x.email)) == 2


def test_nobody_to_remind_when_all_submitted(client, login, make_user, mailbox):
    world = jury_world(make_user)
    login(world.staff)
    response = client.post_form(url(world, "remind"), follow_redirects=True)
    assert shows(response, "Every juror has submitted: nobody to remind.")
    assert mailbox.messages() == []


def test_remind_after_freezing_is_refused(client, login, make_user, mailbox):
    from consult.clock import now

    world = jury_world(make_user, scored=False)
    world.challenge.results_frozen_at = now()
    db.session.commit()
    login(world.staff)
    response = client.post_form(url(world, "remind"))
    assert response.status_code == 409
    assert shows(
        response,
        "The results of this challenge are frozen: scores, votes and settings can no longer "
        "change.",
    )
    assert mailbox.messages() == [] and seat(world, world.jurors[0]).last_reminded_at is None


# --- reminders are claimed per seat ---------------------------------------------------------


def reminder_jobs() -> int:
    return db.session.scalar(
        select(func.count()).select_from(Outbox).where(Outbox.job == "send_email")
    )


def test_a_second_reminder_within_the_hour_mails_nobody(app, make_user):
    from consult.challenges.models import Challenge
    from consult.jury import scoring

    world = jury_world(make_user, scored=False)
    first = scoring.remind_jurors(world.staff, db.session.get(Challenge, world.challenge.id))
    assert (first.reminded, first.skipped, reminder_jobs()) == (2, 0, 2)
    second = scoring.remind_jurors(world.staff, db.session.get(Challenge, world.challenge.id))
    assert (second.reminded, second.skipped, reminder_jobs()) == (0, 2, 2)


def test_a_reminder_sent_meanwhile_by_someone_else_is_not_sent_again(app, make_user):
    """The seats were read before another request reminded the jurors: the claim, not
    the stale copy in this session, decides."""
    from sqlalchemy import update

    from consult.challenges.models import Challenge
    from consult.clock import now
    from consult.jury import scoring

    world = jury_world(make_user, scored=False)
    challenge = db.session.get(Challenge, world.challenge.id)
    seats = scoring.jury_progress(challenge).jurors
    assert all(line.seat.last_reminded_at is None for line in seats)
    db.session.execute(
        update(JurorAssignment)
        .where(JurorAssignment.challenge_id == challenge.id)
        .values(last_reminded_at=now())
        .execution_options(synchronize_session=False)
    )
    result = scoring.remind_jurors(world.staff, challenge)
    assert (result.reminded, result.skipped, reminder_jobs()) == (0, 2, 0)


@pytest.mark.postgres_only
def test_two_staff_reminding_at_once_mail_each_juror_once(app, make_user):
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from consult.accounts.models import User
    from consult.challenges.models import Challenge
    from consult.jury import scoring

    world = jury_world(make_user, scored=False)
    challenge_id, staff_id = world.challenge.id, world.staff.id
    barrier = threading.Barrier(4)

    def remind():
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                return scoring.remind_jurors(
                    db.session.get(User, staff_id), db.session.get(Challenge, challenge_id)
                ).reminded
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=4) as pool:
        reminded = list(pool.map(lambda _n: remind(), range(4)))
    assert sum(reminded) == 2
    db.session.expire_all()
    assert reminder_jobs() == 2
