"""Votes of a hidden idea (issue 10, item 1).

While voting runs, hiding an idea releases its votes: the rows go, every voter's ballot gets
the slot back, each voter is mailed in their language, and the hide is audited with the
number released. After voting has closed a hide touches no vote. Re-publishing starts from
0 online votes (paper votes stay). The ranking, the open data and ``flask votes check``
follow the same rule. The race with concurrent votes is in test_voting_concurrency.py.
"""

import json
from datetime import timedelta

import pytest
from flask_babel import force_locale, ngettext
from jury.jury_support import jury_world
from jury.jury_support import make_idea as make_ranked_idea
from markupsafe import escape
from results.results_support import publish_past_embargo
from sqlalchemy import func, select, update
from voting_support import (
    DAY,
    assert_caches_match_rows,
    count_parts,
    make_challenge,
    make_idea,
    says,
    tr,
)

from consult import jobs
from consult.audit.models import AuditEntry
from consult.clock import now, travel
from consult.errors import UserError
from consult.extensions import db
from consult.ideas.models import Idea
from consult.jury.freezing import freeze_results, get_snapshot
from consult.moderation.services import HIDE_REASONS, hide_idea, publish_idea
from consult.results import exports
from consult.voting import services
from consult.voting.models import Ballot, PaperVoteEntry, Vote

KEPT = (
    "The moderators hid this idea after voting had closed. Your vote was cast in time and is kept."
)


@pytest.fixture
def world(app, make_user):
    challenge = make_challenge(budget=2)
    author = make_user(email="anna@example.org", pseudonym="Anna")
    ideas = [make_idea(challenge, author=author, title=f"Idee {n}") for n in range(3)]
    people = {
        "vera": make_user(email="vera@example.org", pseudonym="Vera", locale="de"),
        "eric": make_user(email="eric@example.org", pseudonym="Eric", locale="en"),
        "gone": make_user(email="gone@example.org", pseudonym="Gone"),
        "mod": make_user(roles=("citizen", "moderator"), pseudonym="Moderatorin"),
    }
    return challenge, ideas, people


def rows(idea_id: int) -> int:
    return db.session.scalar(select(func.count()).select_from(Vote).where(Vote.idea_id == idea_id))


def used(challenge, user) -> int:
    db.session.expire_all()
    ballot = db.session.get(Ballot, {"challenge_id": challenge.id, "user_id": user.id})
    return ballot.used if ballot else 0


def audit(action: str) -> list[AuditEntry]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
        )
    )


def released_jobs() -> list[jobs.Outbox]:
    return [
        row
        for row in db.session.scalars(select(jobs.Outbox).order_by(jobs.Outbox.id))
        if row.job == "send_email" and row.args[1] == "vote_released"
    ]


# --- while voting runs --------------------------------------------------------------------


