"""Similar ideas: the published ideas of a challenge that resemble an idea being written.

Computed on the city's own server; no text leaves it. On PostgreSQL the database chooses
the candidates: ideas whose indexed search document matches any significant word (full
text with German and English stemming, on the GIN index) or whose title is trigram-similar
(pg_trgm), ranked by title similarity plus the full-text rank of the title. SQLite
(development, small installations) reads the challenge's newest ideas. Both then score the
candidates alike: title trigrams plus shared word stems. Nothing below a threshold is
shown, so that an unrelated idea is never offered as "already here"."""

import math
import re
from dataclasses import dataclass, field

from flask_login import current_user
from sqlalchemy import func, literal_column, or_, select
from werkzeug.exceptions import TooManyRequests

from .. import ratelimit
from ..challenges.models import Challenge
from ..extensions import db
from ..i18n import _

# Reused from the ideas' own search: the indexed document and the plain-text excerpt.
from ..ideas.models import _SEARCH_CONFIG as _CONFIG
from ..ideas.models import SEARCH_DOCUMENT, Idea
from ..ideas.services import _excerpt
from ..voting.services import offline_votes_by_idea
from .stopwords import STOP_WORDS

# Enough to say what an idea is about; the rest of a long text adds work, not meaning.
TITLE_CHARS = 300
BODY_CHARS = 2000
TERMS_MAX = 24
WORD_MAX = 50
LIMIT_MAX = 10
# The SQLite fallback reads at most this many of the challenge's newest ideas.
SCAN_MAX = 3000
# Of each stored idea the scoring reads the title and the start of its text.
SCORE_BODY_CHARS = 1000
_EXCERPT_SOURCE = 800

# PostgreSQL hands at most this many candidates on to the scoring.
CANDIDATES_MAX = 200
# pg_trgm's default threshold of its % operator: titles this close are candidates too.
TITLE_CANDIDATE = 0.3
# score = TITLE_WEIGHT * title trigram similarity + OVERLAP_WEIGHT * stem overlap (cosine);
# chosen on the labelled pairs in tests/similar/pairs_de.py (see README and test_precision).
TITLE_WEIGHT = 1.0
OVERLAP_WEIGHT = 2.0
THRESHOLD = 0.6

# Letters and digits only: no character of a word can act as a SQL, LIKE or tsquery
# operator (the same rule as the ideas' search).
_WORD = re.compile(r"[^\W_]+")
_FOLD = str.maketrans({"ä": "a", "ö": "o", "ü": "u", "ß": "ss"})
_SUFFIXES = ("innen", "ern", "en", "er", "es", "em", "e", "n", "s")

# Checks per account and per address and minute: a person typing (debounced) stays far
# below; a script asking the database to rank thousands of ideas in a loop does not.
CHECK_LIMITS = (("user", 40, 60), ("address", 120, 60))


@dataclass(frozen=True)
class SimilarIdea:
    """One similar idea as the list shows it; ``votes`` is None while counts are hidden."""

    id: int
    title: str
    language: str
    excerpt: str
    votes: int | None
    score: float


@dataclass(frozen=True)
class SimilarCheck:
    """What a form shows after "Check for similar ideas": the ideas, or why there are none."""

    ideas: list[SimilarIdea] = field(default_factory=list)
    refused: str = ""  # a message instead of the list (asked too often)
    photo_dropped: bool = False  # a chosen photo is not kept when the form comes back


@dataclass(frozen=True)
class Wording:
    """The significant words of an idea being written, ready for both backends."""

    title: str  # the title's words, lower-case, joined by spaces (for trigrams)
    terms: list[str]  # significant words, title first, without duplicates


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _significant(words: list[str]) -> list[str]:
    # One-letter words say nothing, and no word of a language is longer than WORD_MAX.
    return [w for w in words if w not in STOP_WORDS and 1 < len(w) <= WORD_MAX]


