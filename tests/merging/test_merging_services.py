"""Merging a duplicate idea: votes, slots, comments, followers, paper votes, credit, mails."""

import pytest
from flask_babel import force_locale
from merging_support import (
    NOTE_DE,
    assert_consistent,
    count,
    merge,
    merge_world,
    says,
    used,
    vote,
    vote_rows,
)
from sqlalchemy import select

from consult.answers.models import IdeaAnswer
from consult.audit.models import AuditEntry
from consult.audit.sentences import describe_entries
from consult.clock import now
from consult.errors import UserError
from consult.events.room_ideas import credited_names
from consult.extensions import db
from consult.ideas.models import Comment, Idea, IdeaFollower, Report
from consult.jobs import Outbox
from consult.merging import services
from consult.notifications.models import NotificationSent
from consult.voting import services as votes
from consult.voting.models import PaperVoteEntry


def mails(template: str) -> list[list]:
    """(to, template, locale, context) of the queued mails with ``template``."""
    rows = db.session.scalars(select(Outbox).where(Outbox.job == "send_email").order_by(Outbox.id))
    return [row.args for row in rows if row.args[1] == template]


def test_votes_move_and_a_citizen_who_voted_for_both_gets_a_slot_back(app, make_user):
    w = merge_world(make_user, budget=3)
    both, only_source, only_target = make_user(), make_user(), make_user()
    for user, ideas in ((both, [w.source, w.target, w.other]), (only_source, [w.source]),
                        (only_target, [w.target])):  # fmt: skip
        for idea in ideas:
            vote(user, idea)
    assert used(w.challenge, both) == 3

    result = merge(w)

    assert result.target.id == w.target.id
    assert (result.preview.votes_moved, result.preview.votes_released) == (1, 1)
    assert vote_rows(w.source.id) == []
    assert vote_rows(w.target.id) == sorted([both.id, only_source.id, only_target.id])
    assert used(w.challenge, both) == 2  # one slot back: the budget of 3 allows one more vote
    assert used(w.challenge, only_source) == 1
    db.session.expire_all()
    assert (w.source.vote_count, w.target.vote_count) == (0, 3)
    assert_consistent()
    # The freed slot can be used at once, and the moved vote is withdrawn on the target.
    fourth = votes.cast_vote(both, w.challenge, w.other.id)
    assert fourth.used == 2  # already had "other": idempotent
    votes.withdraw_vote(only_source, w.challenge, w.target.id)
    assert used(w.challenge, only_source) == 0
    assert_consistent()


def test_a_vote_for_the_merged_idea_is_refused_and_changes_nothing(app, make_user):
    w = merge_world(make_user)
    citizen = make_user()
    merge(w)
    with pytest.raises(UserError) as refused:
        vote(citizen, w.source)
    assert refused.value.status == 409
    assert refused.value.message == says(
        "This idea has been merged into another one. Please vote for that idea."
    )
    assert used(w.challenge, citizen) == 0
    assert_consistent()


def test_a_full_budget_stays_within_the_budget(app, make_user):
    w = merge_world(make_user, budget=2)
    citizen = make_user()
    vote(citizen, w.source)
    vote(citizen, w.target)
    with pytest.raises(UserError):
        vote(citizen, w.other)
    merge(w)
    assert used(w.challenge, citizen) == 1
    vote(citizen, w.other)  # the slot that came back
    assert used(w.challenge, citizen) == 2
    assert_consistent()


def test_budget_zero_one_vote_per_idea_still_counts_exactly(app, make_user):
    w = merge_world(make_user, budget=0)
    citizens = [make_user() for _ in range(3)]
    for c in citizens:
        vote(c, w.source)
    vote(citizens[0], w.target)
    merge(w)
    assert [used(w.challenge, c) for c in citizens] == [1, 1, 1]
    assert_consistent()