def test_hiding_while_voting_runs_gives_every_voter_the_slot_back_and_tells_them(
    app, world, mailbox
):
    challenge, (a, b, c), people = world
    vera, eric, gone = people["vera"], people["eric"], people["gone"]
    services.cast_vote(vera, challenge, a.id)
    services.cast_vote(vera, challenge, b.id)  # Vera's budget of 2 is spent
    services.cast_vote(eric, challenge, a.id)
    services.cast_vote(gone, challenge, a.id)
    gone.deleted_at = now()  # an anonymised account: its vote is released, nobody is mailed
    db.session.commit()
    with pytest.raises(UserError) as refused:
        services.cast_vote(vera, challenge, c.id)
    assert refused.value.status == 409

    hide_idea(people["mod"], a, "advertising")

    db.session.expire_all()
    assert rows(a.id) == 0 and db.session.get(Idea, a.id).vote_count == 0
    assert rows(b.id) == 1 and db.session.get(Idea, b.id).vote_count == 1
    assert (used(challenge, vera), used(challenge, eric), used(challenge, gone)) == (1, 0, 0)
    assert_caches_match_rows()
    [entry] = audit("idea.hide")
    assert entry.details == {"reason": "advertising", "votes_released": 3}

    # One mail job per voter with an account, in their language, with the challenge's link.
    assert sorted(row.args[0] for row in released_jobs()) == [
        "eric@example.org",
        "vera@example.org",
    ]
    assert mailbox.to("gone@example.org") == []
    german, english = mailbox.last_to("vera@example.org"), mailbox.last_to("eric@example.org")
    assert german["Subject"] == tr("Your vote is free again")
    assert english["Subject"] == "Your vote is free again"
    assert german["Content-Language"] == "de" and english["Content-Language"] == "en"
    challenge_url = f"http://localhost/challenges/{challenge.id}"
    assert mailbox.link(german, "/challenges/") == challenge_url
    assert mailbox.link(english, "/challenges/") == challenge_url
    text = mailbox.text(english)
    assert "Idee 0" in text and "Vote" in text  # the idea and the challenge, by name
    with force_locale("en"):
        assert str(HIDE_REASONS["advertising"]) in text  # the reason, in English
    assert tr("Your vote is free again: you can give it to another idea while voting runs.") in (
        mailbox.text(german)
    )
    assert mailbox.last_to("anna@example.org")  # the author is told as before

    # A job run a second time sends nothing more (the outbox row is done).
    sent = len(mailbox.messages())
    assert {jobs.run_outbox(row.id) for row in released_jobs()} == {"skipped"}
    assert len(mailbox.messages()) == sent

    # The freed slot can be used at once.
    services.cast_vote(vera, challenge, c.id)
    assert used(challenge, vera) == 2
    assert_caches_match_rows()


def test_hiding_an_idea_without_votes_releases_nothing_and_says_so(app, world, mailbox):
    challenge, (a, _b, _c), people = world
    hide_idea(people["mod"], a, "off_topic")
    [entry] = audit("idea.hide")
    assert entry.details == {"reason": "off_topic", "votes_released": 0}
    assert released_jobs() == []


def test_a_hidden_idea_refuses_votes_and_my_votes_no_longer_lists_it(app, client, login, world):
    challenge, (a, b, _c), people = world
    vera = people["vera"]
    services.cast_vote(vera, challenge, a.id)
    services.cast_vote(vera, challenge, b.id)
    hide_idea(people["mod"], a, "advertising")
    login(vera)
    html = client.get("/my/votes").get_data(as_text=True)
    assert f'href="/ideas/{a.id}"' not in html and f'href="/ideas/{b.id}"' in html
    assert says("%(left)d of %(budget)d votes left", left=1, budget=2) in html
    response = client.post_form(f"/challenges/{challenge.id}/vote", {"idea": a.id})
    assert response.status_code == 409
    assert says("This idea has been hidden by moderation and cannot receive votes.") in (
        response.get_data(as_text=True)
    )
    assert rows(a.id) == 0 and used(challenge, vera) == 1


def test_republishing_starts_with_no_online_votes_and_keeps_paper_votes(
    app, client, world, make_user
):
    challenge, (a, _b, _c), people = world
    services.cast_vote(people["vera"], challenge, a.id)
    services.cast_vote(people["eric"], challenge, a.id)
    db.session.add(PaperVoteEntry(idea_id=a.id, count=5, event_name="Stadtteilfest"))
    db.session.commit()
    moderator = people["mod"]
    hide_idea(moderator, a, "duplicate")
    publish_idea(moderator, db.session.get(Idea, a.id))
    db.session.expire_all()
    idea = db.session.get(Idea, a.id)
    assert idea.status == "published" and idea.vote_count == 0 and rows(a.id) == 0
    assert services.paper_vote_total(a.id) == 5
    html = client.get(f"/ideas/{a.id}").get_data(as_text=True)
    assert count_parts(5, 0, 5) in html  # "5 Stimmen: 0 online, 5 auf Papier"
    assert_caches_match_rows()


# --- after voting has closed --------------------------------------------------------------


