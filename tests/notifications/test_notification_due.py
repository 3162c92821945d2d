"""The due mails, moved by the clock: voting opens, voting closes in 24 hours and the
weekly digest. Each goes once, in time or never, and running the task twice mails nobody
twice."""

from datetime import timedelta

from notifications_support import (
    DAY,
    HOUR,
    follow,
    fresh,
    mail_jobs,
    make_challenge,
    make_idea,
    plain,
    upcoming_challenge,
)
from sqlalchemy import select

from consult import jobs
from consult.clock import frozen, now, travel
from consult.extensions import db
from consult.notifications import services
from consult.notifications.models import DigestItem
from consult.voting import services as voting


def test_voting_opens_mails_followers_and_authors_once_in_their_language(app, make_user, mailbox):
    challenge = upcoming_challenge()
    fan = make_user(email="fan@example.org", locale="en")
    author = make_user(email="author@example.org")
    drafter = make_user(email="drafter@example.org")
    make_user(email="bystander@example.org")
    both = make_user(email="both@example.org")
    follow(challenge, fan, both)
    make_idea(challenge, author=author)
    make_idea(challenge, author=both)
    make_idea(challenge, author=drafter, status="draft")
    assert services.mail_voting_opens() == 0  # not open yet
    with frozen(challenge.voting_opens_at - timedelta(seconds=1)):
        assert services.mail_voting_opens() == 0
    with travel(DAY + HOUR):
        assert services.mail_voting_opens() == 3
        assert services.mail_voting_opens() == 0  # run twice: nobody twice
        jobs.run_due_tasks()
    assert sorted(mail_jobs("voting_opens")) == [
        "author@example.org", "both@example.org", "fan@example.org",
    ]  # fmt: skip
    english, german = mailbox.last_to("fan@example.org"), mailbox.last_to("author@example.org")
    assert english["Subject"] == "Voting has opened"
    assert german["Subject"] == plain("Voting has opened", "de")
    assert "voting has opened in the challenge “Vote”" in mailbox.text(english)
    assert "Abstimmung" in mailbox.text(german)
    assert f"http://localhost/challenges/{challenge.id}" in mailbox.text(english)
    assert fresh(challenge).voting_opens_mailed_at is not None


def test_a_challenge_whose_voting_has_ended_is_never_mailed_late(app, make_user, mailbox):
    challenge = make_challenge(opens=-5 * DAY, closes=-HOUR)
    follow(challenge, make_user())
    assert services.send_due_notifications() == {
        "voting_opens": 0, "voting_closes": 0, "digests": 0,
    }  # fmt: skip
    challenge = fresh(challenge)
    assert challenge.voting_opens_mailed_at is None and challenge.voting_closes_mailed_at is None
    assert mailbox.messages() == []


def test_a_draft_or_archived_challenge_is_not_mailed(app, make_user, mailbox):
    draft = make_challenge(opens=-HOUR)
    draft.submission_opens_at = now() + DAY  # drafts open their submission in the future
    archived = make_challenge(opens=-HOUR)
    archived.archived_at = now() - HOUR
    db.session.commit()
    follow(draft, make_user())
    follow(archived, make_user())
    assert services.mail_voting_opens() == 0
    assert mailbox.messages() == []


def test_voting_closes_reminds_followers_with_votes_left_once(app, make_user, mailbox):
    challenge = make_challenge(budget=2, opens=-DAY, closes=3 * DAY)
    challenge.voting_opens_mailed_at = now()
    db.session.commit()
    ideas = [make_idea(challenge, title=f"Idee {n}") for n in range(3)]
    spent = make_user(email="spent@example.org")
    half = make_user(email="half@example.org", locale="en")
    fresh_voter = make_user(email="unused@example.org")
    follow(challenge, spent, half, fresh_voter)
    for idea in ideas[:2]:
        voting.cast_vote(spent, challenge, idea.id)
    voting.cast_vote(half, challenge, ideas[0].id)
    assert services.mail_voting_closes_soon() == 0  # three days left
    with frozen(challenge.voting_closes_at - timedelta(hours=24, seconds=1)):
        assert services.mail_voting_closes_soon() == 0
    with frozen(challenge.voting_closes_at - timedelta(hours=24)):
        assert services.mail_voting_closes_soon() == 2
    with frozen(challenge.voting_closes_at - HOUR):
        assert services.mail_voting_closes_soon() == 0
    assert sorted(mail_jobs("voting_closes_soon")) == ["half@example.org", "unused@example.org"]
    english = mailbox.last_to("half@example.org")
    assert english["Subject"] == "Voting closes in 24 hours"
    assert "you still have votes left" in mailbox.text(english)


