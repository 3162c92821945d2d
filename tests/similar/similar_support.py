"""Helpers for the similar-ideas tests (imported by name; pytest does not collect this file)."""

from datetime import timedelta

from consult.challenges.models import Challenge
from consult.clock import now
from consult.extensions import db
from consult.ideas.models import Idea
from consult.similar.services import find_similar_ideas
from consult.text import render_markdown

DAY = timedelta(days=1)


def make_challenge(name: str = "Innenstadt", phase: str = "submission", **settings) -> Challenge:
    """A challenge whose submission runs (or, with phase="voting", whose voting runs)."""
    t = now()
    start = {"submission": -DAY, "voting": -10 * DAY, "draft": 3 * DAY}[phase]
    challenge = Challenge(
        title_de=f"{name} (de)",
        title_en=f"{name} (en)",
        question_de="Wie wird die Innenstadt lebendiger?",
        question_en="How does the city centre become livelier?",
        submission_opens_at=t + start,
        submission_closes_at=t + start + 7 * DAY,
        voting_opens_at=t + start + 7 * DAY,
        voting_closes_at=t + start + 14 * DAY,
        results_at=t + start + 21 * DAY,
        moderation=settings.pop("moderation", "post"),
        **settings,
    )
    db.session.add(challenge)
    db.session.commit()
    return challenge


def make_idea(challenge, title, body="", status="published", author=None, **fields) -> Idea:
    t = now()
    idea = Idea(
        challenge_id=challenge.id,
        author_id=author.id if author is not None else None,
        title=title,
        body=body,
        body_html=render_markdown(body),
        language=fields.pop("language", "de"),
        status=status,
        origin=fields.pop("origin", "online" if author is not None else "workshop"),
        workshop_name=fields.pop("workshop_name", "" if author is not None else "Werkstatt"),
        submitted_at=None if status == "draft" else t,
        published_at=t if status == "published" else None,
        **fields,
    )
    db.session.add(idea)
    db.session.commit()
    return idea


def measure(limit: int = 5) -> dict:
    """Precision and recall on the labelled pairs (see pairs_de.py), on the app's database.

    All first ideas and the distractors are published in one challenge; each second idea
    is then checked: its pair is "found" when the first idea is among the shown ones.
    """
    from pairs_de import DISTRACTORS, PAIRS

    challenge = make_challenge("Messung")
    first_ids = [make_idea(challenge, *first).id for first, _second, _dup in PAIRS]
    for distractor in DISTRACTORS:
        make_idea(challenge, *distractor)
    found = {True: 0, False: 0}
    misses, false_hits = [], []
    for (_first, second, duplicate), first_id in zip(PAIRS, first_ids, strict=True):
        shown = [s.id for s in find_similar_ideas(challenge, *second, limit=limit)]
        hit = first_id in shown
        found[duplicate] += hit
        if duplicate and not hit:
            misses.append(second[0])
        if hit and not duplicate:
            false_hits.append(second[0])
    duplicates = sum(1 for *_pair, dup in PAIRS if dup)
    shown_total = found[True] + found[False]
    return {
        "precision": found[True] / shown_total if shown_total else 1.0,
        "recall": found[True] / duplicates,
        "true_positives": found[True],
        "false_positives": found[False],
        "duplicates": duplicates,
        "pairs": len(PAIRS),
        "misses": misses,
        "false_hits": false_hits,
    }
