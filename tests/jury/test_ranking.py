"""The ranking formula of DESIGN §5, exactly: a hand-computed example, tie-breaks,
properties any fair formula must have, and snapshots that anyone can check."""

import json
import subprocess
import sys
from fractions import Fraction as F
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consult.jury.ranking import (
    IdeaInput,
    RankingError,
    compute_ranking,
    snapshot_document,
    snapshot_hash,
    three_decimals,
    verify_snapshot,
)

ROOT = Path(__file__).resolve().parents[2]
WEIGHTS = {"impact": F(2), "feasibility": F(1)}
IDEAS = [
    IdeaInput(1, 30, "2026-05-01T10:00:00"),
    IdeaInput(2, 60, "2026-05-02T10:00:00"),
    IdeaInput(3, 0, "2026-05-03T10:00:00"),
]
# Juror "y" declared a conflict of interest for idea 3 and did not score it.
SCORES = {
    "x": {1: {"impact": 8, "feasibility": 5}, 2: {"impact": 6, "feasibility": 6},
          3: {"impact": 10, "feasibility": 10}},
    "y": {1: {"impact": 6, "feasibility": 9}, 2: {"impact": 5, "feasibility": 2}},
}  # fmt: skip


def test_hand_computed_example():
    # J(x,1) = (2*8 + 5) / 30 = 7/10, J(y,1) = (2*6 + 9) / 30 = 7/10  -> J_1 = 7/10
    # J(x,2) = 18/30 = 3/5,          J(y,2) = 12/30 = 2/5           -> J_2 = 1/2
    # J(x,3) = 1                                                     -> J_3 = 1
    # P = votes / 60: 1/2, 1, 0;  S = J/2 + P/2: 3/5, 3/4, 1/2
    ranking = compute_ranking(IDEAS, WEIGHTS, SCORES, F(1, 2))
    assert [(r.id, r.jury, r.popularity, r.score) for r in ranking] == [
        (2, F(1, 2), F(1), F(3, 4)),
        (1, F(7, 10), F(1, 2), F(3, 5)),
        (3, F(1), F(0), F(1, 2)),
    ]
    assert [three_decimals(r.score) for r in ranking] == ["0.750", "0.600", "0.500"]


def test_ties_go_to_the_jury_then_votes_then_submission_then_id():
    weights = {"c": F(1)}
    ideas = [IdeaInput(5, 10, "2026-01-02"), IdeaInput(4, 10, "2026-01-02"),
             IdeaInput(3, 10, "2026-01-01"), IdeaInput(2, 20, "2026-01-03")]  # fmt: skip
    scores = {"r": {5: {"c": 5}, 4: {"c": 5}, 3: {"c": 5}, 2: {"c": 5}}}
    # alpha = 1: all have S = 1/2 and J = 1/2; more votes first, then earlier, then lower id.
    assert [r.id for r in compute_ranking(ideas, weights, scores, F(1))] == [2, 3, 4, 5]


def test_three_decimals_round_half_up():
    assert three_decimals(F(1, 2000)) == "0.001"
    assert three_decimals(F(2, 3)) == "0.667"


@pytest.mark.parametrize(
    "weights, scores",
    [
        ({"c": F(0)}, {"r": {1: {"c": 5}}}),
        ({"c": F(-1)}, {"r": {1: {"c": 5}}}),
        ({"c": F(1)}, {"r": {1: {"c": 11}}}),
        ({"c": F(1)}, {"r": {1: {"c": -1}}}),
        ({"c": F(1)}, {"r": {1: {"c": 5.5}}}),
        ({"c": F(1)}, {"r": {1: {"c": "7"}}}),
        ({"c": F(1), "d": F(1)}, {"r": {1: {"c": 5}}}),
    ],
)
def test_bad_inputs_are_refused(weights, scores):
    with pytest.raises(RankingError):
        compute_ranking([IdeaInput(1, 0, "2026-01-01")], weights, scores, F(1, 2))


def test_an_idea_without_jury_score_cannot_be_ranked():
    with pytest.raises(RankingError, match="no jury score"):
        compute_ranking([*IDEAS, IdeaInput(4, 1, "2026-06-01")], WEIGHTS, SCORES, F(1, 2))


# --- properties ---------------------------------------------------------------------------

criteria = st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1, max_size=3, unique=True)


@st.composite
def contests(draw):
    names = draw(criteria)
    weights = {c: F(draw(st.integers(1, 5))) for c in names}
    count = draw(st.integers(1, 6))
    ideas = [
        IdeaInput(i + 1, draw(st.integers(0, 50)), f"2026-01-{draw(st.integers(1, 28)):02d}")
        for i in range(count)
    ]
    jurors = draw(st.integers(1, 4))
    scores = {}
    for r in range(jurors):
        scores[f"juror{r}"] = {
            idea.id: {c: draw(st.integers(0, 10)) for c in names} for idea in ideas
        }
    alpha = F(draw(st.integers(0, 10)), 10)
    return ideas, weights, scores, alpha