def test_comments_and_their_reports_move_and_the_counts_follow_the_rows(app, make_user):
    w = merge_world(make_user)
    reader = make_user()
    shown = Comment(idea_id=w.source.id, author_id=reader.id, body="Gute Idee")
    hidden = Comment(idea_id=w.source.id, author_id=reader.id, body="weg", status="hidden")
    kept = Comment(idea_id=w.target.id, author_id=reader.id, body="Ja")
    db.session.add_all([shown, hidden, kept])
    db.session.flush()
    report = Report(reporter_id=w.target_author.id, idea_id=w.source.id, comment_id=shown.id,
                    reason="spam")  # fmt: skip
    db.session.add(report)
    w.source.comment_count, w.target.comment_count = 1, 1
    db.session.commit()

    merge(w)

    db.session.expire_all()
    assert count(Comment, Comment.idea_id == w.target.id) == 3
    assert count(Comment, Comment.idea_id == w.source.id) == 0
    assert (w.source.comment_count, w.target.comment_count) == (0, 2)
    assert db.session.get(Report, report.id).idea_id == w.target.id


def test_followers_move_once_each(app, make_user):
    w = merge_world(make_user)
    fan, both = make_user(), make_user()
    db.session.add_all([
        IdeaFollower(idea_id=w.source.id, user_id=fan.id),
        IdeaFollower(idea_id=w.source.id, user_id=both.id),
        IdeaFollower(idea_id=w.target.id, user_id=both.id),
    ])  # fmt: skip
    db.session.commit()
    assert services.preview_merge(w.source, w.target).followers == 1
    merge(w)
    followers = sorted(db.session.scalars(select(IdeaFollower.user_id).where(
        IdeaFollower.idea_id == w.target.id)))  # fmt: skip
    assert followers == sorted([fan.id, both.id])
    assert count(IdeaFollower, IdeaFollower.idea_id == w.source.id) == 0


def test_paper_votes_move_with_who_entered_them(app, make_user):
    w = merge_world(make_user, count_paper_votes=True)
    entry = PaperVoteEntry(idea_id=w.source.id, count=12, event_name="Stadtteilfest",
                           entered_by_id=w.staff.id)  # fmt: skip
    db.session.add(entry)
    db.session.add(PaperVoteEntry(idea_id=w.target.id, count=3, event_name="Markt"))
    db.session.commit()
    entered_at = entry.entered_at

    result = merge(w)

    assert result.preview.paper_votes == 12
    db.session.expire_all()
    moved = db.session.get(PaperVoteEntry, entry.id)
    assert (moved.idea_id, moved.count, moved.entered_by_id) == (w.target.id, 12, w.staff.id)
    assert moved.entered_at == entered_at
    assert votes.paper_vote_total(w.target.id) == 15
    assert votes.paper_vote_total(w.source.id) == 0
    assert votes.counted_votes(w.challenge) == {w.target.id: 15, w.other.id: 0}


def test_both_authors_are_credited_and_earlier_duplicates_follow_without_chains(app, make_user):
    w = merge_world(make_user)
    carol = make_user(pseudonym="Carol")
    older = Idea(challenge_id=w.challenge.id, author_id=carol.id, title="Bäume!", status="merged",
                 merged_into_id=w.source.id)  # fmt: skip
    db.session.add(older)
    db.session.commit()
    assert credited_names(w.source) == ["Alice", "Carol"]

    merge(w)

    db.session.expire_all()
    assert w.source.status == "merged" and w.source.merged_into_id == w.target.id
    assert older.merged_into_id == w.target.id
    assert credited_names(w.target) == ["Bob", "Alice", "Carol"]
    assert services.merged_target(w.source.id) == w.target.id
    assert services.merged_target(older.id) == w.target.id


