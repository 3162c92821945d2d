"""Moderation use cases: publish and hide with a reason, reports, the queue, mails, audit."""

import pytest
from moderation_helpers import audit, count, fresh, plain
from sqlalchemy import update

from consult.errors import UserError
from consult.extensions import db
from consult.ideas import services as ideas
from consult.ideas.models import Comment, Idea, Report
from consult.jobs import Outbox
from consult.mail import SUBJECTS
from consult.moderation import services
from consult.moderation.services import HIDE_REASONS


def _change_behind_the_session(model, row_id, **values):
    """Another request commits a change; this session's loaded object does not know."""
    with db.engine.begin() as conn:
        conn.execute(update(model).where(model.id == row_id).values(**values))


# --- publishing -------------------------------------------------------------------------


def test_publish_makes_the_idea_public_audits_and_tells_the_german_author(
    challenge, make_idea, author_de, moderator, mailbox
):
    idea = make_idea(challenge, author_de)
    services.publish_idea(moderator, idea)

    idea = fresh(idea)
    assert idea.status == "published" and idea.is_public
    assert idea.published_at is not None and idea.moderated_by_id == moderator.id
    assert idea.moderated_at is not None
    [entry] = audit("idea.publish")
    assert (entry.actor_id, entry.object_type, entry.object_id) == (moderator.id, "idea", idea.id)
    assert entry.details == {"challenge": challenge.id}

    mail = mailbox.last_to("anna@example.org")
    assert mail["Content-Language"] == "de"
    assert mail["Subject"] == plain(SUBJECTS["idea_published"], "de")
    text = mailbox.text(mail)
    assert plain("Hello %(name)s,", "de", name="Anna Ahorn") in text
    assert "Bäume pflanzen" in text
    assert f"http://localhost/ideas/{idea.id}" in text


def test_publish_tells_an_english_author_in_english(
    challenge, make_idea, author_en, moderator, mailbox
):
    idea = make_idea(challenge, author_en, title="Plant trees", language="en")
    services.publish_idea(moderator, idea)
    mail = mailbox.last_to("ben@example.org")
    assert mail["Content-Language"] == "en"
    assert mail["Subject"] == "Your idea has been published"
    assert "Hello Ben Birch," in mailbox.text(mail)
    assert "Plant trees" in mailbox.html(mail)


@pytest.mark.parametrize("status", ["published", "withdrawn", "draft"])
def test_publishing_a_published_withdrawn_or_draft_idea_is_refused(
    challenge, make_idea, author_de, moderator, mailbox, status
):
    idea = make_idea(challenge, author_de, status=status)
    before = idea.published_at
    with pytest.raises(UserError) as raised:
        services.publish_idea(moderator, idea)
    assert raised.value.status == 409
    idea = fresh(idea)
    assert idea.status == status and idea.published_at == before
    assert idea.moderated_by_id is None
    assert audit() == [] and mailbox.messages() == []


def test_republishing_a_hidden_idea_keeps_its_first_publication_date(
    challenge, make_idea, author_de, moderator
):
    idea = make_idea(challenge, author_de, status="published")
    first = fresh(idea).published_at
    services.hide_idea(moderator, idea, "off_topic", "Bitte prüfen")
    services.publish_idea(moderator, fresh(idea))
    idea = fresh(idea)
    assert idea.status == "published" and idea.published_at == first
    assert (idea.moderation_reason, idea.moderation_note) == ("", "")


def test_a_colleague_faster_by_a_moment_wins_and_the_second_is_told(
    challenge, make_idea, author_de, moderator, make_user, mailbox
):
    # The moderator's page (and object) still says "submitted"; the row already moved on.
    idea = make_idea(challenge, author_de)
    assert idea.status == "submitted"  # loaded: the stale view of the second moderator
    _change_behind_the_session(Idea, idea.id, status="published")
    with pytest.raises(UserError) as raised:
        services.publish_idea(moderator, idea)
    assert raised.value.status == 409
    assert raised.value.message == plain("This idea has already been published.")
    assert fresh(idea).moderated_by_id is None
    assert audit() == [] and mailbox.messages() == [] and count(Outbox) == 0


def test_nobody_moderates_their_own_idea(challenge, make_idea, moderator, mailbox):
    idea = make_idea(challenge, moderator)
    with pytest.raises(UserError) as raised:
        services.publish_idea(moderator, idea)
    assert raised.value.status == 403
    with pytest.raises(UserError):
        services.hide_idea(moderator, idea, "other")
    assert fresh(idea).status == "submitted" and audit() == []


# --- hiding ideas -----------------------------------------------------------------------