def test_hiding_after_voting_closed_keeps_the_votes_and_my_votes_says_so_truthfully(
    app, client, login, world, mailbox
):
    challenge, (a, b, _c), people = world
    vera = people["vera"]
    services.cast_vote(vera, challenge, a.id)
    services.cast_vote(vera, challenge, b.id)
    with travel(6 * DAY):  # voting closed yesterday
        hide_idea(people["mod"], a, "personal_data")
        [entry] = audit("idea.hide")
        assert entry.details == {"reason": "personal_data"}  # no votes were released
        assert rows(a.id) == 1 and used(challenge, vera) == 2
        assert released_jobs() == [] and mailbox.to("vera@example.org") == []
        assert services.counted_votes_for(challenge, [a.id]) == {a.id: 1}
        assert services.check_released_votes() == []

        login(vera)
        html = client.get("/my/votes").get_data(as_text=True)
        assert says(KEPT) in html
        assert "Idee 0" not in html  # a hidden idea's title is not shown again
        assert says("Hidden idea") in html and f'href="/ideas/{b.id}"' in html
        assert says("Voting has closed; votes can no longer be withdrawn.") in html
        assert "/unvote" not in html  # no withdraw after voting closed
    assert_caches_match_rows()


# --- flask votes check ----------------------------------------------------------------------


def test_votes_check_finds_and_releases_votes_left_on_an_idea_hidden_while_voting_ran(
    app, world, mailbox
):
    challenge, (a, b, _c), people = world
    vera, eric = people["vera"], people["eric"]
    services.cast_vote(vera, challenge, a.id)
    services.cast_vote(eric, challenge, a.id)
    services.cast_vote(eric, challenge, b.id)
    # A hide from before the fix: the idea hidden, its votes left in place.
    db.session.execute(
        update(Idea).where(Idea.id == a.id).values(status="hidden", moderated_at=now())
    )
    db.session.commit()
    runner = app.test_cli_runner()

    result = runner.invoke(args=["votes", "check"])
    assert result.exit_code == 1, result.output
    assert f"idea {a.id}: hidden while voting ran, still holds 2 vote(s)" in result.output
    assert "(found)" in result.output
    assert rows(a.id) == 2  # a check alone changes nothing

    result = runner.invoke(args=["votes", "check", "--repair"])
    assert result.exit_code == 1 and "(repaired)" in result.output
    assert rows(a.id) == 0 and (used(challenge, vera), used(challenge, eric)) == (0, 1)
    [entry] = audit("votes.release")
    assert entry.object_id == a.id and entry.details == {"votes_released": 2}
    assert mailbox.last_to("vera@example.org")["Subject"] == tr("Your vote is free again")
    assert mailbox.last_to("eric@example.org")["Subject"] == "Your vote is free again"

    result = runner.invoke(args=["votes", "check"])
    assert result.exit_code == 0, result.output
    assert "No idea hidden while voting ran holds votes." in result.output
    assert_caches_match_rows()


# --- the ranking, the open data and the check agree ------------------------------------------


