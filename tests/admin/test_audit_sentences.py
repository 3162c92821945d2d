"""Audit entries read as sentences in the reader's language, with links to what they concern,
and never show a stored internal value (field names, reason codes, Python lists or None)."""

import ast
import html as htmllib
import re
from pathlib import Path

import pytest
from flask_babel import force_locale
from testdata import plain, says
from voting.voting_support import make_challenge, make_idea

import consult
from consult.audit.models import AuditEntry
from consult.audit.sentences import ACTION_LABELS, SENTENCES, describe_entries
from consult.audit.services import record_action
from consult.extensions import db
from consult.ideas.models import Comment, Report
from consult.projects.models import LabProject

CODE = Path(consult.__file__).parent


def written_actions() -> dict[str, str]:
    """Every action code passed to record_action anywhere in consult/, with where."""
    found = {}
    for path in CODE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", None))
            if name != "record_action" or path.parent.name == "audit":
                continue
            code = node.args[1] if len(node.args) > 1 else None
            where = f"{path.relative_to(CODE)}:{node.lineno}"
            # A computed code could not be checked here, so the code must be a literal.
            assert isinstance(code, ast.Constant) and isinstance(code.value, str), where
            found[code.value] = where
    return found


def test_every_action_written_anywhere_has_a_sentence():
    written = written_actions()
    assert len(written) >= 30  # the walk finds the calls (a broken walk proves nothing)
    missing = {code: where for code, where in written.items() if code not in SENTENCES}
    assert not missing, f"add a sentence to consult/audit/sentences.py for {missing}"
    assert ACTION_LABELS.keys() == SENTENCES.keys()


def visible_text(markup: str) -> str:
    return htmllib.unescape(re.sub(r"<[^>]+>", " ", markup))


# Stored values that must never reach a reader: Python reprs and internal codes.
RAW = re.compile(r"None|True|False|[\[\]{}']|\b[a-z]+_[a-z_]+\b|\b(?:advertising|off_topic)\b")


@pytest.fixture
def entries(app, make_user):
    """One entry of each kind staff see every day, with the details the code stores."""
    staff = make_user(pseudonym="Chefin", roles=("citizen", "staff"))
    anna = make_user(pseudonym="Anna")
    challenge = make_challenge()
    idea = make_idea(challenge, author=anna, title="Bäume am Markt")
    comment = Comment(idea_id=idea.id, author_id=anna.id, body="Gut")
    db.session.add(comment)
    db.session.flush()
    report = Report(idea_id=idea.id, comment_id=comment.id, reporter_id=staff.id, reason="other")
    project = LabProject(
        challenge_id=challenge.id, idea_id=idea.id, title_de="Grüner Markt", title_en="Green"
    )
    db.session.add_all([report, project])
    db.session.flush()
    c, i, p = challenge.id, idea.id, project.id
    for action, kind, target, details in [
        ("challenge.update", "challenge", c, {"fields": ["submission_opens_at", "vote_budget"]}),
        ("challenge.cover", "challenge", c, {"image": 7, "replaced": None}),
        ("idea.hide", "idea", i, {"reason": "advertising"}),
        ("comment.hide", "comment", comment.id, {"reason": "off_topic"}),
        ("report.resolve", "report", report.id, {"outcome": "hidden"}),
        ("role.grant", "user", anna.id, {"role": "juror"}),
        ("role.revoke", "user", anna.id, {"role": "citizen"}),
        ("jury.settings", "challenge", c,
         {"jury_alpha_percent": [30, 50], "jury_centering": [False, True]}),
        ("jury.criterion_update", "challenge", c,
         {"criterion": 3, "fields": ["name_de", "weight"], "weight": [1, 2]}),
        ("jury.shortlist_remove", "challenge", c,
         {"idea": i, "source": "votes", "after_submission": True}),
        ("jury.juror_assign", "challenge", c, {"juror": anna.id, "given": [i], "taken": []}),
        ("jury.submit", "challenge", c, {"ideas": [i]}),
        ("project.update", "project", p, {"fields": ["status", "title_de"], "status": "piloting"}),
        ("project.cocreator", "project", p, {"user": anna.id, "answer": "accept"}),
        ("project.milestone", "project", p, {"reached": 4, "reached_on": None}),
        ("announcement.publish", "challenge", c,
         {"embargo_at": "2026-06-01T08:00:00+00:00", "highlights": [i]}),
        ("results.freeze", "challenge", c, {"sha256": "ab" * 32}),
        ("votes.paper_entry", "idea", i, {"count": 84, "event": "Stadtteilfest", "entry": 1}),
    ]:  # fmt: skip
        record_action(staff, action, kind, target, **details)
    db.session.commit()
    return staff, anna, challenge, idea, project


