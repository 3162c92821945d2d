"""find_similar_ideas: what it shows, in which order, and what it never shows."""

from datetime import timedelta

import pytest
from similar_support import make_challenge, make_idea

from consult.clock import travel
from consult.similar.services import (
    find_similar_ideas,
    read_wording,
    stem,
    trigram_similarity,
    trigrams,
)
from consult.voting.models import PaperVoteEntry

BENCHES = ("Mehr Bänke am Westenhellweg", "Auf dem Westenhellweg fehlen Bänke zum Ausruhen.")


@pytest.fixture
def challenge(app):
    return make_challenge()


def test_the_same_idea_in_other_words_is_found_first(challenge):
    benches = make_idea(challenge, *BENCHES)
    make_idea(challenge, "Mehr Radwege", "Sichere Radwege auf dem Wall.")
    found = find_similar_ideas(
        challenge, "Sitzbänke am Westenhellweg", "Bitte Bänke aufstellen, zum Ausruhen."
    )
    assert [f.id for f in found][:1] == [benches.id]
    assert found[0].title == BENCHES[0]
    assert "Westenhellweg" in found[0].excerpt


def test_an_english_idea_is_found_in_english(challenge):
    benches = make_idea(
        challenge, "More benches in the pedestrian zone", "Benches to rest on.", language="en"
    )
    found = find_similar_ideas(challenge, "Benches for the pedestrian zone", "")
    assert [f.id for f in found] == [benches.id]


def test_unrelated_ideas_are_not_shown(challenge):
    make_idea(challenge, *BENCHES)
    assert find_similar_ideas(challenge, "Kostenloses WLAN im Bus", "Freies Internet.") == []


@pytest.mark.parametrize("status", ["draft", "submitted", "hidden", "withdrawn", "merged"])
def test_only_published_ideas_are_shown(challenge, status):
    make_idea(challenge, *BENCHES, status=status)
    assert find_similar_ideas(challenge, *BENCHES) == []


def test_only_ideas_of_the_same_challenge_are_shown(challenge):
    other = make_challenge("Anderswo")
    make_idea(other, *BENCHES)
    assert find_similar_ideas(challenge, *BENCHES) == []
    assert len(find_similar_ideas(other, *BENCHES)) == 1


def test_the_idea_being_edited_is_left_out(challenge):
    own = make_idea(challenge, *BENCHES)
    assert find_similar_ideas(challenge, *BENCHES, exclude_id=own.id) == []


def test_the_limit_is_kept_and_bounded(challenge):
    for n in range(12):
        make_idea(challenge, f"Mehr Bänke am Westenhellweg {n}", BENCHES[1])
    assert len(find_similar_ideas(challenge, *BENCHES, limit=3)) == 3
    assert len(find_similar_ideas(challenge, *BENCHES, limit=1000)) == 10


def test_vote_counts_only_once_voting_started_and_not_while_hidden(app):
    submission = make_challenge("Einreichung")
    make_idea(submission, *BENCHES, vote_count=4)
    assert find_similar_ideas(submission, *BENCHES)[0].votes is None

    voting = make_challenge("Abstimmung", phase="voting", count_paper_votes=True)
    idea = make_idea(voting, *BENCHES, vote_count=4)
    from consult.extensions import db

    db.session.add(PaperVoteEntry(idea_id=idea.id, count=3, event_name="Markt"))
    db.session.commit()
    assert find_similar_ideas(voting, *BENCHES)[0].votes == 7

    hidden = make_challenge("Verdeckt", phase="voting", hide_counts_while_voting=True)
    make_idea(hidden, *BENCHES, vote_count=4)
    assert find_similar_ideas(hidden, *BENCHES)[0].votes is None
    # Once voting has ended, the counts are no secret any more.
    with travel(timedelta(days=8)):
        assert find_similar_ideas(hidden, *BENCHES)[0].votes == 4


def test_wording_is_bounded_and_without_stop_words():
    wording = read_wording("Die Bänke und der Park " * 100, "Weg " * 10_000 + "x" * 100_000)
    assert len(wording.title) <= 300
    assert wording.terms == ["bänke", "park", "weg"]
    many = read_wording(" ".join(f"wort{n}" for n in range(100)), "")
    assert len(many.terms) == 24
    assert read_wording("und oder aber the and", "!!! ... ???").terms == []


def test_stems_and_trigrams():
    assert stem("Bänke".lower()) == stem("bank") == "bank"
    assert stem("spielplätze") == stem("spielplatz")
    assert trigram_similarity(trigrams("Bänke"), trigrams("bänke")) == 1.0
    assert trigram_similarity(trigrams("Bank"), trigrams("Radweg")) == 0.0
