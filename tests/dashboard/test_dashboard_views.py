"""The dashboard page, its SVG charts and the CSV: staff only, streamed, safe in a spreadsheet."""

import contextvars
import csv
import io
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest
from dashboard_support import FORMULA_TITLE, NOW, known_world, make_challenge
from flask.testing import FlaskClient
from testdata import PASSWORD, pass_code_step

from consult.clock import frozen
from consult.dashboard import charts
from consult.extensions import db
from consult.ideas.models import Idea
from consult.results.kit_views import SVG_POLICY

NAMES = {
    b"http://www.w3.org/2000/svg", b"http://www.w3.org/1999/xlink",
    b"http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd", b"http://purl.org/dc/elements/1.1/",
    b"http://purl.org/dc/dcmitype/StillImage", b"http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    b"http://creativecommons.org/ns#", b"https://matplotlib.org/",
}  # fmt: skip


@pytest.fixture
def world(app, make_user):
    with frozen(NOW):
        charts.clear_cache()
        yield known_world(make_user)


def page_url(challenge_id: int) -> str:
    return f"/staff/challenges/{challenge_id}/dashboard"


def urls(challenge_id: int, csv: bool = True) -> list[str]:
    base = page_url(challenge_id)
    return [base, f"{base}/activity.svg", f"{base}/districts.svg"] + ([f"{base}.csv"] * csv)


