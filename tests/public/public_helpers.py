"""Helpers for reading the public pages in tests."""

import re


def titles_in(html: str, candidates) -> list[str]:
    """The candidate titles in the order they appear on the page."""
    found = [(html.find(f">{title}</a></h3>"), title) for title in candidates]
    return [title for position, title in sorted(found) if position >= 0]


def idea_count(html: str) -> int:
    """How many ideas the list on the page shows."""
    return len(re.findall(r'<li class="idea">', html))


def add_many_ideas(
    challenge,
    ideas: int,
    comments: int,
    votes: int,
    author_ids,
    district_ids,
    image_ids=(),
    start: int = 0,
    seed: int = 7,
) -> None:
    """Bulk-insert published ideas, comments and cached vote counts summing to ``votes``.

    There is no votes table yet: Idea.vote_count carries the counts.
    """
    import random
    from datetime import timedelta

    from sqlalchemy import insert

    from consult.clock import now
    from consult.extensions import db
    from consult.ideas.models import Comment, Idea

    rng = random.Random(seed)
    weights = [rng.paretovariate(1.2) for _ in range(ideas)]
    counts = [int(votes * w / sum(weights)) for w in weights]
    counts[0] += votes - sum(counts)  # exactly ``votes`` in total
    words = [
        "Spielplatz", "Park", "Bäume", "Radweg", "Brunnen", "Bank", "Schatten", "Markt",
        "Kinder", "Licht", "Bücherei", "Bus", "Garten", "Platz", "Fest", "Musik", "Wasser",
        "Wege", "Sport", "Treffpunkt",
    ]  # fmt: skip
    syllables = ["ma", "ren", "to", "bel", "ka", "sin", "dor", "lu", "te", "wen", "fa", "gro"]
    filler = sorted({"".join(rng.sample(syllables, 3)) for _ in range(600)})
    categories = [c.id for c in challenge.categories] or [None]
    t = now()
    rows = []
    for i in range(ideas):
        n = start + i
        # Mostly filler, two theme words: a search matches a realistic share of ideas.
        body = " ".join([*(rng.choice(filler) for _ in range(120)), *rng.sample(words, 2)])
        rows.append({
            "challenge_id": challenge.id,
            "author_id": author_ids[n % len(author_ids)] if author_ids else None,
            "category_id": categories[n % len(categories)],
            "district_id": district_ids[n % len(district_ids)] if district_ids else None,
            "image_id": image_ids[n % len(image_ids)] if image_ids and n % 4 == 0 else None,
            "title": f"Idee {n}: {rng.choice(words)} und {rng.choice(words)}",
            "body": body,
            "body_html": f"<p>{body}</p>",
            "language": "en" if n % 10 == 0 else "de",
            "status": "published",
            "origin": "online",
            "submitted_at": t - timedelta(days=3, minutes=n),
            "published_at": t - timedelta(days=2, minutes=n),
            "vote_count": counts[i],
            "comment_count": 0,
        })  # fmt: skip
    ids = db.session.scalars(insert(Idea).returning(Idea.id), rows).all()
    per_idea = {}
    comment_rows = []
    for c in range(comments):
        idea_id = ids[rng.randrange(len(ids))]
        per_idea[idea_id] = per_idea.get(idea_id, 0) + 1
        comment_rows.append(
            {
                "idea_id": idea_id,
                "author_id": author_ids[c % len(author_ids)] if author_ids else None,
                "body": f"Kommentar {c}",
                "language": "de",
            }
        )
    if comment_rows:
        db.session.execute(insert(Comment), comment_rows)
    for idea_id, count in per_idea.items():
        db.session.query(Idea).filter(Idea.id == idea_id).update(
            {Idea.comment_count: Idea.comment_count + count}
        )
    db.session.commit()
