"""Open data: the CSV and JSON of a challenge's published ideas, votes and frozen ranking.

Public only once the results are (published, past the embargo, frozen); no personal data;
cells a spreadsheet would run as formulas are neutralised; the body streams.
"""

import csv
import io
import json
from datetime import timedelta

import pytest
from flask.testing import FlaskClient
from jury.jury_support import DAY, add_votes, evaluation_challenge, jury_world, make_idea
from sqlalchemy import insert

from consult.challenges.models import Category
from consult.clock import now, travel
from consult.districts import District
from consult.extensions import db
from consult.ideas.models import Idea
from consult.jury.freezing import freeze_results, get_snapshot
from consult.projects.models import LabProject
from consult.results import exports
from consult.results.models import Announcement
from consult.voting.models import Vote

DGL = "https://www.govdata.de/dl-de/by-2-0"


def csv_url(challenge_id: int) -> str:
    return f"/challenges/{challenge_id}/results/ideas.csv"


def json_url(challenge_id: int) -> str:
    return f"/challenges/{challenge_id}/results/ideas.json"


def announce(challenge, author, embargo=-timedelta(minutes=1), published=True) -> Announcement:
    """An announcement written directly: published (or a draft), embargo relative to now."""
    announcement = Announcement(
        challenge_id=challenge.id,
        title_de="Die Ergebnisse",
        title_en="The results",
        lead_de="Gewonnen hat der Trinkbrunnen.",
        lead_en="The drinking fountain won.",
        embargo_at=now() + embargo,
        published_at=now() - timedelta(hours=1) if published else None,
        published_by_id=author.id if published else None,
        created_by_id=author.id,
    )
    db.session.add(announcement)
    db.session.commit()
    return announcement


def read_csv(response) -> list[dict]:
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline="")))


@pytest.fixture
def world(app, make_user):
    """The worked example of DESIGN §5, frozen, plus ideas the ranking does not cover."""
    w = jury_world(make_user)
    challenge = w.challenge
    green = Category(challenge_id=challenge.id, name_de="Grün & Klima", name_en="Green & climate")
    district = District(name="Hörde", position=1)
    db.session.add_all([green, district])
    db.session.commit()
    extra = make_idea(challenge, 'Sitzbänke, "bequem"\nund schattig', author=w.author)
    extra.category_id, extra.district_id = green.id, district.id
    extra.origin, extra.language = "workshop", "en"
    voters = [make_user(pseudonym=f"Wählerin {n}") for n in range(3)]
    db.session.add_all(
        Vote(challenge_id=challenge.id, idea_id=extra.id, user_id=voter.id) for voter in voters
    )
    # Online and paper votes on an idea off the shortlist: the worked example stays as it is.
    add_votes(extra, 2)
    hidden = make_idea(challenge, "Versteckt")
    hidden.status = "hidden"
    draft = make_idea(challenge, "Entwurf")
    draft.status = "draft"
    db.session.add(
        LabProject(challenge_id=challenge.id, idea_id=w.ideas[1].id, title_de="Brunnen-Labor")
    )
    db.session.commit()
    freeze_results(w.staff, challenge)
    press = make_user(roles=("citizen", "press"), pseudonym="Pressestelle")
    w.extra.update(idea=extra, district=district, hidden=hidden, draft=draft, press=press)
    return w


@pytest.fixture
def public(world):
    announce(world.challenge, world.extra["press"])
    return world


# --- contents -------------------------------------------------------------------------------