def csv_response(app, user, challenge_id: int):
    """The CSV as a WSGI server reads a streamed body: in the request's own context (the
    fixture's client runs each request in a context of its own, which a streamed body,
    read later, cannot re-enter; see tests/results/test_exports.py)."""
    client = FlaskClient(app, app.response_class)
    # Logging in runs in contexts of their own (as the fixture's client does): the code step
    # starts a new session, and a login cached in this context's ``g`` would be stale.
    form = contextvars.Context().run(client.get, "/account/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
    data = {"email": user.email, "password": PASSWORD, "csrf_token": token}
    login = contextvars.Context().run(client.post, "/account/login", data=data)
    login = pass_code_step(client, login, user)
    assert login.status_code == 302
    response = client.get(f"{page_url(challenge_id)}.csv")
    assert response.status_code == 200 and response.is_streamed
    return response


def read_csv(response) -> list[dict]:
    body = b"".join(response.response)
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def test_staff_see_the_figures(world, client, login):
    login(world.staff)
    response = client.get(page_url(world.challenge.id))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    page = response.get_data(as_text=True)
    assert "Mehr Grün in Dortmund" in page
    assert "<caption" in page and 'scope="row"' in page
    assert "Nirgendwo" in page and "57.000" in page  # population, German number format
    for name in charts.CHART_NAMES:
        assert f"/dashboard/{name}.svg?v=" in page


def test_english_page(world, client, login):
    world.staff.locale = "en"
    db.session.commit()
    login(world.staff)
    page = client.get(page_url(world.challenge.id) + "?lang=en", follow_redirects=True)
    page = page.get_data(as_text=True)
    assert "At a glance" in page and "More green in Dortmund" in page and "=Traffic" in page
    assert "57,000" in page  # English number format


@pytest.mark.parametrize("roles", [("citizen",), ("citizen", "moderator"), ("citizen", "juror"),
                                   ("citizen", "press")])  # fmt: skip
def test_everyone_but_staff_is_refused(world, client, login, make_user, roles):
    login(make_user(roles=roles))
    for url in urls(world.challenge.id):
        assert client.get(url).status_code == 403, url


def test_a_visitor_is_sent_to_the_login(world, client):
    for url in urls(world.challenge.id):
        response = client.get(url)
        assert response.status_code == 302 and "/account/login" in response.headers["Location"]


def test_an_unknown_challenge_is_404(world, client, login):
    login(world.staff)
    for url in urls(999_999):
        assert client.get(url).status_code == 404, url
    assert client.get(page_url(world.challenge.id) + "/nothing.svg").status_code == 404


def test_a_draft_challenge_works_for_staff(app, client, login, make_user):
    with frozen(NOW):
        staff = make_user(roles=("staff",))
        draft = make_challenge(submission_opens_at=NOW + timedelta(days=30),
                               submission_closes_at=NOW + timedelta(days=40))  # fmt: skip
        login(staff)
        for url in urls(draft.id, csv=False):
            assert client.get(url).status_code == 200, url
        assert read_csv(csv_response(app, staff, draft.id))


def test_charts_are_plain_svg_without_scripts_or_links(world, client, login):
    login(world.staff)
    for name in charts.CHART_NAMES:
        response = client.get(f"{page_url(world.challenge.id)}/{name}.svg")
        assert response.status_code == 200
        assert response.mimetype == "image/svg+xml"
        assert response.headers["Content-Security-Policy"] == SVG_POLICY
        assert response.headers["Cache-Control"] == "private, no-store"
        body = response.get_data()
        root = ET.fromstring(body)  # noqa: S314  (our own output)
        assert root.tag.endswith("svg")
        assert b"<script" not in body and b"foreignObject" not in body
        # Namespaces, the DTD's name and the metadata's creator: names, never fetched.
        assert set(re.findall(rb"https?://[^\"\s<]*", body)) <= NAMES
        for element in root.iter():
            assert not element.tag.endswith(("}script", "}image", "}foreignObject"))
            for key, value in element.attrib.items():
                assert not key.lower().startswith("on")
                if key.endswith("href"):
                    assert value.startswith("#")  # only glyphs within the file


def test_a_chart_is_drawn_once_and_served_from_the_cache(world, client, login, monkeypatch):
    drawn = []
    draw = charts.draw_svg
    monkeypatch.setattr(charts, "draw_svg", lambda spec: drawn.append(spec.name) or draw(spec))
    login(world.staff)
    url = f"{page_url(world.challenge.id)}/activity.svg"
    first = client.get(url)
    second = client.get(url)
    assert drawn == ["activity"]  # the second request found it in the cache
    assert first.get_data() == second.get_data()
    assert first.headers["ETag"] == second.headers["ETag"]
    assert client.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    # A new vote changes the figures, so the chart is drawn again.
    from consult.voting.models import Vote

    db.session.add(Vote(challenge_id=world.challenge.id, idea_id=world.ideas[1].id,
                        user_id=world.citizens[0].id, created_at=NOW))  # fmt: skip
    db.session.commit()
    third = client.get(url)
    assert drawn == ["activity", "activity"]
    assert third.headers["ETag"] != first.headers["ETag"]


def test_csv_is_streamed_parseable_and_exact(world, app):
    response = csv_response(app, world.staff, world.challenge.id)
    assert response.mimetype == "text/csv"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert 'attachment; filename="challenge-' in response.headers["Content-Disposition"]
    rows = read_csv(response)
    assert list(rows[0]) == ["figure", "id", "name", "day", "measure", "value"]
    totals = {r["measure"]: r["value"] for r in rows if r["figure"] == "totals"}
    assert totals["registrations"] == "4" and totals["votes_total"] == "10"
    moderation = {r["measure"]: r["value"] for r in rows if r["figure"] == "moderation"}
    assert moderation["oldest_idea_hours"] == "48.0" and moderation["median_idea_hours"] == "6.0"
    per_day = [r for r in rows if r["figure"] == "per_day"]
    assert {r["day"] for r in per_day} == {f"2026-06-{d:02d}" for d in range(1, 11)}
    assert [r["value"] for r in per_day if r["day"] == "2026-06-07"] == [
        "0",
        "0",
        "0",
        "0",
        "5",
        "0",
    ]
    hoerde = {r["measure"]: r["value"] for r in rows if r["figure"] == "by_district"
              and r["name"] == "Hörde"}  # fmt: skip
    assert hoerde == {"ideas": "1", "votes": "7", "participants": "3", "population": "57000",
                      "participants_per_1000": "0.05"}  # fmt: skip


def test_csv_neutralises_formulas_in_titles_and_names(world, app):
    rows = read_csv(csv_response(app, world.staff, world.challenge.id))
    names = {r["name"] for r in rows if r["name"]}
    assert "'=Verkehr" in names and "=Verkehr" not in names
    unanswered = [r for r in rows if r["figure"] == "unanswered"]
    assert [r["name"] for r in unanswered] == ["'" + FORMULA_TITLE]
    assert unanswered[0]["id"] == str(world.ideas[0].id)
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@")), row


def test_empty_challenge_gives_valid_charts_and_csv(app, client, login, make_user):
    with frozen(NOW):
        charts.clear_cache()
        staff = make_user(roles=("staff",))
        challenge = make_challenge()
        staff.created_at = NOW - timedelta(days=400)
        db.session.commit()
        login(staff)
        assert client.get(page_url(challenge.id)).status_code == 200
        for name in charts.CHART_NAMES:
            body = client.get(f"{page_url(challenge.id)}/{name}.svg").get_data()
            assert ET.fromstring(body).tag.endswith("svg")  # noqa: S314  (our own output)
        rows = read_csv(csv_response(app, staff, challenge.id))
        assert {r["figure"] for r in rows} == {"totals", "moderation"}


def test_a_huge_date_range_draws_weeks_or_months(app, client, login, make_user):
    with frozen(NOW):
        charts.clear_cache()
        staff = make_user(roles=("staff",))
        challenge = make_challenge(submission_opens_at=datetime(2000, 1, 1, tzinfo=UTC))
        staff.created_at = NOW - timedelta(days=400)
        author = make_user()
        for when in (datetime(2001, 3, 1, tzinfo=UTC), NOW - timedelta(days=1)):
            db.session.add(Idea(challenge_id=challenge.id, author_id=author.id, title="Alt",
                                status="submitted", submitted_at=when))  # fmt: skip
        db.session.commit()
        login(staff)
        page = client.get(page_url(challenge.id)).get_data(as_text=True)
        assert "Aktivität pro Monat" in page or "Activity per month" in page
        body = client.get(f"{page_url(challenge.id)}/activity.svg").get_data()
        assert ET.fromstring(body).tag.endswith("svg")  # noqa: S314  (our own output)
        rows = read_csv(csv_response(app, staff, challenge.id))
        ideas = [r for r in rows if r["figure"] == "per_day" and r["measure"] == "ideas"]
        assert sum(int(r["value"]) for r in ideas) == 2 and len(ideas) > 9000


def test_staff_pages_link_the_dashboard(world, client, login):
    login(world.staff)
    for url in ("/staff/challenges", f"/staff/challenges/{world.challenge.id}/edit"):
        assert page_url(world.challenge.id) in client.get(url).get_data(as_text=True)


def test_public_pages_show_no_dashboard_link(world, client):
    page = client.get(f"/challenges/{world.challenge.id}").get_data(as_text=True)
    assert "/dashboard" not in page
