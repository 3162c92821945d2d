"""The published ranking formula (DESIGN §5), computed exactly, and its snapshots.

Pure functions on plain data: no database, no request. The same code ranks a challenge,
writes the frozen snapshot and, in ``flask results verify FILE``, checks one.

For idea i, criteria weights w_c, juror r's scores s(r,i,c) in 0..10 and votes v_i:

    J(r,i) = sum_c w_c * s(r,i,c) / (10 * sum_c w_c)
    J_i    = mean of J(r,i) over the jurors r who scored i
    P_i    = v_i / max_j v_j over the shortlist (0 when nobody voted)
    S_i    = alpha * J_i + (1 - alpha) * P_i

With centering, J(r,i) is replaced by J(r,i) - mean_i J(r,i) + (mean of all J(r,i)).
Ties: higher J_i, then more votes, then earlier submission, then lower id. Every value is
a Fraction; nothing is rounded until it is shown (three decimals).
"""

import hashlib
import json
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

FORMULA_VERSION = "consult-ranking/1"


@dataclass(frozen=True)
class IdeaInput:
    id: int
    votes: int  # online votes plus the paper votes the challenge counts
    submitted_at: str  # ISO 8601 in UTC: compares correctly as text


@dataclass(frozen=True)
class RankedIdea:
    id: int
    rank: int
    jury: Fraction  # J_i
    popularity: Fraction  # P_i
    score: Fraction  # S_i
    votes: int


class RankingError(ValueError):
    """The inputs cannot be ranked (e.g. an idea without any jury score)."""


def juror_score(weights: dict[str, Fraction], scores: dict[str, int]) -> Fraction:
    """J(r,i): the weighted share of the best possible score, in [0, 1]."""
    total_weight = sum(weights.values())
    if total_weight <= 0 or any(w <= 0 for w in weights.values()):
        raise RankingError("criteria weights must be positive")
    if set(scores) != set(weights):
        raise RankingError("a score is missing or names an unknown criterion")
    for value in scores.values():
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 10:
            raise RankingError("scores are whole numbers from 0 to 10")
    return sum(Fraction(weights[c]) * scores[c] for c in weights) / (10 * Fraction(total_weight))


def compute_ranking(
    ideas: list[IdeaInput],
    weights: dict[str, Fraction],
    scores: dict[str, dict[int, dict[str, int]]],
    alpha: Fraction,
    centering: bool = False,
) -> list[RankedIdea]:
    """Rank the shortlist. ``scores`` maps juror -> idea id -> criterion -> score."""
    alpha = Fraction(alpha)
    if not 0 <= alpha <= 1:
        raise RankingError("alpha must lie between 0 and 1")
    per_juror = {
        juror: {idea_id: juror_score(weights, s) for idea_id, s in by_idea.items()}
        for juror, by_idea in scores.items()
        if by_idea
    }
    if centering and per_juror:
        everything = [value for by_idea in per_juror.values() for value in by_idea.values()]
        grand_mean = sum(everything) / len(everything)
        per_juror = {
            juror: {
                i: v - sum(by_idea.values()) / len(by_idea) + grand_mean for i, v in by_idea.items()
            }
            for juror, by_idea in per_juror.items()
        }
    top_votes = max((idea.votes for idea in ideas), default=0)
    rows = []
    for idea in ideas:
        given = [by_idea[idea.id] for by_idea in per_juror.values() if idea.id in by_idea]
        if not given:
            raise RankingError(f"idea {idea.id} has no jury score")
        jury = sum(given) / len(given)
        popularity = Fraction(idea.votes, top_votes) if top_votes else Fraction(0)
        rows.append((idea, jury, popularity, alpha * jury + (1 - alpha) * popularity))
    rows.sort(key=lambda r: (-r[3], -r[1], -r[0].votes, r[0].submitted_at, r[0].id))
    return [
        RankedIdea(idea.id, rank, jury, popularity, score, idea.votes)
        for rank, (idea, jury, popularity, score) in enumerate(rows, start=1)
    ]


def three_decimals(value: Fraction) -> str:
    """How scores are shown: three decimals, half up."""
    return str((Decimal(value.numerator) / Decimal(value.denominator)).quantize(
        Decimal("0.001"), rounding=ROUND_HALF_UP))  # fmt: skip


# --- snapshots --------------------------------------------------------------------------


def juror_label(n: int) -> str:
    """Juror A, B, ..., Z, AA, AB, ...: jurors are published under these names only."""
    letters = ""
    n += 1
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return f"Juror {letters}"


