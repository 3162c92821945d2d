"""Asking for the results by mail, and the job that mails them: subscribers only, in their
language, once, and never before the embargo."""

from datetime import timedelta

import pytest
from results_support import (
    announce,
    frozen_world,
    html,
    plain,
    press_of,
    publish_past_embargo,
    results_url,
    says,
    stored_announcement,
)
from sqlalchemy import func, select
from testdata import PASSWORD

from consult.accounts import services as accounts
from consult.clock import frozen, travel
from consult.extensions import db
from consult.results import services
from consult.results.models import ResultsSubscription


def subscribers(challenge) -> int:
    return db.session.scalar(
        select(func.count()).select_from(ResultsSubscription)
        .where(ResultsSubscription.challenge_id == challenge.id)
    )  # fmt: skip


def mail_me_url(challenge) -> str:
    return f"/challenges/{challenge.id}/results/mail-me"


def test_a_verified_citizen_asks_for_the_results_on_the_challenge_page(
    app, client, make_user, login
):
    world = frozen_world(make_user)
    login(make_user(pseudonym="Neugierige"))
    page = html(client.get(f"/challenges/{world.challenge.id}"))
    assert f'action="{mail_me_url(world.challenge)}"' in page
    response = client.post_form(mail_me_url(world.challenge))
    assert response.status_code == 302
    assert client.post_form(mail_me_url(world.challenge)).status_code == 302  # idempotent
    assert subscribers(world.challenge) == 1
    page = html(client.get(f"/challenges/{world.challenge.id}"))
    assert says("We will mail you the results as soon as they are published.") in page
    assert client.post_form(mail_me_url(world.challenge) + "/cancel").status_code == 302
    assert subscribers(world.challenge) == 0


def test_only_verified_citizens_may_ask(app, client, make_user, login):
    world = frozen_world(make_user)
    assert client.post_form(mail_me_url(world.challenge)).status_code == 302  # to the login
    login(make_user(pseudonym="Unbestätigt", verified=False))
    assert 'results/mail-me"' not in html(client.get(f"/challenges/{world.challenge.id}"))
    assert client.post_form(mail_me_url(world.challenge)).status_code == 403
    assert subscribers(world.challenge) == 0


def test_asking_about_an_unknown_or_draft_challenge_is_a_404(app, client, make_user, login):
    world = frozen_world(make_user)
    world.challenge.submission_opens_at = world.challenge.submission_opens_at + timedelta(days=400)
    db.session.commit()
    login(make_user(pseudonym="Fragend"))
    assert client.post_form(mail_me_url(world.challenge)).status_code == 404
    assert client.post_form("/challenges/999999/results/mail-me").status_code == 404


def subscribe(world, make_user, **user):
    person = make_user(**user)
    services.subscribe_to_results(person, world.challenge)
    return person


def test_before_the_embargo_the_job_mails_nobody(app, make_user, mailbox):
    world = frozen_world(make_user)
    subscribe(world, make_user, pseudonym="Geduldig")
    announce(world, embargo=timedelta(hours=1))
    assert services.mail_due_results() == 0
    # From the stored embargo: publishing may take a while (charts are drawn inline here).
    with frozen(stored_announcement(world.challenge).embargo_at - timedelta(seconds=1)):
        assert services.mail_due_results() == 0
    assert mailbox.messages() == []
    assert stored_announcement(world.challenge).results_mailed_at is None


def test_subscribers_only_in_their_language_and_once(app, make_user, mailbox):
    world = frozen_world(make_user)
    de = subscribe(world, make_user, pseudonym="Leserin", email="leserin@example.org")
    en = subscribe(world, make_user, pseudonym="Reader", email="reader@example.org", locale="en")
    gone = subscribe(world, make_user, pseudonym="Weg", email="weg@example.org")
    accounts.delete_account(gone, PASSWORD)
    mailbox.clear()  # the "account deleted" mail
    make_user(pseudonym="Unbeteiligt", email="other@example.org")
    announce(world, embargo=timedelta(hours=1))
    with travel(timedelta(hours=1, seconds=1)):
        assert services.mail_due_results() == 2
        assert services.mail_due_results() == 0  # run twice: mails once
    addresses = sorted(m["To"] for m in mailbox.messages())
    assert addresses == ["leserin@example.org", "reader@example.org"]
    german, english = mailbox.last_to(de.email), mailbox.last_to(en.email)
    assert german["Subject"] == plain("The results are out", "de")
    assert german["Content-Language"] == "de" and english["Content-Language"] == "en"
    assert "Die Gewinner stehen fest" in mailbox.text(german)
    assert "The winners are decided" in mailbox.text(english)
    assert "http://localhost" + results_url(world.challenge) in mailbox.text(english)
    assert stored_announcement(world.challenge).results_mailed_at is not None
    # The requests were kept only for this mail.
    assert subscribers(world.challenge) == 0