def test_hide_stores_reason_and_note_audits_and_tells_the_author_in_german(
    challenge, make_idea, author_de, moderator, mailbox
):
    idea = make_idea(challenge, author_de)
    services.hide_idea(moderator, idea, "personal_data", "  Bitte ohne Namen von Nachbarn.  ")

    idea = fresh(idea)
    assert idea.status == "hidden" and not idea.is_public
    assert idea.moderation_reason == "personal_data"
    assert idea.moderation_note == "Bitte ohne Namen von Nachbarn."
    assert idea.moderated_by_id == moderator.id and idea.published_at is None
    [entry] = audit("idea.hide")
    assert entry.object_id == idea.id and entry.details == {"reason": "personal_data"}

    mail = mailbox.last_to("anna@example.org")
    assert mail["Content-Language"] == "de"
    assert mail["Subject"] == plain(SUBJECTS["idea_hidden"], "de")
    text = mailbox.text(mail)
    assert plain(HIDE_REASONS["personal_data"], "de") in text
    assert "Bitte ohne Namen von Nachbarn." in text


def test_hide_tells_an_english_author_the_reason_in_english(
    challenge, make_idea, author_en, moderator, mailbox
):
    idea = make_idea(challenge, author_en, status="published", language="en", title="Bike lanes")
    services.hide_idea(moderator, idea, "advertising")
    mail = mailbox.last_to("ben@example.org")
    assert mail["Subject"] == "Your idea has been hidden"
    text = mailbox.text(mail)
    assert "It is advertising or spam." in text and "Bike lanes" in text
    assert "Note from the moderators" not in text  # no empty note section


def test_reason_texts_exist_in_both_languages_for_every_code():
    for code in HIDE_REASONS:
        assert plain(HIDE_REASONS[code], "en")
        assert plain(HIDE_REASONS[code], "de")
    assert services.hide_reason_text("no-such-code") == str(HIDE_REASONS["other"])


@pytest.mark.parametrize("reason", ["", "spam", "OFFENSIVE", None, "offensive "])
def test_hiding_with_an_unknown_reason_changes_nothing(
    challenge, make_idea, author_de, moderator, mailbox, reason
):
    idea = make_idea(challenge, author_de)
    with pytest.raises(UserError) as raised:
        services.hide_idea(moderator, idea, reason)
    assert (raised.value.status, raised.value.field) == (400, "reason")
    assert fresh(idea).status == "submitted" and audit() == [] and mailbox.messages() == []


@pytest.mark.parametrize(
    "note",
    ["x" * 1001, "x" * 10_000, "Bitte \u202eprüfen", "bell\x07"],
    ids=["1001", "10k", "bidi", "ctrl"],
)
def test_an_overlong_or_disguised_note_is_refused(challenge, make_idea, author_de, moderator, note):
    idea = make_idea(challenge, author_de)
    with pytest.raises(UserError) as raised:
        services.hide_idea(moderator, idea, "other", note)
    assert (raised.value.status, raised.value.field) == (400, "note")
    assert fresh(idea).status == "submitted" and audit() == []


def test_a_note_of_exactly_1000_characters_with_windows_line_ends_is_fine(
    challenge, make_idea, author_de, moderator
):
    idea = make_idea(challenge, author_de)
    note = "ab\r\n" * 333 + "z"  # 1333 as sent, 1000 once line ends are plain
    services.hide_idea(moderator, idea, "other", note)
    assert len(fresh(idea).moderation_note) == 1000


def test_markup_in_the_note_is_stored_as_written_and_escaped_in_the_mail(
    challenge, make_idea, author_de, moderator, mailbox
):
    idea = make_idea(challenge, author_de)
    note = "<script>alert(1)</script> & <b>bold</b>"
    services.hide_idea(moderator, idea, "other", note)
    assert fresh(idea).moderation_note == note
    mail = mailbox.last_to("anna@example.org")
    html = mailbox.html(mail)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert note in mailbox.text(mail)  # plain text carries it verbatim, which is harmless


@pytest.mark.parametrize("status", ["hidden", "withdrawn", "draft"])
def test_hiding_an_idea_that_is_not_submitted_or_published_is_refused(
    challenge, make_idea, author_de, moderator, mailbox, status
):
    idea = make_idea(challenge, author_de, status=status)
    with pytest.raises(UserError) as raised:
        services.hide_idea(moderator, idea, "other")
    assert raised.value.status == 409
    assert fresh(idea).status == status and audit() == [] and mailbox.messages() == []


