"""Result charts: drawn by a job on publish (SVG and PNG, German and English), skipped when
the figures are unchanged, served only from the embargo on, shown next to their tables."""

import struct
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest
from results_support import (
    announce,
    frozen_world,
    html,
    place_ideas,
    press_of,
    publish_past_embargo,
    results_url,
    says,
)
from sqlalchemy import delete, func, select

from consult.clock import travel
from consult.extensions import db
from consult.jobs import Outbox
from consult.results import charts, services
from consult.results.kit_views import SVG_POLICY
from consult.results.models import ResultChart
from consult.voting.models import Vote

LONG_DISTRICT = "Innenstadt-Nord mit Hafen, Borsigplatz und Nordmarkt"


def chart_url(challenge, name="by-district", locale="de", fmt="svg") -> str:
    return f"/challenges/{challenge.id}/results/charts/{name}-{locale}.{fmt}"


def add_vote(challenge, idea, user, at) -> None:
    db.session.add(Vote(challenge_id=challenge.id, idea_id=idea.id, user_id=user.id, created_at=at))
    db.session.commit()


def build_chart_world(make_user):
    """The frozen jury world with districts (one with a long name), categories in both
    languages and online votes on three Berlin days; not announced yet."""
    world = frozen_world(make_user)
    challenge = world.challenge
    place_ideas(world, north_name=LONG_DISTRICT)
    a, b, _c = world.ideas
    voters = [make_user(pseudonym=f"Wähler {n}") for n in range(3)]
    add_vote(challenge, a, voters[0], datetime(2026, 6, 1, 10, 0, tzinfo=UTC))
    add_vote(challenge, b, voters[0], datetime(2026, 6, 1, 11, 0, tzinfo=UTC))
    add_vote(challenge, b, voters[1], datetime(2026, 6, 4, 9, 0, tzinfo=UTC))
    world.extra.update(voters=voters)
    return world


@pytest.fixture
def world(app, make_user):
    return build_chart_world(make_user)


def stored(challenge) -> dict:
    db.session.expire_all()
    rows = db.session.scalars(select(ResultChart).where(ResultChart.challenge_id == challenge.id))
    return {(r.name, r.locale, r.format): r for r in rows}


def png_size(content: bytes) -> tuple[int, int]:
    assert content[:8] == b"\x89PNG\r\n\x1a\n"
    assert content[12:16] == b"IHDR"
    return struct.unpack(">II", content[16:24])


# --- drawing and storing ------------------------------------------------------------------


def test_publishing_draws_every_chart_in_both_languages_and_formats(world):
    announce(world, embargo=timedelta(hours=1))
    rows = stored(world.challenge)
    expected = {
        (name, locale, fmt)
        for name in charts.CHART_NAMES
        for locale in ("de", "en")
        for fmt in ("svg", "png")
    }
    assert set(rows) == expected
    job = db.session.scalar(select(Outbox).where(Outbox.job == "render_result_charts"))
    assert job.args == [world.challenge.id] and job.done_at is not None
    for (name, locale, fmt), row in rows.items():
        if fmt == "png":
            width, height = png_size(row.content)
            assert width == 1600 and height > 400, (name, locale)
        else:
            root = ET.fromstring(row.content)  # noqa: S314  (our own output)
            assert root.tag == "{http://www.w3.org/2000/svg}svg"
            assert b"<script" not in row.content
        assert len(row.source_hash) == 64
        # SVG and PNG of one chart come from the same figures.
        assert row.source_hash == rows[(name, locale, "svg")].source_hash


def test_labels_are_in_the_charts_language(world):
    announce(world)
    rows = stored(world.challenge)
    german = rows[("by-district", "de", "svg")].content.decode("utf-8")
    english = rows[("by-district", "en", "svg")].content.decode("utf-8")
    # Text is drawn as paths; matplotlib keeps each text as a comment beside it.
    assert "Stimmen" in german and "Ideen" in german and "Hörde" in german
    assert "Votes" in english and "Stimmen" not in english
    category_de = rows[("by-category", "de", "svg")].content.decode("utf-8")
    category_en = rows[("by-category", "en", "svg")].content.decode("utf-8")
    assert "Bäume" in category_de and "Trees" in category_en
    assert "Trees" not in category_de
    days = rows[("votes-by-day", "de", "svg")].content.decode("utf-8")
    assert "Juni" in days  # dates in German


