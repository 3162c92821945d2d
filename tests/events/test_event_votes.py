"""Event votes: counted from the imported round's rows, shown apart, never twice."""

from flask_babel import force_locale, ngettext
from intake_support import evening
from markupsafe import escape
from sqlalchemy import select
from testdata import html, says

from consult.events import intake
from consult.events.models import RoundBallot
from consult.extensions import db
from consult.ideas.models import Idea
from consult.ideas.services import list_ideas
from consult.results import exports
from consult.results.services import participation_figures
from consult.voting import services
from consult.voting.models import PaperVoteEntry


def imported(count_paper_votes=True):
    w = evening(count_paper_votes=count_paper_votes)
    # Paper votes for b from a workshop, to see all three parts side by side.
    db.session.add(PaperVoteEntry(idea_id=w["b"].id, count=40, event_name="Klimafest"))
    db.session.commit()
    intake.import_event(w["event"], w["staff"], w["round"].id)
    db.session.expire_all()
    return w


def test_counted_everywhere_the_paper_votes_are(app):
    w = imported()
    a, b, online = w["a"].id, w["b"].id, w["online"].id
    challenge = w["challenge"]
    assert services.event_vote_totals(challenge) == {a: 2, b: 2}
    # The ranking, the jury's snapshot and the shortlist read these.
    assert services.counted_votes_for(challenge, [a, b, online]) == {a: 3, b: 42, online: 0}
    assert services.counted_votes(challenge) == {a: 3, b: 42, online: 0}
    # The list sorted by votes: b (42) before a (3) before the online idea (0).
    page = list_ideas(challenge, sort="votes")
    assert [(item.idea.id, item.votes) for item in page.items] == [(b, 42), (a, 3), (online, 0)]
    board = {line.idea.id: line for line in services.paper_vote_board(challenge)}
    assert (board[b].paper, board[b].event, board[b].total) == (40, 2, 42)
    figures = participation_figures(challenge)
    assert (figures.votes, figures.online_votes, figures.paper_votes, figures.event_votes) == (
        45, 1, 40, 4,
    )  # fmt: skip
    rows = {row["idea_id"]: row for row in exports._rows(challenge.id, True, {})}
    assert "votes_event" in exports.COLUMNS
    assert (rows[b]["votes_paper"], rows[b]["votes_event"], rows[b]["votes_total"]) == (40, 2, 42)
    assert (rows[a]["votes_online"], rows[a]["votes_event"], rows[a]["votes_total"]) == (1, 2, 3)
    assert rows[a]["origin"] == "event"


def test_shown_but_not_counted_when_the_challenge_does_not_count_offline_votes(app):
    w = imported(count_paper_votes=False)
    challenge = w["challenge"]
    idea = db.session.get(Idea, w["b"].id)
    tally = services.vote_tally(idea)
    assert (tally.online, tally.paper, tally.event, tally.total) == (0, 40, 2, 0)
    assert "40" in tally.uncounted and "2" in tally.uncounted
    assert services.counted_votes_for(challenge, [idea.id]) == {idea.id: 0}
    assert [item.votes for item in list_ideas(challenge, sort="votes").items] == [1, 0, 0]
    row = next(r for r in exports._rows(challenge.id, False, {}) if r["idea_id"] == idea.id)
    assert (row["votes_event"], row["votes_total"]) == (2, 0)


ALL_PARTS = "%(num)d votes: %(online)d online, %(paper)d on paper, %(event)d at events"


def plural(text: str, num: int, locale: str = "de", **kwargs) -> str:
    """A plural sentence as a page shows it (the singular is "%(num)d vote…")."""
    with force_locale(locale):
        return str(escape(ngettext(text.replace("votes", "vote", 1), text, num, **kwargs)))


def test_the_tally_names_only_the_parts_there_are(app):
    with app.test_request_context("/"):
        assert services.VoteTally(12, 40, True, 32).detail == plural(
            ALL_PARTS, 84, online=12, paper=40, event=32
        )
        assert services.VoteTally(12, 0, True, 32).detail == plural(
            "%(num)d votes: %(online)d online, %(event)d at events", 44, online=12, event=32
        )
        # Without event votes the sentence is the paper votes' one, as before.
        assert services.VoteTally(12, 40, True).detail == plural(
            "%(num)d votes: %(online)d online, %(paper)d on paper", 52, online=12, paper=40
        )


def test_the_idea_page_shows_the_origin_the_names_and_the_parts(app, client):
    w = imported()
    for locale in ("de", "en"):
        page = client.get(f"/ideas/{w['b'].id}", headers={"Accept-Language": locale})
        assert page.status_code == 200
        text = html(page)
        assert says("From the event %(name)s", locale, name="Helpathon Nord") in text
        assert "Ben" in text
        assert plural(ALL_PARTS, 42, locale, online=0, paper=40, event=2) in text


def test_the_check_leaves_event_votes_alone_and_finds_drifted_round_ballots(app):
    w = imported()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["votes", "check"])
    assert result.exit_code == 0, result.output  # event votes are no drift
    ballot = db.session.scalar(
        select(RoundBallot).where(RoundBallot.round_id == w["round"].id).limit(1)
    )
    ballot.used += 1
    db.session.commit()
    key, used = (ballot.round_id, ballot.participant_id), ballot.used
    [(round_id, participant_id, cached, rows)] = services.check_round_ballots()
    assert ((round_id, participant_id), cached, rows) == (key, used, used - 1)
    result = runner.invoke(args=["votes", "check", "--repair"])
    assert result.exit_code == 1 and "(repaired)" in result.output
    assert f"round ballot round {key[0]} participant {key[1]}: cached used {used}" in result.output
    assert services.check_round_ballots() == []


def test_a_citizen_who_left_the_event_or_deleted_the_account_still_counts_once(app):
    """Cem voted for a online and in the room. Leaving the event, and then deleting the
    account, take his name away but never make his room vote count a second time."""
    from consult.accounts import services as accounts
    from consult.accounts.passwords import hash_password
    from consult.events import services as events
    from consult.events.models import EventParticipant

    w = imported()
    a = w["a"].id
    cem = db.session.scalar(select(EventParticipant).where(EventParticipant.user_id == w["cem"].id))
    events.leave_event(cem)
    assert services.counted_votes_for(w["challenge"], [a]) == {a: 3}
    w["cem"].password_hash = hash_password("a long and lovely passphrase")
    db.session.commit()
    accounts.delete_account(w["cem"], "a long and lovely passphrase")
    db.session.expire_all()
    assert services.counted_votes_for(w["challenge"], [a]) == {a: 3}
    assert services.event_vote_totals(w["challenge"])[a] == 2