def read_wording(title: str | None, body: str | None) -> Wording:
    """The bounded, normalised wording of a title and text typed into a form.

    Anything beyond the first characters is ignored (not refused): a 10,000-character
    paste costs as much as a short idea.
    """
    title_words = _words((title or "")[:TITLE_CHARS])
    body_words = _words((body or "")[:BODY_CHARS])
    terms = list(dict.fromkeys(_significant(title_words) + _significant(body_words)))
    return Wording(title=" ".join(title_words), terms=terms[:TERMS_MAX])


def stem(word: str) -> str:
    """A crude German/English stem for the scoring: Bänke, Bank -> bank; Spielplätze -> spielplatz."""
    word = word.translate(_FOLD)
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def trigrams(text: str) -> set[str]:
    """The trigrams of a text as pg_trgm forms them (each word padded: "  w ")."""
    grams = set()
    for word in _words(text):
        padded = f"  {word} "
        grams.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return grams


def trigram_similarity(a: set[str], b: set[str]) -> float:
    """Shared trigrams over all trigrams, like pg_trgm's similarity()."""
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def counts_visible(challenge: Challenge) -> bool:
    """Vote counts are shown once voting has started, unless the challenge hides them."""
    return challenge.voting_started() and not challenge.counts_hidden()


def find_similar_ideas(
    challenge: Challenge, title: str | None, body: str | None, limit: int = 5, exclude_id=None
) -> list[SimilarIdea]:
    """The published ideas of ``challenge`` most similar to a title and text, best first.

    Only published ideas of this challenge: drafts, hidden, withdrawn and merged ideas and
    other challenges' ideas are never considered. ``exclude_id`` leaves out the idea being
    edited. Empty when the wording has no significant word or nothing is similar enough.
    """
    wording = read_wording(title, body)
    limit = max(1, min(int(limit), LIMIT_MAX))
    if not wording.terms:
        return []
    if db.engine.dialect.name == "postgresql":
        rows = _candidates_postgresql(challenge, wording, exclude_id)
    else:
        rows = _candidates_sqlite(challenge, wording, exclude_id)
    return _listed(challenge, _scored(wording, rows, limit))


def _published(challenge: Challenge, exclude_id):
    conditions = [Idea.challenge_id == challenge.id, Idea.status == "published"]
    if exclude_id:
        conditions.append(Idea.id != exclude_id)
    return conditions


def _candidates_postgresql(challenge, wording: Wording, exclude_id):
    """(id, title, text) of the ideas sharing a word or a similar title, best first."""
    # One OR-query of the significant words, as a bound parameter in websearch syntax:
    # the words hold only letters and digits, and "or" itself is a stop word, so nothing
    # the user typed can become an operator. Each configuration drops its own stop words.
    text = " or ".join(wording.terms)
    german = func.websearch_to_tsquery(literal_column("'german'::regconfig"), text)
    english = func.websearch_to_tsquery(literal_column("'english'::regconfig"), text)
    query = german.op("||")(english)
    # Computed once, on its own, like the ideas' search (see _search_clause there): with
    # only the document in its condition, the GIN index is the one way PostgreSQL (with
    # statistics) sees to find the matches, instead of computing each idea's document.
    matches = (
        select(Idea.id)
        .where(SEARCH_DOCUMENT.op("@@")(query))
        .cte("similar_matches")
        .prefix_with("MATERIALIZED")
    )
    title_similarity = func.similarity(func.lower(Idea.title), wording.title)
    # Ranked by the titles alone: ranking the whole text would compute every candidate's
    # document again (the index answers "matches", not "how well"), seconds for thousands.
    title_rank = func.ts_rank(func.to_tsvector(_CONFIG, Idea.title), query)
    return db.session.execute(
        select(Idea.id, Idea.title, func.substr(Idea.body, 1, SCORE_BODY_CHARS))
        .where(
            *_published(challenge, exclude_id),
            or_(Idea.id.in_(select(matches.c.id)), title_similarity >= TITLE_CANDIDATE),
        )
        .order_by((title_similarity + title_rank).desc(), Idea.id.desc())
        .limit(CANDIDATES_MAX)
    )