def test_a_long_district_name_wraps_onto_short_lines():
    wrapped = charts._wrap(LONG_DISTRICT)
    lines = wrapped.splitlines()
    assert 1 < len(lines) <= charts.LABEL_LINES
    assert all(len(line) <= charts.LABEL_CHARS for line in lines)
    very_long = " ".join(["Stadtbezirksvertretung"] * 6)
    lines = charts._wrap(very_long).splitlines()
    assert len(lines) == charts.LABEL_LINES and lines[-1].endswith("…")


def test_days_without_votes_are_drawn_as_zero(world):
    with_locale = services.participation_figures(world.challenge, "en")
    spec = {s.name: s for s in charts.chart_specs(with_locale, "en")}["votes-by-day"]
    assert spec.rows == (
        ("2026-06-01", 2),
        ("2026-06-02", 0),
        ("2026-06-03", 0),
        ("2026-06-04", 1),
    )


def test_a_second_run_draws_nothing_and_changed_figures_draw_again(world, app):
    announce(world)
    before = {k: (r.created_at, r.source_hash) for k, r in stored(world.challenge).items()}
    assert charts.render_charts(world.challenge.id) == 0
    after = {k: (r.created_at, r.source_hash) for k, r in stored(world.challenge).items()}
    assert after == before
    # One more vote in Hörde on a new day: every chart shows it, in both languages.
    a, b, c = world.ideas
    add_vote(world.challenge, b, world.extra["voters"][2], datetime(2026, 6, 5, 9, 0, tzinfo=UTC))
    assert charts.render_charts(world.challenge.id) == 6
    changed = stored(world.challenge)
    assert all(changed[k].source_hash != before[k][1] for k in before)
    assert charts.render_charts(world.challenge.id) == 0


def test_charts_whose_figures_vanished_are_removed(world):
    announce(world)
    db.session.execute(delete(Vote).where(Vote.challenge_id == world.challenge.id))
    db.session.commit()
    charts.render_charts(world.challenge.id)
    names = {name for name, _locale, _fmt in stored(world.challenge)}
    assert "votes-by-day" not in names and "by-district" in names


def test_running_for_an_unknown_challenge_does_nothing(app):
    assert charts.render_charts(999_999) == 0


def test_the_command_line_draws_what_changed(world, app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["results", "render-charts", str(world.challenge.id)])
    assert result.exit_code == 0, result.output
    assert "6 chart(s) drawn." in result.output
    result = runner.invoke(args=["results", "render-charts", str(world.challenge.id)])
    assert "0 chart(s) drawn." in result.output


# --- serving ------------------------------------------------------------------------------


def test_charts_are_404_before_the_embargo_and_there_at_it(world, client):
    announce(world, embargo=timedelta(hours=1))
    assert stored(world.challenge)  # drawn already: only the clock hides them
    for fmt in ("svg", "png"):
        response = client.get(chart_url(world.challenge, fmt=fmt))
        assert response.status_code == 404
        assert b"<svg" not in response.data and b"PNG" not in response.data
    with travel(timedelta(hours=1, seconds=1)):
        assert client.get(chart_url(world.challenge)).status_code == 200
        assert client.get(chart_url(world.challenge, fmt="png")).status_code == 200


def test_a_draft_or_a_withdrawn_announcement_shows_no_chart(world, client):
    announce(world, embargo=timedelta(hours=1))
    services.withdraw_announcement(press_of(world), world.challenge)
    with travel(timedelta(hours=2)):
        assert client.get(chart_url(world.challenge)).status_code == 404


def test_a_logged_in_citizen_or_moderator_sees_no_chart_early(world, client, login, make_user):
    announce(world, embargo=timedelta(hours=1))
    login(make_user(pseudonym="Moderatorin", roles=("citizen", "moderator")))
    assert client.get(chart_url(world.challenge)).status_code == 404


def test_the_press_preview_may_load_charts_early_never_cached(world, client, login):
    announce(world, embargo=timedelta(hours=1))
    login(press_of(world))
    response = client.get(chart_url(world.challenge))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    preview = html(client.get(f"/press/challenges/{world.challenge.id}/announcement/preview"))
    assert chart_url(world.challenge, locale="de") in preview


@pytest.mark.parametrize(
    "filename",
    [
        "nothing-de.svg",
        "by-district-fr.svg",
        "by-district-de.gif",
        "by-district-de.svg.png",
        "by-district-DE.svg",
        "by-district.svg",
        "-de.svg",
        "by-district-de.SVG",
    ],
)
def test_unknown_names_locales_and_formats_are_404(world, client, filename):
    publish_past_embargo(world)
    response = client.get(f"/challenges/{world.challenge.id}/results/charts/{filename}")
    assert response.status_code == 404