def order(ranking):
    return [(r.id, r.score) for r in ranking]


@settings(max_examples=80, deadline=None)
@given(contests(), st.integers(2, 7))
def test_scaling_all_weights_changes_nothing(contest, factor):
    ideas, weights, scores, alpha = contest
    scaled = {c: w * factor for c, w in weights.items()}
    assert order(compute_ranking(ideas, scaled, scores, alpha)) == order(
        compute_ranking(ideas, weights, scores, alpha)
    )


@settings(max_examples=80, deadline=None)
@given(contests(), st.randoms(use_true_random=False))
def test_relabelling_jurors_changes_nothing(contest, random):
    ideas, weights, scores, alpha = contest
    names = list(scores)
    shuffled = names[:]
    random.shuffle(shuffled)
    relabelled = {f"other-{new}": scores[old] for old, new in zip(names, shuffled, strict=True)}
    for centering in (False, True):
        assert order(compute_ranking(ideas, weights, relabelled, alpha, centering)) == order(
            compute_ranking(ideas, weights, scores, alpha, centering)
        )


@settings(max_examples=80, deadline=None)
@given(contests())
def test_alpha_zero_is_the_vote_order_and_alpha_one_the_jury_order(contest):
    ideas, weights, scores, _alpha = contest
    by_votes = compute_ranking(ideas, weights, scores, F(0))
    assert [r.votes for r in by_votes] == sorted((r.votes for r in by_votes), reverse=True)
    by_jury = compute_ranking(ideas, weights, scores, F(1))
    assert [r.jury for r in by_jury] == sorted((r.jury for r in by_jury), reverse=True)


@settings(max_examples=80, deadline=None)
@given(contests())
def test_centering_changes_nothing_when_all_jurors_score_alike(contest):
    ideas, weights, scores, alpha = contest
    first = next(iter(scores.values()))
    alike = {juror: first for juror in scores}
    assert order(compute_ranking(ideas, weights, alike, alpha, centering=True)) == order(
        compute_ranking(ideas, weights, alike, alpha, centering=False)
    )


# --- snapshots ------------------------------------------------------------------------------


def _snapshot(tmp_path, document) -> Path:
    path = tmp_path / "snapshot.json"
    path.write_text(json.dumps({**document, "sha256": snapshot_hash(document)}), "utf-8")
    return path


def _verify(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "consult.jury.ranking", str(path)],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_snapshot_names_jurors_by_pseudonym_and_verifies(tmp_path):
    document = snapshot_document(IDEAS, WEIGHTS, SCORES, F(1, 2), centering=False)
    assert set(document["scores"]) == {"Juror A", "Juror B"}
    assert verify_snapshot(document) == []
    result = _verify(_snapshot(tmp_path, document))
    assert result.returncode == 0 and result.stdout.startswith("OK")


def test_one_altered_number_is_reported_and_fails(tmp_path):
    document = snapshot_document(IDEAS, WEIGHTS, SCORES, F(1, 2), centering=False)
    altered = json.loads(json.dumps(document))
    altered["ideas"][0]["votes"] = 31  # one vote more for idea 1
    problems = verify_snapshot(altered)
    assert problems and "rank" in problems[0]
    result = _verify(_snapshot(tmp_path, altered))
    assert result.returncode == 1 and "MISMATCH" in result.stdout
    # A file whose content no longer matches its published hash is reported too.
    tampered = json.loads(_snapshot(tmp_path, document).read_text("utf-8"))
    tampered["alpha"] = "1/3"
    assert "SHA-256" in verify_snapshot(tampered)[0]


def test_flask_results_verify(app, tmp_path):
    document = snapshot_document(IDEAS, WEIGHTS, SCORES, F(1, 2), centering=True)
    good = _snapshot(tmp_path, document)
    result = app.test_cli_runner().invoke(args=["results", "verify", str(good)])
    assert result.exit_code == 0 and snapshot_hash(document) in result.output
    altered = json.loads(json.dumps(document))
    altered["scores"]["Juror A"]["1"]["impact"] = 9
    bad = tmp_path / "altered.json"
    bad.write_text(json.dumps(altered), "utf-8")
    result = app.test_cli_runner().invoke(args=["results", "verify", str(bad)])
    assert result.exit_code == 1 and "MISMATCH" in result.output
    garbage = tmp_path / "garbage.json"
    garbage.write_bytes(b"\xff not json")
    result = app.test_cli_runner().invoke(args=["results", "verify", str(garbage)])
    assert result.exit_code != 0 and "not a JSON snapshot" in result.output