def test_hiding_an_idea_closes_its_open_reports_but_not_those_about_its_comments(
    challenge, make_idea, make_comment, make_report, author_de, author_en, reporter, moderator,
    make_user,
):  # fmt: skip
    idea = make_idea(challenge, author_de, status="published")
    comment = make_comment(idea, author_en)
    on_idea = make_report(idea, reporter)
    on_idea_2 = make_report(idea, make_user(), reason="advertising")
    on_comment = make_report(idea, reporter, comment=comment)

    services.hide_idea(moderator, idea, "offensive")

    assert fresh(on_idea).outcome == "hidden" and fresh(on_idea).resolved_by_id == moderator.id
    assert fresh(on_idea_2).outcome == "hidden"
    assert fresh(on_comment).resolved_at is None
    assert sorted(e.object_id for e in audit("report.resolve")) == [on_idea.id, on_idea_2.id]


def test_a_workshop_idea_has_no_author_to_tell(challenge, make_idea, moderator, mailbox):
    idea = make_idea(challenge, None, status="published", origin="workshop",
                     workshop_name="Stadtteilfest")  # fmt: skip
    services.hide_idea(moderator, idea, "duplicate")
    assert fresh(idea).status == "hidden" and mailbox.messages() == []
    assert len(audit("idea.hide")) == 1


def test_a_deleted_account_gets_no_mail(challenge, make_idea, author_de, moderator, mailbox):
    from consult.clock import now

    idea = make_idea(challenge, author_de)
    author_de.deleted_at = now()
    db.session.commit()
    services.publish_idea(moderator, idea)
    assert fresh(idea).status == "published" and mailbox.messages() == []


# --- comments ---------------------------------------------------------------------------


def test_hiding_a_comment_counts_it_out_audits_closes_reports_and_tells_its_author(
    challenge, make_idea, make_comment, make_report, author_de, author_en, reporter, moderator,
    mailbox,
):  # fmt: skip
    idea = make_idea(challenge, author_de, status="published")
    comment = make_comment(idea, author_en, body="Buy cheap watches!", language="en")
    make_comment(idea, author_de)
    assert fresh(idea).comment_count == 2
    report = make_report(idea, reporter, reason="advertising", comment=comment)

    services.hide_comment(moderator, comment, "advertising", "No ads, please.")

    comment = fresh(comment)
    assert comment.status == "hidden" and comment.moderation_reason == "advertising"
    assert comment.moderation_note == "No ads, please."
    assert comment.moderated_by_id == moderator.id
    assert fresh(idea).comment_count == 1
    assert fresh(report).outcome == "hidden"
    [entry] = audit("comment.hide")
    assert entry.object_id == comment.id and entry.details == {"reason": "advertising"}
    mail = mailbox.last_to("ben@example.org")
    assert mail["Subject"] == "Your comment has been hidden"
    assert "It is advertising or spam." in mailbox.text(mail)
    assert "No ads, please." in mailbox.text(mail)


def test_hiding_a_comment_twice_counts_it_out_once(
    challenge, make_idea, make_comment, author_de, author_en, moderator, mailbox
):
    idea = make_idea(challenge, author_de, status="published")
    comment = make_comment(idea, author_en)
    services.hide_comment(moderator, comment, "offensive")
    with pytest.raises(UserError) as raised:
        services.hide_comment(moderator, fresh(comment), "offensive")
    assert raised.value.status == 409
    assert fresh(idea).comment_count == 0
    assert len(audit("comment.hide")) == 1 and len(mailbox.to("ben@example.org")) == 1


def test_a_stale_second_hide_of_a_comment_does_not_count_it_out_again(
    challenge, make_idea, make_comment, author_de, author_en, moderator
):
    idea = make_idea(challenge, author_de, status="published")
    comment = make_comment(idea, author_en)
    assert comment.status == "published"  # loaded: what a second, older page believed
    _change_behind_the_session(Comment, comment.id, status="hidden")
    with pytest.raises(UserError) as raised:
        services.hide_comment(moderator, comment, "offensive")
    assert raised.value.status == 409
    assert fresh(idea).comment_count == 1 and audit("comment.hide") == []


def test_hiding_a_comment_with_an_unknown_reason_changes_nothing(
    challenge, make_idea, make_comment, author_de, author_en, moderator
):
    idea = make_idea(challenge, author_de, status="published")
    comment = make_comment(idea, author_en)
    with pytest.raises(UserError):
        services.hide_comment(moderator, comment, "whatever")
    assert fresh(comment).status == "published" and fresh(idea).comment_count == 1


# --- reports ----------------------------------------------------------------------------