def test_the_answer_the_audit_entry_and_the_mails(app, make_user):
    w = merge_world(make_user)
    voter, fan = make_user(locale="en"), make_user()
    vote(voter, w.source)
    vote(w.source_author, w.source)  # the author voted too: told once, by the author's mail
    db.session.add(IdeaFollower(idea_id=w.source.id, user_id=fan.id))
    db.session.commit()

    merge(w, note_en="")

    answer = db.session.get(IdeaAnswer, w.source.id)
    assert (answer.state, answer.department, answer.answered_by_id) == (
        "merged", "Grünflächenamt", w.staff.id)  # fmt: skip
    assert NOTE_DE in answer.html_de and answer.text_en == ""
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "idea.merge"))
    assert entry.object_id == w.source.id and entry.actor_id == w.staff.id
    assert entry.details["idea"] == w.target.id
    assert entry.details["votes_moved"] == 2 and entry.details["votes_released"] == 0
    with app.test_request_context("/"):
        [(_entry, sentence)] = describe_entries([entry])
    assert "Mehr Bäume am Markt" in sentence and "Bäume für den Marktplatz" in sentence

    ((to, _template, locale, context),) = mails("idea_merged")
    assert (to, locale) == ("alice@example.org", "de")
    assert context["note"] == NOTE_DE and context["department"] == "Grünflächenamt"
    assert context["url"].endswith(f"/ideas/{w.target.id}")
    told = {args[0]: args for args in mails("idea_merged_follower")}
    assert sorted(told) == sorted([voter.email, fan.email])
    # No English note: the English reader gets the German one rather than nothing.
    assert told[voter.email][2] == "en" and told[voter.email][3]["note"] == NOTE_DE
    assert count(NotificationSent, NotificationSent.kind == "merged") == 2


def test_the_mails_render_in_both_languages(app, make_user, mailbox):
    w = merge_world(make_user)
    fan = make_user(locale="en", email="fan@example.org")
    db.session.add(IdeaFollower(idea_id=w.source.id, user_id=fan.id))
    db.session.commit()
    merge(w)
    author_mail = mailbox.last_to("alice@example.org")
    assert "Mehr Bäume am Markt" in mailbox.text(author_mail)
    assert NOTE_DE in mailbox.text(author_mail)
    fan_mail = mailbox.last_to("fan@example.org")
    assert "Both ideas ask for more trees" in mailbox.text(fan_mail)
    assert fan_mail["List-Unsubscribe"]


def test_a_workshop_idea_without_an_account_is_merged_without_a_mail(app, make_user):
    w = merge_world(make_user)
    merge(w, source=w.other)
    assert mails("idea_merged") == []
    assert db.session.get(Idea, w.other.id).status == "merged"


def test_ideas_merged_at_different_times_credit_everyone(app, make_user):
    w = merge_world(make_user)
    merge(w)
    merge(w, source=w.other)
    with force_locale("en"):
        names = credited_names(db.session.get(Idea, w.target.id))
    assert names == ["Bob", "Alice", "anonymous"]
    assert_consistent()


def test_nothing_is_written_when_the_note_is_missing(app, make_user):
    w = merge_world(make_user)
    with pytest.raises(UserError) as refused:
        merge(w, note_de="", note_en="", department="")
    assert set(refused.value.errors) == {"department"}
    with pytest.raises(UserError) as refused:
        merge(w, note_de=" ", note_en="")
    assert refused.value.field == "note_de"
    db.session.expire_all()
    assert w.source.status == "published"
    assert count(AuditEntry, AuditEntry.action == "idea.merge") == 0
    assert db.session.get(IdeaAnswer, w.source.id) is None


def test_the_redirect_target_of_a_published_idea_is_none(app, make_user):
    w = merge_world(make_user)
    assert services.merged_target(w.source.id) is None
    assert services.merged_target(10**12) is None
    assert now()  # the clock runs


def test_event_votes_move_and_a_participant_with_dots_on_both_keeps_one(app):
    """A live event taken into the challenge: its round's dots count as event votes. Merging
    one of its ideas into the other moves the dots; a participant who gave both a dot keeps
    one and the round ballot gets the other back; nobody is counted twice."""
    from events.intake_support import evening
    from events.round_support import assert_ballots_match_rows

    from consult.events import intake
    from consult.events.models import RoundVote

    w = evening()
    intake.import_event(w["event"], w["staff"], w["round"].id)
    a, b, challenge = w["a"], w["b"], w["challenge"]
    db.session.expire_all()
    assert votes.event_vote_totals(challenge) == {a.id: 2, b.id: 2}

    result = services.merge_idea(w["staff"], b, a.id, "Bürgeramt", NOTE_DE, "")

    assert result.preview.event_votes == 2
    assert count(RoundVote, RoundVote.idea_id == b.id) == 0
    assert votes.event_vote_totals(challenge) == {a.id: 2}
    assert votes.counted_votes(challenge)[a.id] == 3  # Cem's online vote, Anna's and Ben's dots
    assert_ballots_match_rows()
    assert votes.check_round_ballots() == []
    assert_consistent()
