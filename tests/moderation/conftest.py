"""Fixtures of the moderation tests: a challenge, ideas, comments, reports and the people."""

from datetime import timedelta

import pytest

from consult.challenges.models import Challenge
from consult.clock import now
from consult.extensions import db
from consult.ideas.models import Comment, Idea, Report
from consult.text import render_markdown


@pytest.fixture
def make_challenge(app):
    def make(moderation="pre", title_de="Mehr Grün in der Stadt", title_en="A greener city"):
        t = now()
        challenge = Challenge(
            title_de=title_de,
            title_en=title_en,
            question_de="Wie?",
            question_en="How?",
            submission_opens_at=t - timedelta(days=1),
            submission_closes_at=t + timedelta(days=10),
            voting_opens_at=t + timedelta(days=5),
            voting_closes_at=t + timedelta(days=20),
            results_at=t + timedelta(days=30),
            moderation=moderation,
        )
        db.session.add(challenge)
        db.session.commit()
        return challenge

    return make


@pytest.fixture
def make_idea(app):
    def make(challenge, author, status="submitted", title="Bäume pflanzen", body="Mehr **Bäume**.",
             language="de", **extra):  # fmt: skip
        t = now()
        idea = Idea(
            challenge_id=challenge.id,
            author_id=getattr(author, "id", None),
            title=title,
            body=body,
            body_html=render_markdown(body),
            language=language,
            status=status,
            submitted_at=None if status == "draft" else t,
            published_at=t if status == "published" else None,
            **extra,
        )
        db.session.add(idea)
        db.session.commit()
        return idea

    return make


@pytest.fixture
def make_comment(app):
    def make(idea, author, body="Gute Idee!", language="de"):
        comment = Comment(idea_id=idea.id, author_id=author.id, body=body, language=language)
        db.session.add(comment)
        idea.comment_count += 1
        db.session.commit()
        return comment

    return make


@pytest.fixture
def make_report(app):
    def make(idea, reporter, reason="offensive", note="", comment=None):
        report = Report(
            idea_id=idea.id,
            comment_id=getattr(comment, "id", None),
            reporter_id=reporter.id,
            reason=reason,
            note=note,
        )
        db.session.add(report)
        db.session.commit()
        return report

    return make


@pytest.fixture
def author_de(make_user):
    return make_user(email="anna@example.org", pseudonym="Anna Ahorn", locale="de")


@pytest.fixture
def author_en(make_user):
    return make_user(email="ben@example.org", pseudonym="Ben Birch", locale="en")


@pytest.fixture
def reporter(make_user):
    return make_user(email="rita@example.org", pseudonym="Rita Reporter")


@pytest.fixture
def moderator(make_user):
    return make_user(
        email="mod@stadt.example", pseudonym="Mona Moderator", roles=("citizen", "moderator")
    )


@pytest.fixture
def challenge(make_challenge):
    return make_challenge()
