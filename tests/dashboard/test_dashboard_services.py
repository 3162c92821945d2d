"""The dashboard's figures, exact on a small world with known numbers (dashboard_support)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from dashboard_support import NOW, known_world, make_challenge, utc

from consult.clock import frozen
from consult.dashboard import charts, services
from consult.districts import District
from consult.extensions import db
from consult.i18n import force_locale


@pytest.fixture
def world(app, make_user):
    with frozen(NOW):
        yield known_world(make_user)


def dashboard_of(challenge, locale="de"):
    with force_locale(locale):
        return services.challenge_dashboard(challenge, locale)


def test_totals(world):
    d = dashboard_of(world.challenge)
    assert d.registrations == 4  # the staff account came before submission opened
    assert d.participants == 4  # c4 only commented (hidden) and still took part
    assert d.ideas_submitted == 4  # the draft is not submitted
    assert d.ideas_published == 2
    assert d.comments == 1  # the hidden comment is not counted
    assert (d.online_votes, d.paper_votes, d.event_votes, d.votes) == (3, 7, 0, 10)
    assert d.unanswered == 1


def test_moderation_backlog_counts_and_ages(world):
    backlog = dashboard_of(world.challenge).backlog
    assert backlog.ideas_waiting == 2
    assert backlog.oldest_idea == timedelta(hours=48)
    assert backlog.median_idea == timedelta(hours=6)
    assert backlog.reports_open == 1
    assert backlog.oldest_report == timedelta(hours=24)


def test_per_berlin_day(world):
    rows = {row.day: row for row in dashboard_of(world.challenge).by_day}
    # Every day from the first to the last with activity, quiet ones as zeros.
    assert list(rows) == [date(2026, 6, day) for day in range(1, 11)]

    def day(n):
        r = rows[date(2026, 6, n)]
        return (r.registrations, r.ideas, r.comments, r.online_votes, r.paper_votes, r.event_votes)

    assert day(1) == (1, 0, 0, 0, 0, 0)
    assert day(2) == (1, 2, 0, 0, 0, 0)  # c2 at 23:30 UTC is 2 June in Berlin
    assert day(3) == (1, 0, 1, 0, 0, 0)
    assert day(4) == (0, 0, 0, 0, 0, 0)
    assert day(5) == (0, 0, 0, 1, 0, 0)
    assert day(6) == (0, 0, 0, 2, 0, 0)
    assert day(7) == (0, 0, 0, 0, 5, 0)  # the sheet's date, not the day it was typed in
    assert day(8) == (0, 1, 0, 0, 2, 0)  # no sheet date: entered 22:00 Berlin
    assert day(9) == (1, 0, 0, 0, 0, 0)
    assert day(10) == (0, 1, 0, 0, 0, 0)


def test_by_district_with_population_and_participants(world, app):
    rows = {row.name: row for row in dashboard_of(world.challenge).by_district}
    assert list(rows) == ["Hörde", "Eving", "Mengede", "Nirgendwo"]
    hoerde, eving = rows["Hörde"], rows["Eving"]
    # c1 wrote, c2 and c3 voted for (c3 also commented on) Hörde's idea.
    assert (hoerde.ideas, hoerde.votes, hoerde.participants) == (1, 7, 3)
    assert hoerde.population == app.config["DISTRICT_POPULATION"]["Hörde"] == 57_000
    assert hoerde.per_thousand == Decimal("0.05")
    # Eving's own column (1,000) wins over the setting.
    assert (eving.ideas, eving.votes, eving.participants, eving.population) == (1, 3, 3, 1000)
    assert eving.per_thousand == Decimal("3.00")
    assert rows["Mengede"].participants == 0 and rows["Mengede"].per_thousand == Decimal("0.00")
    assert rows["Nirgendwo"].population is None and rows["Nirgendwo"].per_thousand is None


def test_by_category_in_the_locale(world):
    de = [(r.name, r.ideas, r.votes) for r in dashboard_of(world.challenge, "de").by_category]
    en = [(r.name, r.ideas, r.votes) for r in dashboard_of(world.challenge, "en").by_category]
    assert de == [("=Verkehr", 1, 7), ("Grün", 1, 3)]
    assert en == [("=Traffic", 1, 7), ("Green", 1, 3)]


def test_unanswered_list(world):
    waiting = dashboard_of(world.challenge).unanswered_oldest
    assert [w.idea_id for w in waiting] == [world.ideas[0].id]
    assert waiting[0].waiting == NOW - utc(6, 2, 10)


def test_paper_votes_left_out_when_the_challenge_does_not_count_them(world):
    world.challenge.count_paper_votes = False
    db.session.commit()
    d = dashboard_of(world.challenge)
    assert (d.paper_votes, d.votes) == (0, 3)
    assert all(row.paper_votes == 0 for row in d.by_day)
    assert "paper_votes" not in charts.shown_measures(d)


def test_an_empty_challenge_has_empty_figures(app):
    with frozen(NOW):
        d = dashboard_of(make_challenge())
    assert (d.registrations, d.participants, d.votes, d.unanswered) == (0, 0, 0, 0)
    assert d.by_day == [] and d.by_category == []
    assert d.backlog == services.Backlog(0, None, None, 0, None)


def test_a_future_draft_challenge_counts_no_registrations(app, make_user):
    with frozen(NOW):
        make_user()
        challenge = make_challenge(submission_opens_at=NOW + timedelta(days=30),
                                   submission_closes_at=NOW + timedelta(days=40))  # fmt: skip
        assert dashboard_of(challenge).registrations == 0


def test_fill_district_population_copies_the_setting(app):
    db.session.add_all([District(name="Hörde", position=1), District(name="Atlantis", position=2)])
    db.session.commit()
    filled, missing = services.fill_district_population()
    assert (filled, missing) == (["Hörde"], ["Atlantis"])
    assert db.session.query(District).filter_by(name="Hörde").one().population == 57_000


def test_long_ranges_fold_into_weeks_and_months():
    def rows(n):
        return [services.DayRow(date(2020, 1, 1) + timedelta(days=i), ideas=1) for i in range(n)]

    assert charts.period_unit(rows(charts.MAX_BARS)) == "day"
    weeks = charts.activity_periods(rows(200))
    assert {p.unit for p, _s in weeks} == {"week"}
    assert all(p.start.weekday() == 0 for p, _s in weeks)
    assert sum(s["ideas"] for _p, s in weeks) == 200
    months = charts.activity_periods(rows(3000))
    assert {p.unit for p, _s in months} == {"month"} and sum(s["ideas"] for _p, s in months) == 3000


def test_event_votes_land_on_the_day_of_their_event(app):
    from events.intake_support import evening

    from consult.events import intake
    from consult.figures import local_zone

    w = evening()
    intake.import_event(w["event"], w["staff"], w["round"].id)
    db.session.expire_all()
    d = dashboard_of(w["challenge"])
    assert d.event_votes == 4  # as participation_figures counts them
    event_day = w["event"].starts_at.astimezone(local_zone()).date()
    by_day = {row.day: row.event_votes for row in d.by_day if row.event_votes}
    assert by_day == {event_day: 4}