def test_csv_holds_every_published_idea_with_votes_and_the_frozen_ranking(public, client):
    w = public
    response = client.get(csv_url(w.challenge.id), buffered=True)
    assert response.status_code == 200
    rows = read_csv(response)
    assert list(rows[0]) == list(exports.COLUMNS)
    by_title = {row["title"]: row for row in rows}
    assert set(by_title) == {
        "Bäume am Markt",
        "Trinkbrunnen",
        "Grüne Dächer",
        'Sitzbänke, "bequem"\nund schattig',  # quoting survives commas, quotes, newlines
    }
    assert [row["idea_id"] for row in rows] == sorted((row["idea_id"] for row in rows), key=int)
    fountain = by_title["Trinkbrunnen"]
    assert fountain == {
        **fountain,
        "idea_id": str(w.ideas[1].id),
        "language": "de",
        "origin": "online",
        "votes_online": "0",
        "votes_paper": "60",
        "votes_total": "60",
        "shortlisted": "yes",
        "rank": "1",
        "jury_score": "0.500",
        "vote_share": "1.000",
        "combined_score": "0.750",
        "jury_score_exact": "1/2",
        "vote_share_exact": "1",
        "combined_score_exact": "3/4",
        "url": f"http://localhost/ideas/{w.ideas[1].id}",
    }
    assert fountain["lab_project_id"] != ""
    trees = by_title["Bäume am Markt"]
    assert (trees["votes_online"], trees["votes_paper"], trees["votes_total"]) == ("0", "30", "30")
    assert (trees["rank"], trees["jury_score_exact"], trees["vote_share_exact"]) == (
        "2",
        "7/10",
        "1/2",
    )
    assert (trees["combined_score"], trees["combined_score_exact"], trees["lab_project_id"]) == (
        "0.600",
        "3/5",
        "",
    )
    roofs = by_title["Grüne Dächer"]
    assert (roofs["rank"], roofs["jury_score"], roofs["vote_share"], roofs["combined_score"]) == (
        "3",
        "1.000",
        "0.000",
        "0.500",
    )
    bench = by_title['Sitzbänke, "bequem"\nund schattig']
    assert bench == {
        **bench,
        "category_de": "Grün & Klima",
        "category_en": "Green & climate",
        "district": "Hörde",
        "origin": "workshop",
        "language": "en",
        "votes_online": "3",
        "votes_paper": "2",
        "votes_total": "5",
        "shortlisted": "no",
        "rank": "",
        "combined_score": "",
        "combined_score_exact": "",
    }
    published = w.extra["idea"].published_at
    assert bench["published_at"] == published.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_paper_votes_are_listed_but_not_counted_when_the_challenge_says_so(public, client):
    public.challenge.count_paper_votes = False
    db.session.commit()
    rows = {
        row["idea_id"]: row
        for row in read_csv(client.get(csv_url(public.challenge.id), buffered=True))
    }
    bench = rows[str(public.extra["idea"].id)]
    assert (bench["votes_online"], bench["votes_paper"], bench["votes_total"]) == ("3", "2", "3")
    data = client.get(json_url(public.challenge.id), buffered=True).get_json()
    assert data["paper_votes_counted"] is False


def test_json_has_metadata_first_and_the_same_rows_typed(public, client):
    w = public
    response = client.get(json_url(w.challenge.id), buffered=True)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    data = json.loads(body)
    assert body.index('"licence"') < body.index('"ideas"')
    assert data["licence"] == {
        "id": "dl-de/by-2-0",
        "name": "Datenlizenz Deutschland – Namensnennung – Version 2.0",
        "url": DGL,
    }
    assert data["attribution"] == "Stadt Dortmund"
    assert data["challenge"] == {
        "id": w.challenge.id,
        "title_de": "Grünere Innenstadt",
        "title_en": "A greener city centre",
    }
    snapshot = get_snapshot(w.challenge)
    assert data["snapshot"]["sha256"] == snapshot.sha256
    assert data["snapshot"]["alpha"] == "1/2"
    assert data["columns"] == list(exports.COLUMNS)
    assert data["generated_at"].endswith("Z")
    ideas = {idea["title"]: idea for idea in data["ideas"]}
    assert len(ideas) == 4
    fountain = ideas["Trinkbrunnen"]
    assert list(fountain) == list(exports.COLUMNS)
    assert fountain == {
        **fountain,
        "idea_id": w.ideas[1].id,
        "votes_total": 60,
        "shortlisted": True,
        "rank": 1,
        "combined_score": "0.750",
        "combined_score_exact": "3/4",
    }
    assert isinstance(fountain["lab_project_id"], int)
    bench = ideas['Sitzbänke, "bequem"\nund schattig']
    assert (bench["rank"], bench["shortlisted"], bench["jury_score"]) == (None, False, None)
    assert "Versteckt" not in body and "Entwurf" not in body


def test_no_personal_data_in_either_format(public, client):
    w = public
    people = [w.author, w.staff, *w.jurors, w.extra["press"]]
    for url in (csv_url(w.challenge.id), json_url(w.challenge.id)):
        body = client.get(url, buffered=True).get_data(as_text=True)
        for person in people:
            assert person.email not in body
            assert person.pseudonym not in body
        assert "Wählerin" not in body and "author" not in body and "@" not in body


def test_the_licence_can_be_configured(public, client, app):
    app.config["OPEN_DATA_LICENCE"] = {
        "id": "cc-by-4.0",
        "name": "Creative Commons Attribution 4.0",
        "url": "https://creativecommons.org/licenses/by/4.0/",
    }
    response = client.get(csv_url(public.challenge.id), buffered=True)
    assert (
        response.headers["Link"] == '<https://creativecommons.org/licenses/by/4.0/>; rel="license"'
    )
    data = client.get(json_url(public.challenge.id), buffered=True).get_json()
    assert data["licence"]["name"] == "Creative Commons Attribution 4.0"


