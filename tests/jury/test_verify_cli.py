"""Checking a snapshot frozen from the database, with ``flask results verify FILE`` and with
``python3 -m consult.jury.ranking FILE``: what anyone who downloads it would run.

(tests/jury/test_ranking.py checks hand-made snapshots; these start from freeze_results.)
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from jury_support import jury_world

from consult.jury import freezing

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def published(app, make_user) -> dict:
    """The worked example frozen by the service, as the download gives it."""
    world = jury_world(make_user)
    snapshot = freezing.freeze_results(world.staff, world.challenge)
    return json.loads(freezing.snapshot_download(snapshot))


def write(tmp_path: Path, document, name: str = "snapshot.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document, ensure_ascii=False), "utf-8")
    return path


def flask_verify(app, path: Path):
    result = app.test_cli_runner().invoke(args=["results", "verify", str(path)])
    return result.exit_code, result.output


def module_verify(path: Path):
    result = subprocess.run(
        [sys.executable, "-m", "consult.jury.ranking", str(path)],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, result.stdout


def test_a_frozen_snapshot_verifies_with_both_commands(app, published, tmp_path):
    path = write(tmp_path, published)
    code, output = flask_verify(app, path)
    assert (
        code == 0
        and f"OK: the ranking matches its inputs (SHA-256 {published['sha256']})" in output
    )
    code, output = module_verify(path)
    assert code == 0 and output.startswith("OK")


def _alter(document: dict, what: str) -> None:
    juror = document["scores"]["Juror A"]
    first = sorted(juror)[0]
    if what == "votes":
        document["ideas"][0]["votes"] += 1
    elif what == "score":
        criterion = sorted(juror[first])[0]
        juror[first][criterion] = 10 - juror[first][criterion] // 2
    elif what == "alpha":
        document["alpha"] = "3/5"


@pytest.mark.parametrize("what", ["votes", "score", "alpha"])
def test_one_altered_number_fails_with_both_commands(app, published, tmp_path, what):
    # With its published hash, the altered file no longer matches it.
    tampered = json.loads(json.dumps(published))
    _alter(tampered, what)
    path = write(tmp_path, tampered, "tampered.json")
    for code, output in (flask_verify(app, path), module_verify(path)):
        assert code == 1 and "MISMATCH: the SHA-256 does not match" in output
    # Without the hash (someone "fixed" it by deleting it), the recomputation catches it.
    del tampered["sha256"]
    path = write(tmp_path, tampered, "unhashed.json")
    for code, output in (flask_verify(app, path), module_verify(path)):
        assert code == 1 and "MISMATCH: rank" in output


def test_a_rehashed_forgery_is_still_caught(app, published, tmp_path):
    """Altering a vote and recomputing the hash cannot hide that the ranking no longer fits."""
    from consult.jury.ranking import snapshot_hash

    forged = json.loads(json.dumps(published))
    del forged["sha256"]
    forged["ideas"][2]["votes"] = 100  # idea 3 would now win
    forged["sha256"] = snapshot_hash(forged)
    path = write(tmp_path, forged)
    for code, output in (flask_verify(app, path), module_verify(path)):
        assert code == 1 and "MISMATCH: rank 1" in output


@pytest.mark.parametrize(
    "content, message",
    [
        (b"\xff not json", "not a JSON snapshot"),
        (b"[1, 2, 3]", "not a JSON snapshot: expected an object"),
    ],
)
def test_a_file_that_is_no_snapshot_is_a_clear_message(app, tmp_path, content, message):
    path = tmp_path / "broken.json"
    path.write_bytes(content)
    code, output = module_verify(path)
    assert code != 0 and message in output
    code, output = flask_verify(app, path)
    assert code != 0 and message in output


@pytest.mark.parametrize(
    "change",
    ["no ideas", "no weights", "scores as a list", "ranking not a list", "weight zero"],
)
def test_a_snapshot_lacking_fields_is_a_clear_message(app, published, tmp_path, change):
    broken = json.loads(json.dumps(published))
    del broken["sha256"]
    if change == "no ideas":
        del broken["ideas"]
    elif change == "no weights":
        del broken["weights"]
    elif change == "scores as a list":
        broken["scores"]["Juror A"] = [1, 2]
    elif change == "ranking not a list":
        broken["ranking"] = 3
    elif change == "weight zero":
        broken["weights"] = {key: "0" for key in broken["weights"]}
    path = write(tmp_path, broken)
    for code, output in (flask_verify(app, path), module_verify(path)):
        assert code == 1 and "MISMATCH: the snapshot cannot be read" in output


def test_a_missing_file_is_a_clear_message(tmp_path):
    code, output = module_verify(tmp_path / "nowhere.json")
    assert code == 2 and "cannot read" in output