def test_keeping_content_closes_all_open_reports_about_it(
    challenge, make_idea, make_report, author_de, reporter, moderator, make_user
):
    idea = make_idea(challenge, author_de, status="published")
    first = make_report(idea, reporter)
    second = make_report(idea, make_user(), reason="other", note="Ich weiß nicht")
    closed = services.resolve_report(moderator, first, "kept")
    assert closed == 2
    for report in (first, second):
        report = fresh(report)
        assert report.outcome == "kept" and report.resolved_by_id == moderator.id
        assert report.resolved_at is not None
    assert [e.details for e in audit("report.resolve")] == [{"outcome": "kept"}] * 2
    assert fresh(idea).status == "published"
    # Again (a double click): nothing more happens.
    assert services.resolve_report(moderator, fresh(first), "kept") == 0
    assert len(audit("report.resolve")) == 2


def test_closing_as_hidden_needs_hidden_content_and_keeping_needs_visible_content(
    challenge, make_idea, make_report, author_de, reporter, moderator
):
    idea = make_idea(challenge, author_de, status="published")
    report = make_report(idea, reporter)
    with pytest.raises(UserError) as raised:
        services.resolve_report(moderator, report, "hidden")
    assert raised.value.status == 409 and fresh(report).resolved_at is None

    # Hidden by a decision that came before this report.
    db.session.execute(update(Idea).where(Idea.id == idea.id).values(status="hidden"))
    db.session.commit()
    report = fresh(report)
    with pytest.raises(UserError):
        services.resolve_report(moderator, report, "kept")
    assert services.resolve_report(moderator, report, "hidden") == 1
    assert fresh(report).outcome == "hidden"


@pytest.mark.parametrize("outcome", ["", "deleted", "KEPT", None])
def test_an_unknown_outcome_is_refused(
    challenge, make_idea, make_report, author_de, reporter, moderator, outcome
):
    idea = make_idea(challenge, author_de, status="published")
    report = make_report(idea, reporter)
    with pytest.raises(UserError) as raised:
        services.resolve_report(moderator, report, outcome)
    assert raised.value.status == 400
    assert fresh(report).resolved_at is None and audit() == []


# --- the queue --------------------------------------------------------------------------


def test_the_queue_holds_submitted_ideas_by_challenge_and_reported_content(
    make_challenge, make_idea, make_comment, make_report, author_de, author_en, reporter,
    make_user,
):  # fmt: skip
    parks = make_challenge(title_de="Parks", title_en="Parks")
    traffic = make_challenge(title_de="Verkehr", title_en="Traffic")
    a = make_idea(parks, author_de, title="A")
    b = make_idea(traffic, author_en, title="B", language="en")
    c = make_idea(parks, author_en, title="C")
    for status in ("draft", "published", "hidden", "withdrawn"):
        make_idea(parks, author_de, status=status, title=status)
    reported = make_idea(traffic, author_de, status="published", title="reported")
    comment = make_comment(reported, author_en)
    make_report(reported, reporter)
    make_report(reported, make_user())
    make_report(reported, reporter, comment=comment)
    closed = make_report(reported, make_user(), reason="other")
    closed.resolved_at, closed.outcome = closed.created_at, "kept"
    db.session.commit()

    queue = services.moderation_queue()
    assert [(ch.id, [i.title for i in ideas]) for ch, ideas in queue.pending] == [
        (parks.id, ["A", "C"]),
        (traffic.id, ["B"]),
    ]
    assert {i.id for _ch, ideas in queue.pending for i in ideas} == {a.id, b.id, c.id}
    assert [(item.kind, len(item.reports)) for item in queue.reported] == [
        ("idea", 2),
        ("comment", 1),
    ]
    assert queue.reported[1].target.id == comment.id
    assert (queue.pending_total, queue.reported_total, queue.waiting) == (3, 2, 5)
    assert services.open_report_count() == 3


def test_post_moderation_publishes_on_submit_and_reports_bring_it_to_the_queue(
    make_challenge, make_idea, make_report, author_de, reporter, moderator, mailbox
):
    post = make_challenge(moderation="post")
    idea = make_idea(post, author_de, status="draft")
    ideas.submit_idea(author_de, idea)
    assert fresh(idea).status == "published"
    assert services.moderation_queue().waiting == 0

    ideas.report_content(reporter, fresh(idea), "offensive", "Beleidigend")
    queue = services.moderation_queue()
    assert queue.pending == [] and [i.idea.id for i in queue.reported] == [idea.id]

    services.hide_idea(moderator, fresh(idea), "offensive")
    assert fresh(idea).status == "hidden"
    assert services.moderation_queue().waiting == 0
    assert count(Report, Report.outcome == "hidden") == 1
    assert plain(HIDE_REASONS["offensive"], "de") in mailbox.text(
        mailbox.last_to("anna@example.org")
    )