def _candidates_sqlite(challenge, wording: Wording, exclude_id):
    """(id, title, text) of the challenge's newest published ideas."""
    return db.session.execute(
        select(Idea.id, Idea.title, func.substr(Idea.body, 1, SCORE_BODY_CHARS))
        .where(*_published(challenge, exclude_id))
        .order_by(Idea.published_at.desc(), Idea.id.desc())
        .limit(SCAN_MAX)
    )


def _scored(wording: Wording, rows, limit: int) -> list[tuple[int, float]]:
    """The best (id, score) above the threshold: title trigrams plus shared word stems."""
    query_stems = {stem(w) for w in wording.terms}
    query_grams = trigrams(wording.title)
    scored = []
    for idea_id, idea_title, idea_body in rows:
        stems = {stem(w) for w in _significant(_words(f"{idea_title} {idea_body or ''}"))}
        shared = len(query_stems & stems)
        overlap = shared / math.sqrt(len(query_stems) * len(stems)) if shared else 0.0
        title_similarity = trigram_similarity(query_grams, trigrams(idea_title))
        score = TITLE_WEIGHT * title_similarity + OVERLAP_WEIGHT * overlap
        if score >= THRESHOLD:
            scored.append((idea_id, score))
    scored.sort(key=lambda item: (-item[1], -item[0]))
    return scored[:limit]


def _listed(challenge: Challenge, scored: list[tuple[int, float]]) -> list[SimilarIdea]:
    if not scored:
        return []
    ids = [idea_id for idea_id, _score in scored]
    rows = {
        row.id: row
        for row in db.session.execute(
            select(
                Idea.id,
                Idea.title,
                Idea.language,
                Idea.vote_count,
                func.substr(Idea.body_html, 1, _EXCERPT_SOURCE).label("html"),
            ).where(Idea.id.in_(ids))
        )
    }
    votes = None
    if counts_visible(challenge):
        votes = {idea_id: rows[idea_id].vote_count for idea_id in ids}
        if challenge.count_paper_votes:
            offline = offline_votes_by_idea(challenge.id)
            for idea_id, n in db.session.execute(
                select(offline.c.idea_id, offline.c.n).where(offline.c.idea_id.in_(ids))
            ):
                votes[idea_id] += int(n or 0)
    return [
        SimilarIdea(
            id=idea_id,
            title=rows[idea_id].title,
            language=rows[idea_id].language,
            excerpt=_excerpt(rows[idea_id].html),
            votes=None if votes is None else votes[idea_id],
            score=round(score, 3),
        )
        for idea_id, score in scored
    ]


def check_rate_limit(user=None) -> None:
    """429 with Retry-After when an account or address asks implausibly often."""
    user = user if user is not None else current_user
    who = {
        "user": user.id if user.is_authenticated else None,
        "address": ratelimit.client_address(),
    }
    limits = [
        (f"similar:{kind}:{who[kind]}", limit, window)
        for kind, limit, window in CHECK_LIMITS
        if who[kind] is not None
    ]
    wait = ratelimit.count_and_check(limits)
    if wait:
        raise ratelimit.too_many(
            wait, _("You are checking very often. Please wait a minute and try again.")
        )


def check_similar(
    challenge: Challenge, title: str | None, body: str | None, exclude_id=None, user=None
) -> SimilarCheck:
    """A form's check for similar ideas, counted against the rate limit.

    Asked too often, the answer says so instead of raising: the form around it, with the
    citizen's unsaved text, is shown again either way.
    """
    try:
        check_rate_limit(user)
    except TooManyRequests as refused:
        return SimilarCheck(refused=refused.description)
    return SimilarCheck(ideas=find_similar_ideas(challenge, title, body, exclude_id=exclude_id))
