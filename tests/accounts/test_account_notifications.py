"""Mails about new comments are not transactional: they can be switched off on the
profile page or with the link in every such mail, which works without logging in."""

from sqlalchemy import select

from consult.accounts.models import User
from consult.challenges.models import Challenge
from consult.clock import now
from consult.extensions import db
from consult.ideas import services as ideas
from consult.ideas.models import Idea


def _idea_of(author) -> Idea:
    from datetime import timedelta

    t = now()
    challenge = Challenge(
        title_de="Stadt", question_de="Was?", submission_opens_at=t - timedelta(days=1),
        submission_closes_at=t + timedelta(days=5), voting_opens_at=t + timedelta(days=5),
        voting_closes_at=t + timedelta(days=9), results_at=t + timedelta(days=10),
    )  # fmt: skip
    db.session.add(challenge)
    db.session.flush()
    idea = Idea(challenge_id=challenge.id, author_id=author.id, title="Bänke", body="Mehr Bänke",
                body_html="<p>Mehr Bänke</p>", status="published", published_at=t)  # fmt: skip
    db.session.add(idea)
    db.session.commit()
    return idea


def test_comment_mail_carries_an_unsubscribe_link_that_works(app, client, make_user, mailbox):
    author, commenter = make_user(email="anna@example.org"), make_user()
    idea = _idea_of(author)
    ideas.add_comment(commenter, idea, "Gute Idee")
    message = mailbox.last_to("anna@example.org")
    link = mailbox.link(message, "/account/unsubscribe/")
    assert message["List-Unsubscribe"] == f"<{link}>"
    path = link.removeprefix("http://localhost")
    assert client.get(path).status_code == 200  # a button, so link scanners change nothing
    assert db.session.get(User, author.id).notify_comments is True
    response = client.post_form(path)
    assert response.status_code == 302
    assert db.session.get(User, author.id).notify_comments is False
    ideas.add_comment(commenter, idea, "Noch eine Idee")
    assert len(mailbox.to("anna@example.org")) == 1
    # The link may be used again: it only ever switches mails off.
    assert client.post_form(path).status_code == 302


def test_a_forged_unsubscribe_link_changes_nothing(app, client, make_user):
    user = make_user()
    response = client.post_form("/account/unsubscribe/forged.token.value")
    assert response.status_code == 400
    assert db.session.scalar(select(User.notify_comments).where(User.id == user.id)) is True


def test_profile_switch_and_data_download(app, client, make_user, login):
    user = make_user()
    login(user)
    assert client.post_form("/account/notifications", {}).status_code == 302
    assert db.session.get(User, user.id).notify_comments is False
    assert (
        client.get("/account/data.json").get_json()["account"]["mails_about_new_comments"] is False
    )
    client.post_form("/account/notifications", {"comments": "y"})
    assert db.session.get(User, user.id).notify_comments is True
