"""Fixtures for the public pages: challenges in every phase, ideas, districts, images."""

import hashlib
import itertools
from datetime import timedelta

import pytest

from consult.challenges.models import Category, Challenge
from consult.clock import now
from consult.districts import District
from consult.extensions import db
from consult.ideas.models import Comment, Idea
from consult.media.models import Image
from consult.text import render_markdown

DAY = timedelta(days=1)

# Days from now of (submission opens, submission closes, voting opens, voting closes,
# results); "archived" is "results" plus an archive date in the past.
SCHEDULES = {
    "draft": (2, 10, 10, 20, 30),
    "submission": (-2, 7, 7, 14, 21),
    "voting": (-10, -3, -3, 3, 10),
    "evaluation": (-20, -10, -10, -2, 5),
    "results": (-30, -20, -20, -10, -5),
    "archived": (-60, -50, -50, -40, -30),
}


@pytest.fixture
def make_challenge(app):
    counter = itertools.count(1)

    def make(phase="voting", categories=(), **fields):
        n = next(counter)
        t = now()
        opens, closes, voting_opens, voting_closes, results = (
            t + days * DAY for days in SCHEDULES[phase]
        )
        values = {
            "title_de": f"Herausforderung {n}",
            "title_en": f"Challenge {n}",
            "question_de": f"Frage {n}?",
            "question_en": f"Question {n}?",
            "submission_opens_at": opens,
            "submission_closes_at": closes,
            "voting_opens_at": voting_opens,
            "voting_closes_at": voting_closes,
            "results_at": results,
            "archived_at": t - 10 * DAY if phase == "archived" else None,
            **fields,
        }
        challenge = Challenge(**values)
        challenge.categories = [
            Category(name_de=de, name_en=en, position=i) for i, (de, en) in enumerate(categories)
        ]
        db.session.add(challenge)
        db.session.commit()
        return challenge

    return make


@pytest.fixture
def make_idea(app):
    counter = itertools.count(1)

    def make(challenge, title=None, body="Ein Vorschlag.", status="published", **fields):
        n = next(counter)
        t = now()
        values = {
            "challenge_id": challenge.id,
            "title": title or f"Idee {n}",
            "body": body,
            "body_html": render_markdown(body),
            "status": status,
            "language": "de",
            "submitted_at": t - n * timedelta(minutes=1),
            # Later ideas are newer, so "newest first" is the reverse creation order.
            "published_at": t - timedelta(days=1) + n * timedelta(minutes=1)
            if status in ("published", "hidden")
            else None,
            **fields,
        }
        idea = Idea(**values)
        db.session.add(idea)
        db.session.commit()
        return idea

    return make


@pytest.fixture
def districts(app):
    names = ["Innenstadt-West", "Hörde", "Eving"]
    rows = [District(name=name, position=i) for i, name in enumerate(names)]
    db.session.add_all(rows)
    db.session.commit()
    return rows


@pytest.fixture
def make_image(app):
    counter = itertools.count(1)

    def make():
        data = b"RIFF-not-really-webp-%d" % next(counter)
        image = Image(
            data=data,
            thumbnail=data[:8],
            width=640,
            height=480,
            digest=hashlib.sha256(data).hexdigest(),
        )
        db.session.add(image)
        db.session.commit()
        return image

    return make


@pytest.fixture
def add_comments(app):
    def add(idea, count, author=None):
        db.session.add_all(
            Comment(idea_id=idea.id, author_id=getattr(author, "id", None), body=f"Kommentar {i}")
            for i in range(count)
        )
        idea.comment_count += count
        db.session.commit()

    return add