def test_unknown_challenges_and_charts_not_drawn_yet_are_404(world, client):
    publish_past_embargo(world)
    assert client.get(chart_url(world.challenge)).status_code == 200
    assert client.get("/challenges/999999/results/charts/by-district-de.svg").status_code == 404
    assert client.get("/challenges/99999999999999999999/results/charts/x.svg").status_code == 404
    db.session.execute(delete(ResultChart))
    db.session.commit()
    assert client.get(chart_url(world.challenge)).status_code == 404


def test_svg_headers_confine_it_and_let_caches_keep_it(world, client):
    publish_past_embargo(world)
    response = client.get(chart_url(world.challenge))
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    assert response.headers["Content-Security-Policy"] == SVG_POLICY
    assert "script-src" not in SVG_POLICY and "default-src 'none'" in SVG_POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.cache_control.public and response.cache_control.max_age >= 24 * 3600
    source_hash = stored(world.challenge)[("by-district", "de", "svg")].source_hash
    assert response.headers["ETag"] == f'"{source_hash}"'
    assert "Set-Cookie" not in response.headers
    again = client.get(chart_url(world.challenge), headers={"If-None-Match": f'"{source_hash}"'})
    assert again.status_code == 304
    png = client.get(chart_url(world.challenge, fmt="png"))
    assert png.mimetype == "image/png" and png.data[:4] == b"\x89PNG"
    assert png.headers["X-Content-Type-Options"] == "nosniff"


# --- on the results page ------------------------------------------------------------------


def test_the_page_shows_each_chart_before_its_table(world, client):
    publish_past_embargo(world)
    page = html(client.get(results_url(world.challenge)))
    rows = stored(world.challenge)
    for name, table_id in (
        ("by-district", "by-district-table"),
        ("by-category", "by-category-table"),
        ("votes-by-day", "by-day-table"),
    ):
        version = rows[(name, "de", "svg")].source_hash[:16]
        src = f"{chart_url(world.challenge, name)}?v={version}"
        assert f'src="{src}"' in page
        assert f'href="#{table_id}"' in page and f'id="{table_id}"' in page
        assert page.index(src) < page.index(f'id="{table_id}"')
    assert 'width="384"' in page
    assert (
        says("Bar chart: ideas and votes by district. The table below lists the numbers.") in page
    )
    assert says("Ideas and votes by district") in page


def test_the_english_page_links_the_english_charts(world, client):
    publish_past_embargo(world)
    page = html(client.get(results_url(world.challenge), headers={"Accept-Language": "en"}))
    assert chart_url(world.challenge, "by-district", "en") in page
    assert chart_url(world.challenge, "by-district", "de") not in page


def test_without_drawn_charts_the_page_shows_only_the_tables(world, client):
    publish_past_embargo(world)
    db.session.execute(delete(ResultChart))
    db.session.commit()
    page = html(client.get(results_url(world.challenge)))
    assert "<img" not in page.split('id="figures-heading"')[1]
    assert 'id="by-district-table"' in page


def test_a_chart_drawn_from_other_figures_is_not_shown(world, client):
    publish_past_embargo(world)
    a, b, c = world.ideas
    add_vote(world.challenge, c, world.extra["voters"][2], datetime(2026, 6, 2, 9, 0, tzinfo=UTC))
    page = html(client.get(results_url(world.challenge)))
    # Not drawn again yet: a chart would contradict the table, so none is shown.
    assert '<img src="/challenges/' not in page
    charts.render_charts(world.challenge.id)
    page = html(client.get(results_url(world.challenge)))
    assert f'<img src="{chart_url(world.challenge, "votes-by-day")}' in page


def test_charts_that_would_compare_nothing_are_not_drawn(app, make_user, client):
    # The jury world: no districts, no categories (one row each), only paper votes.
    world = frozen_world(make_user)
    publish_past_embargo(world)
    assert stored(world.challenge) == {}
    assert db.session.scalar(select(func.count()).select_from(ResultChart)) == 0
    page = html(client.get(results_url(world.challenge)))
    assert "<figure" not in page and 'id="by-district-table"' in page


def test_hostile_names_stay_text_in_the_svg(app):
    hostile = '</svg><script>alert(1)</script> -- --> & "x"'
    rows = ((hostile, 1, 2), ("Hörde", 3, 4))
    with app.test_request_context():
        spec = charts.ChartSpec(
            "by-district", "de", "Ideen", "alt", rows, charts._hash("by-district", "de", rows), 3.0
        )
        images = charts.draw_chart(spec)
    root = ET.fromstring(images["svg"])  # noqa: S314  (our own output)
    assert not [e for e in root.iter() if e.tag.endswith("script")]
    assert b"<script>" not in images["svg"]