def test_with_one_vote_per_idea_only_followers_with_ideas_left_are_reminded(
    app, make_user, mailbox
):
    challenge = make_challenge(budget=0, opens=-DAY, closes=HOUR)
    ideas = [make_idea(challenge, title=f"Idee {n}") for n in range(2)]
    everything = make_user(email="all@example.org")
    some = make_user(email="some@example.org")
    follow(challenge, everything, some)
    for idea in ideas:
        voting.cast_vote(everything, challenge, idea.id)
    voting.cast_vote(some, challenge, ideas[0].id)
    services.mail_voting_closes_soon()
    assert mail_jobs("voting_closes_soon") == ["some@example.org"]


def test_the_reminder_is_never_sent_after_voting_closed(app, make_user, mailbox):
    challenge = make_challenge(opens=-DAY, closes=HOUR)
    follow(challenge, make_user())
    with travel(2 * HOUR):
        assert services.mail_voting_closes_soon() == 0
    assert fresh(challenge).voting_closes_mailed_at is None


def test_the_weekly_digest_collects_the_week_into_one_mail(app, make_user, mailbox):
    reader = make_user(email="reader@example.org", locale="en")
    services.save_settings(reader, {}, digest=True)
    single = make_user(email="single@example.org")
    challenge = make_challenge(opens=HOUR, closes=DAY)
    follow(challenge, reader, single)
    with travel(2 * HOUR):
        services.send_due_notifications()  # voting opens, and closes within 24 hours
    assert sorted(mail_jobs("voting_opens") + mail_jobs("voting_closes_soon")) == [
        "single@example.org", "single@example.org",
    ]  # fmt: skip
    assert mail_jobs("weekly_digest") == []
    with travel(6 * DAY):
        assert services.send_weekly_digests() == 0  # not a week yet
    with travel(7 * DAY + HOUR):
        assert services.send_weekly_digests() == 1
        assert services.send_weekly_digests() == 0  # twice: one digest
    assert mail_jobs("weekly_digest") == ["reader@example.org"]
    digest = mailbox.last_to("reader@example.org")
    assert digest["Subject"] == "Your weekly summary"
    text = mailbox.text(digest)
    assert "Voting has opened: Vote" in text and "Voting closes in 24 hours: Vote" in text
    assert f"http://localhost/challenges/{challenge.id}" in text
    assert "http://localhost/account/mail-settings" in text
    assert digest["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert all(i.sent_at is not None for i in db.session.scalars(select(DigestItem)))
    # Nothing new: no empty digest the week after.
    with travel(15 * DAY):
        assert services.send_weekly_digests() == 0


def test_leaving_the_digest_sends_what_it_held_with_the_next_run(app, make_user, mailbox):
    reader = make_user(email="leaving@example.org")
    services.save_settings(reader, {}, digest=True)
    challenge = make_challenge(opens=-HOUR, closes=5 * DAY)
    follow(challenge, reader)
    services.mail_voting_opens()
    assert mail_jobs("voting_opens") == [] and mail_jobs("weekly_digest") == []
    services.save_settings(fresh(reader), {}, digest=False)
    assert services.send_weekly_digests() == 1
    assert services.send_weekly_digests() == 0
    assert mail_jobs("weekly_digest") == ["leaving@example.org"]
    assert plain("Voting has opened", "de") in mailbox.text(mailbox.last_to("leaving@example.org"))


def test_the_cli_command_runs_the_due_notifications(app, make_user, mailbox):
    challenge = make_challenge(opens=-HOUR, closes=5 * DAY)
    follow(challenge, make_user(email="cli@example.org"))
    runner = app.test_cli_runner()
    first = runner.invoke(args=["notifications", "send-due"])
    second = runner.invoke(args=["notifications", "send-due"])
    assert first.exit_code == 0, first.output
    assert "voting opens: 1" in first.output and "voting opens: 0" in second.output
    assert mail_jobs("voting_opens") == ["cli@example.org"]