def test_the_results_mail_can_be_switched_off_and_says_how(app, make_user, mailbox):
    """Like every notification mail (issue 12): an unsubscribe link and List-Unsubscribe;
    a person who switched results mails off gets none, one with the digest finds it there."""
    from consult.notifications.models import DigestItem

    world = frozen_world(make_user)
    reader = subscribe(world, make_user, pseudonym="Liest", email="liest@example.org")
    quiet = subscribe(world, make_user, pseudonym="Still", email="still@example.org")
    weekly = subscribe(world, make_user, pseudonym="Wöchentlich", email="woche@example.org")
    quiet.notify_results = False
    weekly.digest_weekly = True
    db.session.commit()
    announce(world, embargo=timedelta(hours=1))
    with travel(timedelta(hours=1, seconds=1)):
        assert services.mail_due_results() == 2
    assert [m["To"] for m in mailbox.messages()] == ["liest@example.org"]
    mail = mailbox.last_to(reader.email)
    link = mail["List-Unsubscribe"].strip("<>")
    assert "/notifications/unsubscribe/" in link and link in mailbox.text(mail)
    assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    held = db.session.scalars(select(DigestItem).where(DigestItem.user_id == weekly.id)).all()
    assert [(item.kind, item.template) for item in held] == [("results", "results_published")]


def test_after_mailing_the_button_is_gone_and_a_late_request_is_refused(
    app, client, make_user, login, mailbox
):
    world = frozen_world(make_user)
    publish_past_embargo(world)
    services.mail_due_results()
    late = make_user(pseudonym="Spät")
    login(late)
    page = html(client.get(f"/challenges/{world.challenge.id}"))
    assert 'results/mail-me"' not in page and f'href="{results_url(world.challenge)}"' in page
    assert client.post_form(mail_me_url(world.challenge)).status_code == 409
    assert subscribers(world.challenge) == 0


def test_a_withdrawn_announcement_is_not_mailed(app, make_user, mailbox):
    world = frozen_world(make_user)
    subscribe(world, make_user, pseudonym="Wartend")
    announce(world, embargo=timedelta(hours=1))
    services.withdraw_announcement(press_of(world), world.challenge)
    with travel(timedelta(hours=2)):
        assert services.mail_due_results() == 0
    assert mailbox.messages() == []


def test_the_cli_command_mails_due_results_once(app, make_user, mailbox):
    world = frozen_world(make_user)
    subscribe(world, make_user, pseudonym="Per Kommandozeile", email="cli@example.org")
    announce(world, embargo=timedelta(hours=1))
    runner = app.test_cli_runner()
    before = runner.invoke(args=["results", "mail-due"])
    assert before.exit_code == 0 and "0 results mail(s) queued." in before.output
    with travel(timedelta(hours=2)):
        first = runner.invoke(args=["results", "mail-due"])
        second = runner.invoke(args=["results", "mail-due"])
    assert "1 results mail(s) queued." in first.output
    assert "0 results mail(s) queued." in second.output
    assert [m["To"] for m in mailbox.messages()] == ["cli@example.org"]


def test_a_deleted_account_loses_its_request_and_the_export_lists_it(app, make_user):
    world = frozen_world(make_user)
    person = subscribe(world, make_user, pseudonym="Datensparsam")
    exported = services.export_own_subscriptions(person)
    assert exported["results_mail_requests"][0]["challenge_id"] == world.challenge.id
    services.forget_subscriptions(person)
    db.session.commit()
    assert subscribers(world.challenge) == 0


@pytest.mark.postgres_only
def test_two_workers_at_once_mail_once(app, make_user, mailbox):
    """Both runs may find the announcement due; the conditional UPDATE lets one claim it."""
    import threading

    world = frozen_world(make_user)
    subscribe(world, make_user, pseudonym="Einmalig", email="once@example.org")
    announce(world, embargo=timedelta(hours=1))
    barrier = threading.Barrier(2)
    counts = []

    def run():
        with app.app_context():
            try:
                barrier.wait(timeout=10)
                counts.append(services.mail_due_results())
            finally:
                db.session.remove()

    with travel(timedelta(hours=2)):
        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(counts) == [0, 1]
    assert [m["To"] for m in mailbox.messages()] == ["once@example.org"]
