"""An answer is mailed to the idea's author, followers and voters: once per state, in their
language, with an unsubscribe link; a correction of the text mails nobody."""

import pytest
from answers_support import answer_data, answers_world, plain

from consult.answers import services
from consult.extensions import db
from consult.ideas.models import IdeaFollower
from consult.voting.models import Vote


@pytest.fixture
def world(app, make_user):
    return answers_world(make_user)


def follow(idea, user):
    db.session.add(IdeaFollower(idea_id=idea.id, user_id=user.id))
    db.session.commit()


def vote(idea, user):
    db.session.add(Vote(challenge_id=idea.challenge_id, idea_id=idea.id, user_id=user.id))
    db.session.commit()


def answer(world, idea, **values):
    return services.answer_idea(world.staff, world.challenge, idea.id, answer_data(**values))


def test_author_follower_and_voter_in_one_person_gets_one_mail_in_their_language(
    world, make_user, mailbox
):
    idea = world.ideas[0]
    author = world.author  # German
    follow(idea, author)
    vote(idea, author)
    reader = make_user(email="reader@example.org", locale="en")
    follow(idea, reader)
    voter = make_user(email="voter@example.org", locale="en")
    vote(idea, voter)
    quiet = make_user(email="quiet@example.org")
    quiet.notify_answers = False
    follow(idea, quiet)
    unverified = make_user(email="new@example.org", verified=False)
    follow(idea, unverified)
    make_user(email="bystander@example.org")

    answer(world, idea)

    assert sorted(m["To"] for m in mailbox.messages()) == sorted(
        [author.email, "reader@example.org", "voter@example.org"]
    )
    german = mailbox.last_to(author.email)
    assert german["Subject"] == plain("The city has answered an idea", "de")
    assert german["Content-Language"] == "de"
    text = mailbox.text(german)
    assert plain("Already planned", "de") in text
    assert "Das ist **schon geplant**." in text and "Grünflächenamt" in text
    assert f"http://localhost/ideas/{idea.id}" in text
    unsubscribe = mailbox.link(german, "/notifications/unsubscribe/")
    assert german["List-Unsubscribe"] == f"<{unsubscribe}>"
    assert "<strong>schon geplant</strong>" in mailbox.html(german)

    english = mailbox.last_to("reader@example.org")
    assert english["Subject"] == "The city has answered an idea"
    assert english["Content-Language"] == "en"
    text = mailbox.text(english)
    assert "Already planned" in text and "This is **already planned**." in text
    assert english["List-Unsubscribe"].startswith("<http://localhost/notifications/unsubscribe/")


def test_saving_again_or_correcting_the_text_mails_nobody(world, mailbox):
    idea = world.ideas[0]
    answer(world, idea)
    assert len(mailbox.messages()) == 1  # the author
    mailbox.clear()
    assert answer(world, idea) == "unchanged"
    assert answer(world, idea, text_de="Das ist geplant, ab Mai.") == "text"
    assert mailbox.messages() == []


def test_a_new_state_is_mailed_once_and_going_back_is_not_mailed_again(world, mailbox):
    idea = world.ideas[0]
    answer(world, idea, state="under_review")
    answer(world, idea, state="already_planned")
    assert len(mailbox.to(world.author.email)) == 2
    assert plain("Already planned", "de") in mailbox.text(mailbox.last_to(world.author.email))
    # Back to a state the person was told about already: nobody is told twice.
    assert answer(world, idea, state="under_review") == "state"
    assert len(mailbox.to(world.author.email)) == 2


def test_the_english_answer_falls_back_to_german_when_missing(world, make_user, mailbox):
    idea = world.ideas[1]
    reader = make_user(email="reader@example.org", locale="en")
    follow(idea, reader)
    answer(world, idea, text_en="")
    message = mailbox.last_to("reader@example.org")
    assert "Das ist **schon geplant**." in mailbox.text(message)
    assert 'lang="de"' in mailbox.html(message)
