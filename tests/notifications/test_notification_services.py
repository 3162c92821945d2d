"""The services of following and settings: follow/unfollow, the switches, the unsubscribe
links and ``notify_people`` (mail in the person's language, or a digest item)."""

import pytest
from notifications_support import fresh, upcoming_challenge
from sqlalchemy import func, select

from consult.accounts.tokens import make_token
from consult.clock import now
from consult.errors import UserError
from consult.extensions import db
from consult.notifications import services
from consult.notifications.models import KINDS, ChallengeFollower, DigestItem, NotificationSent
from consult.results.models import ResultsSubscription


def count(model, **where) -> int:
    query = select(func.count()).select_from(model)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    return db.session.scalar(query)


def test_following_is_idempotent_and_asks_for_the_results_mail_too(app, make_user):
    person = make_user()
    challenge = upcoming_challenge()
    services.follow_challenge(person, challenge)
    services.follow_challenge(person, challenge)  # a second tab: no error, still one row
    assert count(ChallengeFollower, user_id=person.id) == 1
    assert count(ResultsSubscription, user_id=person.id) == 1
    assert services.is_following(person, challenge)
    assert services.followed_challenges(person) == [challenge]
    services.unfollow_challenge(person, challenge)
    services.unfollow_challenge(person, challenge)  # no error when not following
    assert count(ChallengeFollower) == 0 and count(ResultsSubscription) == 0
    assert not services.is_following(person, challenge)


def test_only_verified_citizens_follow_and_only_public_challenges(app, make_user):
    challenge = upcoming_challenge()
    with pytest.raises(UserError) as refused:
        services.follow_challenge(make_user(verified=False), challenge)
    assert refused.value.status == 403
    with pytest.raises(UserError) as refused:
        services.follow_challenge(make_user(roles=()), challenge)
    assert refused.value.status == 403
    challenge.submission_opens_at = now() + services.DIGEST_EVERY  # back to a draft
    db.session.commit()
    with pytest.raises(UserError) as refused:
        services.follow_challenge(make_user(), challenge)
    assert refused.value.status == 404
    assert count(ChallengeFollower) == 0 and count(ResultsSubscription) == 0


def test_settings_switch_each_kind_and_the_digest_starts_its_week_now(app, make_user):
    person = make_user()
    services.save_settings(person, {"voting_opens": False, "comments": False}, digest=True)
    person = fresh(person)
    assert not services.wants(person, "voting_opens") and not services.wants(person, "comments")
    assert services.wants(person, "answers") and services.wants(person, "voting_closes")
    assert person.digest_weekly and person.digest_sent_at is not None
    started = person.digest_sent_at
    services.save_settings(person, dict.fromkeys(KINDS, True), digest=True)
    assert fresh(person).digest_sent_at == started  # still on: the week is not restarted
    with pytest.raises(UserError):
        services.save_settings(person, {"everything": False}, digest=False)
    assert not services.wants(person, "everything")


def test_an_unsubscribe_link_switches_off_its_kind_only_and_may_be_used_again(app, make_user):
    person = make_user()
    token = make_token(services.UNSUBSCRIBE_PURPOSE, person.id, k="answers")
    link = services.read_unsubscribe_link(token)
    assert link.user.id == person.id and link.kind == "answers" and not link.already_off
    services.unsubscribe(token)
    again = services.unsubscribe(token)  # lasting: a second use changes nothing more
    assert again.already_off
    person = fresh(person)
    assert not person.notify_answers
    assert all(getattr(person, f"notify_{kind}") for kind in KINDS if kind != "answers")


def test_the_digest_link_switches_every_kind_off(app, make_user):
    person = make_user()
    services.unsubscribe(make_token(services.UNSUBSCRIBE_PURPOSE, person.id, k="all"))
    assert not any(services.wants(fresh(person), kind) for kind in KINDS)


@pytest.mark.parametrize(
    "purpose, data",
    [
        ("notify-unsubscribe", {"k": "everything"}),  # a kind that does not exist
        ("notify-unsubscribe", {"k": ["answers"]}),
        ("notify-unsubscribe", {}),  # no kind at all
        ("unsubscribe", {"k": "answers"}),  # the comments link's purpose
        ("project-unsubscribe", {"k": "answers"}),
    ],
)
def test_links_with_a_wrong_kind_or_purpose_are_refused(app, make_user, purpose, data):
    person = make_user()
    with pytest.raises(UserError) as refused:
        services.unsubscribe(make_token(purpose, person.id, **data))
    assert refused.value.status == 400
    assert all(services.wants(fresh(person), kind) for kind in KINDS)


def test_a_link_of_a_deleted_account_is_refused(app, make_user):
    person = make_user()
    token = make_token(services.UNSUBSCRIBE_PURPOSE, person.id, k="answers")
    person.deleted_at = now()
    db.session.commit()
    with pytest.raises(UserError):
        services.read_unsubscribe_link(token)


def _context(user, locale):
    return {"challenge_title": "Mehr Grün" if locale == "de" else "More green", "url": "http://x/c"}


def test_notify_people_mails_in_the_persons_language_with_one_click_unsubscribe(
    app, make_user, mailbox
):
    de = make_user(email="de@example.org")
    en = make_user(email="en@example.org", locale="en")
    off = make_user(email="off@example.org")
    services.save_settings(off, {"voting_opens": False}, digest=False)
    unverified = make_user(email="new@example.org", verified=False)
    ids = [de.id, en.id, off.id, unverified.id, de.id]
    assert services.notify_people("voting_opens", 7, ids, "voting_opens", _ctx_with_time) == 2
    db.session.commit()
    assert services.notify_people("voting_opens", 7, ids, "voting_opens", _ctx_with_time) == 0
    db.session.commit()
    assert sorted(m["To"] for m in mailbox.messages()) == ["de@example.org", "en@example.org"]
    german, english = mailbox.last_to("de@example.org"), mailbox.last_to("en@example.org")
    assert german["Content-Language"] == "de" and english["Subject"] == "Voting has opened"
    link = mailbox.link(english, "/notifications/unsubscribe/")
    assert english["List-Unsubscribe"] == f"<{link}>"
    assert english["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert count(NotificationSent, kind="voting_opens") == 2


def _ctx_with_time(user, locale):
    return dict(_context(user, locale), closes_at="1. Juni 2027, 18:00")


def test_notify_people_holds_a_digest_item_for_people_who_chose_the_digest(app, make_user, mailbox):
    person = make_user(email="digest@example.org", locale="en")
    services.save_settings(person, {}, digest=True)
    assert services.notify_people("voting_opens", 3, [person.id], "voting_opens", _ctx_with_time)
    db.session.commit()
    assert mailbox.messages() == []
    item = db.session.scalar(select(DigestItem))
    assert item.kind == "voting_opens" and item.sent_at is None
    assert item.context["challenge_title"] == "More green"