def _fraction(value: Fraction) -> str:
    value = Fraction(value)
    return (
        str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
    )


def snapshot_document(
    ideas: list[IdeaInput],
    weights: dict[str, Fraction],
    scores: dict[str, dict[int, dict[str, int]]],
    alpha: Fraction,
    centering: bool,
) -> dict:
    """Every input and the ranking; jurors appear as "Juror A", "Juror B", ... only."""
    pseudonyms = {juror: juror_label(n) for n, juror in enumerate(sorted(scores, key=str))}
    ranking = compute_ranking(ideas, weights, scores, alpha, centering)
    return {
        "formula_version": FORMULA_VERSION,
        "alpha": _fraction(alpha),
        "centering": centering,
        "weights": {c: _fraction(w) for c, w in sorted(weights.items())},
        "ideas": [
            {"id": i.id, "votes": i.votes, "submitted_at": i.submitted_at}
            for i in sorted(ideas, key=lambda i: i.id)
        ],
        "scores": {
            pseudonyms[juror]: {str(i): dict(sorted(s.items())) for i, s in sorted(by_idea.items())}
            for juror, by_idea in scores.items()
        },
        "ranking": [
            {"rank": r.rank, "idea": r.id, "jury": _fraction(r.jury),
             "popularity": _fraction(r.popularity), "score": _fraction(r.score),
             "score_shown": three_decimals(r.score)}
            for r in ranking
        ],
    }  # fmt: skip


def canonical_json(document: dict) -> bytes:
    """Sorted keys, no spaces, UTF-8: the bytes the hash is taken of."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def snapshot_hash(document: dict) -> str:
    return hashlib.sha256(canonical_json(document)).hexdigest()


def verify_snapshot(document: dict) -> list[str]:
    """Recompute the ranking from the snapshot's inputs; the differences, if any.

    A published file may carry its own "sha256" next to the inputs: it must be the hash
    of the rest of the document.
    """
    document = dict(document)
    claimed = document.pop("sha256", None)
    if claimed is not None and claimed != snapshot_hash(document):
        return [
            f"the SHA-256 does not match: file says {claimed}, content is {snapshot_hash(document)}"
        ]
    if document.get("formula_version") != FORMULA_VERSION:
        return [f"unknown formula version {document.get('formula_version')!r}"]
    try:
        ideas = [
            IdeaInput(int(i["id"]), int(i["votes"]), str(i["submitted_at"]))
            for i in document["ideas"]
        ]
        weights = {c: Fraction(w) for c, w in document["weights"].items()}
        scores = {
            juror: {int(i): dict(s) for i, s in by_idea.items()}
            for juror, by_idea in document["scores"].items()
        }
        recomputed = snapshot_document(
            ideas, weights, scores, Fraction(document["alpha"]), bool(document["centering"])
        )
    except (AttributeError, KeyError, TypeError, ValueError, ZeroDivisionError) as exc:
        # AttributeError: a part that must be an object (e.g. a juror's scores) is a list.
        return [f"the snapshot cannot be read: {exc}"]
    if not isinstance(document.get("ranking", []), list):
        return ["the snapshot cannot be read: its ranking is not a list"]
    problems = []
    for expected, found in zip(recomputed["ranking"], document.get("ranking", []), strict=False):
        if expected != found:
            problems.append(
                f"rank {expected['rank']}: recomputed {expected}, snapshot says {found}"
            )
    if len(recomputed["ranking"]) != len(document.get("ranking", [])):
        problems.append("the snapshot lists a different number of ranked ideas")
    return problems


def main(argv: list[str]) -> int:
    """``python3 -m consult.jury.ranking SNAPSHOT.json``: check a snapshot, nothing else needed."""
    if len(argv) != 1:
        print("usage: python3 -m consult.jury.ranking SNAPSHOT.json")
        return 2
    try:
        with open(argv[0], "rb") as fh:
            document = json.loads(fh.read().decode("utf-8"))
    except OSError as exc:
        print(f"cannot read {argv[0]}: {exc.strerror}")
        return 2
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        print(f"not a JSON snapshot: {exc}")
        return 2
    if not isinstance(document, dict):
        print("not a JSON snapshot: expected an object")
        return 2
    problems = verify_snapshot(document)
    for problem in problems:
        print(f"MISMATCH: {problem}")
    if not problems:
        print("OK: the ranking matches its inputs")
    return 1 if problems else 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