# --- headers ----------------------------------------------------------------------------------


def test_headers_say_licence_attachment_type_and_public_caching(public, client):
    cid = public.challenge.id
    csv_response = client.get(csv_url(cid), buffered=True)
    assert csv_response.headers["Content-Type"] == "text/csv; charset=utf-8; header=present"
    assert (
        csv_response.headers["Content-Disposition"]
        == f'attachment; filename="challenge-{cid}-ideas.csv"'
    )
    json_response = client.get(json_url(cid), buffered=True)
    assert json_response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert (
        json_response.headers["Content-Disposition"]
        == f'attachment; filename="challenge-{cid}-ideas.json"'
    )
    for response in (csv_response, json_response):
        assert response.headers["Link"] == f'<{DGL}>; rel="license"'
        assert response.cache_control.public and response.cache_control.max_age == 300
        assert "Set-Cookie" not in response.headers
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_logged_in_downloads_are_not_kept_by_shared_caches(public, client, login):
    login(public.author)
    response = client.get(csv_url(public.challenge.id), buffered=True)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"


# --- before the embargo, drafts, unknown and unfrozen challenges: 404 --------------------------


def assert_not_found(client, challenge_id: int, leaked: str = "Trinkbrunnen") -> None:
    for url in (csv_url(challenge_id), json_url(challenge_id)):
        response = client.get(url, buffered=True)
        assert response.status_code == 404, url
        assert leaked not in response.get_data(as_text=True)
        assert not response.cache_control.public
        assert "Content-Disposition" not in response.headers


def test_before_the_embargo_nothing_is_there_and_at_it_everything_is(world, client):
    announce(world.challenge, world.extra["press"], embargo=timedelta(hours=2))
    assert_not_found(client, world.challenge.id)
    with travel(timedelta(hours=2, seconds=1)):  # no job runs: the clock decides
        assert client.get(csv_url(world.challenge.id), buffered=True).status_code == 200
        assert client.get(json_url(world.challenge.id), buffered=True).status_code == 200


def test_a_draft_announcement_publishes_nothing(world, client):
    announce(world.challenge, world.extra["press"], published=False)
    assert_not_found(client, world.challenge.id)


def test_no_announcement_at_all(world, client):
    assert_not_found(client, world.challenge.id)


def test_unknown_challenges_and_huge_ids(app, client):
    assert_not_found(client, 4711)
    for url in (
        "/challenges/99999999999999999999/results/ideas.csv",
        "/challenges/x/results/ideas.json",
    ):
        assert client.get(url).status_code == 404


def test_a_published_announcement_of_an_unfrozen_challenge_shows_nothing(app, make_user, client):
    w = jury_world(make_user)
    announce(w.challenge, w.staff)
    assert_not_found(client, w.challenge.id)


def test_one_challenges_export_holds_nothing_of_another(public, client):
    other = evaluation_challenge()
    make_idea(other, "Fremde Idee")
    for url in (csv_url(public.challenge.id), json_url(public.challenge.id)):
        assert "Fremde Idee" not in client.get(url, buffered=True).get_data(as_text=True)
    assert_not_found(client, other.id, leaked="Fremde Idee")


def test_posting_is_not_allowed(public, client):
    assert client.post(csv_url(public.challenge.id)).status_code in (400, 405)


# --- formula injection --------------------------------------------------------------------------

HOSTILE = [
    '=HYPERLINK("http://evil.example","Klick")',
    "+1",
    "-2",
    "@SUM(1)",
    "\t=1+1",
    "\r=1+1",
    "  =1+1",
    "=cmd|' /C calc'!A0",
]


@pytest.mark.parametrize("value", HOSTILE)
def test_neutralise_puts_an_apostrophe_before_formulas(value):
    assert exports.neutralise(value) == "'" + value


@pytest.mark.parametrize("value", ["Bäume", "Wasser = Leben", "E-Mail", "", "'schon"])
def test_neutralise_leaves_ordinary_text_alone(value):
    assert exports.neutralise(value) == value