def test_the_ranking_the_open_data_and_votes_check_count_hidden_ideas_alike(app, make_user):
    """One idea hidden while voting ran (released: 0 everywhere), one shortlisted idea hidden
    after voting closed (kept: the same votes in the ranking and in the open data)."""
    w = jury_world(make_user)
    challenge = w.challenge
    kept = w.ideas[2]  # shortlisted, 0 paper votes
    released = make_ranked_idea(challenge, "Werbung")
    other = make_ranked_idea(challenge, "Parkbänke")
    moderator = make_user(roles=("citizen", "moderator"))
    voters = [make_user() for _ in range(4)]
    with travel(-5 * DAY):  # voting still ran then
        for voter in voters:
            services.cast_vote(voter, challenge, released.id)
            services.cast_vote(voter, challenge, kept.id)
        services.cast_vote(voters[0], challenge, other.id)
        hide_idea(moderator, released, "advertising")
    hide_idea(moderator, db.session.get(Idea, kept.id), "personal_data")  # after voting closed
    freeze_results(w.staff, challenge)
    w.extra["press"] = make_user(roles=("press",))
    announcement = publish_past_embargo(w)

    db.session.expire_all()
    document = json.loads(get_snapshot(challenge).document)
    ranked_votes = {entry["id"]: entry["votes"] for entry in document["ideas"]}
    export = exports.export_ideas(challenge, announcement, "json")
    exported = json.loads(b"".join(export.chunks))["ideas"]
    by_id = {row["idea_id"]: row for row in exported}

    assert rows(released.id) == 0 and released.id not in by_id and released.id not in ranked_votes
    assert ranked_votes[kept.id] == 4 and by_id[kept.id]["votes_total"] == 4
    for idea_id, votes in ranked_votes.items():  # every ranked idea, with the same votes
        assert by_id[idea_id]["votes_total"] == votes, idea_id
    for idea_id, row in by_id.items():  # the online votes are the rows
        assert row["votes_online"] == rows(idea_id), idea_id
    assert by_id[other.id]["votes_online"] == 1
    assert services.check_released_votes() == []
    assert services.check_vote_counts() == [] and services.check_ballots() == []


def test_after_voting_closed_no_votes_move(app, world):
    """A hide one second after the close leaves the rows as they are."""
    challenge, (a, _b, _c), people = world
    services.cast_vote(people["vera"], challenge, a.id)
    with travel(challenge.voting_closes_at - now() + timedelta(seconds=1)):
        hide_idea(people["mod"], a, "other")
    assert rows(a.id) == 1 and audit("idea.hide")[0].details == {"reason": "other"}


def test_the_moderator_is_told_how_many_votes_went_back(app, client, login, world):
    challenge, (a, _b, _c), people = world
    services.cast_vote(people["vera"], challenge, a.id)
    services.cast_vote(people["eric"], challenge, a.id)
    login(people["mod"])
    response = client.post_form(
        f"/moderation/ideas/{a.id}/hide", {"reason": "advertising", "note": ""}
    )
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert says("The idea is hidden, and its author has been told why.") in html
    with force_locale("de"):
        told = ngettext(
            "%(num)d vote went back to its voter, who is told by e-mail.",
            "%(num)d votes went back to their voters, who are told by e-mail.",
            2,
        )
    assert str(escape(told)) in html
    assert rows(a.id) == 0


def test_an_author_withdrawing_while_voting_runs_gives_the_votes_back(app, world, mailbox):
    from consult.ideas.services import withdraw_idea

    challenge, (a, b, _c), people = world
    # Submission and voting overlap, so the author may still take the idea back.
    challenge.submission_closes_at = now() + DAY
    db.session.commit()
    vera, eric = people["vera"], people["eric"]
    services.cast_vote(vera, challenge, a.id)
    services.cast_vote(vera, challenge, b.id)
    services.cast_vote(eric, challenge, a.id)

    withdraw_idea(db.session.get(type(people["vera"]), a.author_id), a)

    db.session.expire_all()
    assert db.session.get(Idea, a.id).status == "withdrawn"
    assert rows(a.id) == 0 and db.session.get(Idea, a.id).vote_count == 0
    assert (used(challenge, vera), used(challenge, eric)) == (1, 0)
    assert_caches_match_rows()
    assert sorted(row.args[0] for row in released_jobs()) == [
        "eric@example.org",
        "vera@example.org",
    ]
    english = mailbox.text(mailbox.last_to("eric@example.org"))
    assert "Its author has withdrawn this idea." in english
    assert "moderators" not in english
    german = mailbox.text(mailbox.last_to("vera@example.org"))
    assert tr("Your vote is free again: you can give it to another idea while voting runs.") in (
        german
    )
    with pytest.raises(UserError) as refused:
        services.cast_vote(eric, challenge, a.id)
    assert refused.value.status == 404  # a withdrawn idea is gone from the challenge