def test_german_entries_show_no_internal_values(entries, client, login):
    staff, anna, challenge, idea, project = entries
    login(staff)
    response = client.get("/staff/audit")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    log = page.split('<ol class="audit-log">')[1].split("</ol>")[0]
    items = re.findall(r"<li>(.*?)</li>", log, re.S)
    assert len(items) == 18
    for item in items:
        sentence = item.split("</time>")[1]
        text = visible_text(sentence)
        if "SHA-256" in text:  # the checksum is meant to be read (and compared) as it is
            text = text.replace("ab" * 32, "")
        assert not RAW.search(text), text
    text = visible_text(log)
    # Reasons, roles, fields and states through the catalogs, in German.
    with force_locale("de"):
        for label in (
            "It is advertising or spam.",
            "It does not answer the question of this challenge.",
            "start of submission",
            "votes per citizen",
            "Citizen",
            "Juror",
            "Piloting",
        ):
            assert plain(label) in text, label
    assert says("%(actor)s added a cover image to the challenge %(challenge)s.",
                actor="\x00", challenge="\x01").split("\x00")[1].split("\x01")[0] in log  # fmt: skip
    # Links to what each entry concerns.
    assert f'href="/challenges/{challenge.id}"' in log
    assert f'href="/ideas/{idea.id}" dir="auto">Bäume am Markt</a>' in log
    assert f'href="/projects/{project.id}" lang="de">Grüner Markt</a>' in log
    assert 'href="/staff/users?q=Anna">Anna</a>' in log
    assert 'href="/staff/users?q=Chefin">Chefin</a>' in log


def test_the_page_asks_few_queries_for_a_full_page(entries, client, login, app):
    from sqlalchemy import event

    staff = entries[0]
    login(staff)
    statements = []

    def count(*args):
        statements.append(args[2])

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert client.get("/staff/audit").status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    # Session, user, page count, page, comments, reports, ideas, challenges, projects, users.
    assert len(statements) <= 12, statements


@pytest.mark.parametrize("action", sorted(SENTENCES))
@pytest.mark.parametrize(
    "details",
    [{}, {"fields": None, "reason": None, "idea": "x", "ideas": "x", "count": None}],
    ids=["no-details", "odd-details"],
)
def test_every_sentence_survives_missing_or_odd_details(app, make_user, action, details):
    """Old entries, or entries of objects deleted since: a sentence, never a crash or a repr."""
    staff = make_user(pseudonym="Chefin", roles=("citizen", "staff"))
    entry = AuditEntry(
        actor_id=staff.id, action=action, object_type="challenge", object_id=999, details=details
    )
    db.session.add(entry)
    db.session.commit()
    with app.test_request_context("/", headers={"Accept-Language": "de"}):
        [(_entry, sentence)] = describe_entries([entry])
    text = visible_text(str(sentence))
    assert text.strip() and not RAW.search(text), text


def test_an_unknown_action_reads_as_a_sentence_too(app, make_user):
    staff = make_user(pseudonym="Chefin", roles=("citizen", "staff"))
    entry = AuditEntry(actor_id=staff.id, action="made.up", object_type="x", details={"a": [1]})
    db.session.add(entry)
    db.session.commit()
    with app.test_request_context("/"):
        [(_entry, sentence)] = describe_entries([entry])
    assert "Chefin" in sentence and "made.up" not in sentence and "[" not in sentence


def test_audit_log_words_break_between_words_not_inside_them():
    css = (CODE / "static" / "css" / "staff.css").read_text(encoding="utf-8")
    rule = re.search(r"\.audit-log \{([^}]*)\}", css).group(1)
    assert "overflow-wrap: break-word" in rule and "hyphens: auto" in rule
    for sheet in ("app.css", "staff.css"):
        assert "break-all" not in (CODE / "static" / "css" / sheet).read_text(encoding="utf-8")