def test_hostile_titles_and_categories_are_neutralised_in_csv_but_raw_in_json(world, client):
    challenge = world.challenge
    category = Category(challenge_id=challenge.id, name_de="=1+2", name_en="@cmd")
    db.session.add(category)
    db.session.commit()
    hostile = []
    for title in HOSTILE:
        idea = Idea(
            challenge_id=challenge.id,
            title=title,
            status="published",
            published_at=now() - DAY,
            category_id=category.id,
        )
        db.session.add(idea)
        hostile.append(idea)
    db.session.commit()
    announce(challenge, world.extra["press"])

    rows = {
        row["idea_id"]: row for row in read_csv(client.get(csv_url(challenge.id), buffered=True))
    }
    for idea, title in zip(hostile, HOSTILE, strict=True):
        row = rows[str(idea.id)]
        assert row["title"] == "'" + title
        assert (row["category_de"], row["category_en"]) == ("'=1+2", "'@cmd")
        # Numbers stay numbers: nothing is put in front of ids and counts.
        assert row["idea_id"].isdigit() and row["votes_total"] == "0"
    for row in rows.values():
        for column in set(exports.COLUMNS) - exports.TEXT_COLUMNS:
            assert not row[column].startswith("'"), (column, row[column])

    ideas = {
        i["idea_id"]: i
        for i in client.get(json_url(challenge.id), buffered=True).get_json()["ideas"]
    }
    for idea, title in zip(hostile, HOSTILE, strict=True):
        assert ideas[idea.id]["title"] == title  # JSON is no spreadsheet: values stay as written
        assert ideas[idea.id]["category_de"] == "=1+2"


# --- streaming ----------------------------------------------------------------------------------


def streaming_client(app) -> FlaskClient:
    """A client whose response is read chunk by chunk, as a WSGI server reads it.

    The fixture's client runs each request in a context of its own, which a streamed body,
    read later, cannot re-enter; in production the server reads it in the request's thread.
    """
    return FlaskClient(app, app.response_class)


def add_ideas(challenge, count: int) -> None:
    t = now() - 2 * DAY
    db.session.execute(
        insert(Idea),
        [
            {
                "challenge_id": challenge.id,
                "title": f'Idee {n}, "zitiert" – ümlaut',
                "language": "de",
                "status": "published",
                "origin": "online",
                "published_at": t + timedelta(seconds=n),
            }
            for n in range(count)
        ],
    )
    db.session.commit()


def test_five_thousand_rows_stream_out_complete_and_well_formed(public, app, monkeypatch):
    # Small batches and chunks, so that this data set crosses many of both.
    monkeypatch.setattr(exports, "BATCH_ROWS", 700)
    monkeypatch.setattr(exports, "CHUNK_BYTES", 16 * 1024)
    add_ideas(public.challenge, 5000)
    total = 5000 + 4
    client = streaming_client(app)

    response = client.get(csv_url(public.challenge.id))
    assert response.is_streamed
    chunks = list(response.response)
    assert len(chunks) > 10 and all(isinstance(chunk, bytes) for chunk in chunks)
    body = b"".join(chunks)
    # Header and rows end in CRLF; the newline inside a quoted title stays a bare LF.
    assert body.count(b"\r\n") == total + 1
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline="")))
    assert len(rows) == total
    assert len({row["idea_id"] for row in rows}) == total
    assert all(len(row) == len(exports.COLUMNS) and None not in row for row in rows)
    assert sum(row["shortlisted"] == "yes" for row in rows) == 3

    response = client.get(json_url(public.challenge.id))
    assert response.is_streamed
    chunks = list(response.response)
    assert len(chunks) > 10
    data = json.loads(b"".join(chunks))
    assert len(data["ideas"]) == total
    assert [i["idea_id"] for i in data["ideas"]] == sorted(i["idea_id"] for i in data["ideas"])


def test_the_body_is_a_generator_that_reads_the_database_as_it_goes(public, app):
    with app.test_request_context():
        announcement = db.session.query(Announcement).one()
        export = exports.export_ideas(public.challenge, announcement, "csv")
        assert iter(export.chunks) is export.chunks  # a generator, not a built body
        first = next(export.chunks)
        assert first.startswith(b"\xef\xbb\xbfidea_id,title,")
        export.chunks.close()  # a client that stops reading: the connection is given back


def test_head_answers_like_get_without_a_body(world, client):
    announce(world.challenge, world.extra["press"], embargo=timedelta(hours=1))
    assert client.head(csv_url(world.challenge.id), buffered=True).status_code == 404
    with travel(timedelta(hours=1, seconds=1)):
        response = client.head(csv_url(world.challenge.id), buffered=True)
        assert response.status_code == 200 and response.get_data() == b""
        assert response.headers["Content-Type"].startswith("text/csv")
