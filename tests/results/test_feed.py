"""The Atom feed: valid Atom 1.0 of public results and lab project updates, in the reader's
language, with nothing of an announcement before its embargo."""

from datetime import timedelta
from xml.etree import ElementTree as ET

from results_support import announce, frozen_world, press_of, publish_past_embargo
from sqlalchemy import select

from consult.clock import frozen, now, travel
from consult.extensions import db
from consult.projects.models import LabProject, ProjectUpdate
from consult.results import services
from consult.results.models import Announcement
from consult.text import render_markdown

A = "{http://www.w3.org/2005/Atom}"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
HOSTILE = '<script>alert("x")</script> ]]> & Co'


def get_feed(client, language: str = "de"):
    response = client.get("/feed.atom", headers={"Accept-Language": language})
    assert response.status_code == 200
    return response, ET.fromstring(response.data)  # noqa: S314  (our own response)


def entries(feed) -> list[dict]:
    return [
        {
            "id": e.findtext(f"{A}id"),
            "title": e.findtext(f"{A}title"),
            "updated": e.findtext(f"{A}updated"),
            "link": e.find(f"{A}link").get("href"),
            "summary": e.findtext(f"{A}summary"),
            "lang": e.get(XML_LANG),
        }
        for e in feed.findall(f"{A}entry")
    ]


def make_project(world, idea=None, **texts) -> LabProject:
    idea = idea or world.ideas[0]
    values = {"title_de": "Bäume für den Markt", "title_en": "Trees for the market",
              "summary_de": "Wir pflanzen.", "summary_en": "We plant."}  # fmt: skip
    values.update(texts)
    project = LabProject(challenge_id=world.challenge.id, idea_id=idea.id, **values)
    db.session.add(project)
    db.session.commit()
    return project


def add_update(project, body_de="Die **ersten** Bäume stehen.", body_en="", ago=timedelta(0)):
    update = ProjectUpdate(
        project_id=project.id,
        body_de=body_de,
        body_en=body_en,
        body_html_de=render_markdown(body_de) if body_de else "",
        body_html_en=render_markdown(body_en) if body_en else "",
        published_at=now() - ago,
    )
    db.session.add(update)
    db.session.commit()
    return update


# --- the document -------------------------------------------------------------------------


def test_an_empty_feed_is_valid_atom_with_public_cache_headers(app, client):
    response, feed = get_feed(client)
    assert response.mimetype == "application/atom+xml"
    assert feed.tag == f"{A}feed"
    assert feed.get(XML_LANG) == "de"
    for name in ("id", "title", "updated"):
        assert feed.findtext(f"{A}{name}"), name
    assert feed.findtext(f"{A}id") == "http://localhost/feed.atom"
    assert feed.find(f"{A}author/{A}name").text
    self_link = [link for link in feed.findall(f"{A}link") if link.get("rel") == "self"]
    assert self_link[0].get("href") == "http://localhost/feed.atom"
    assert entries(feed) == []
    assert "public" in response.headers["Cache-Control"]
    assert "max-age" in response.headers["Cache-Control"]
    assert "Accept-Language" in response.headers["Vary"]
    assert response.headers.get("ETag")
    assert "Set-Cookie" not in response.headers


def test_the_feed_answers_not_modified_to_a_cached_copy(app, client):
    response, _feed = get_feed(client)
    again = client.get("/feed.atom", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_the_feed_is_linked_from_every_page(app, client):
    page = client.get("/").get_data(as_text=True)
    assert '<link rel="alternate" type="application/atom+xml" href="/feed.atom"' in page


# --- results by the clock -----------------------------------------------------------------


def test_an_announcement_enters_the_feed_at_its_embargo_and_not_a_second_earlier(
    app, client, make_user
):
    world = frozen_world(make_user)
    announcement = announce(world, embargo=timedelta(hours=1))
    embargo = announcement.embargo_at
    # Relative to the stored embargo: publishing (and its inline chart job) takes time.
    with frozen(embargo - timedelta(seconds=1)):
        _response, feed = get_feed(client)
        assert entries(feed) == []
        assert b"winners" not in _response.data and b"Gewinner" not in _response.data
    with travel(embargo - now() + timedelta(seconds=1)):
        _response, feed = get_feed(client)
        [entry] = entries(feed)
    assert entry["title"] == "Die Gewinner stehen fest"
    assert entry["summary"] == "Trinkbrunnen und Bäume für die Innenstadt."
    assert entry["link"] == f"http://localhost/challenges/{world.challenge.id}/results"
    assert entry["id"].startswith("tag:localhost,")
    assert entry["updated"] == embargo.isoformat(timespec="seconds").replace("+00:00", "Z")
    assert feed.findtext(f"{A}updated") == entry["updated"]


def test_drafts_and_withdrawn_announcements_never_enter_the_feed(app, client, make_user):
    world = frozen_world(make_user)
    announce(world, embargo=timedelta(hours=1), publish=False)
    with travel(timedelta(days=3)):
        assert entries(get_feed(client)[1]) == []
    services.publish_announcement(press_of(world), world.challenge, _data(world))
    services.withdraw_announcement(press_of(world), world.challenge)
    with travel(timedelta(days=3)):
        assert entries(get_feed(client)[1]) == []


def _data(world):
    from results_support import announcement_data

    return announcement_data(world, embargo=timedelta(hours=1))


def test_the_feed_speaks_the_readers_language(app, client, make_user):
    world = frozen_world(make_user)
    publish_past_embargo(world)
    response, feed = get_feed(client, "en")
    assert feed.get(XML_LANG) == "en"
    [entry] = entries(feed)
    assert entry["title"] == "The winners are decided"
    assert entry["lang"] is None  # the feed's own language
    assert "Cookie" in response.headers["Vary"]


def test_an_entry_in_the_other_language_is_marked(app, client, make_user):
    world = frozen_world(make_user)
    publish_past_embargo(world)
    stored = db.session.scalar(select(Announcement))
    stored.title_en, stored.lead_en = "", ""
    db.session.commit()
    [entry] = entries(get_feed(client, "en")[1])
    assert entry["title"] == "Die Gewinner stehen fest"
    assert entry["lang"] == "de"


def test_hostile_titles_come_out_escaped(app, client, make_user):
    world = frozen_world(make_user)
    publish_past_embargo(world)
    stored = db.session.scalar(select(Announcement))
    stored.title_de = HOSTILE
    stored.lead_de = HOSTILE
    db.session.commit()
    project = make_project(world, title_de=HOSTILE)
    add_update(project)
    response, feed = get_feed(client)
    raw = response.get_data(as_text=True)
    assert "<script>" not in raw
    assert "]]>" not in raw
    assert "&lt;script&gt;" in raw
    titles = [entry["title"] for entry in entries(feed)]
    assert HOSTILE in titles
    assert any(HOSTILE in title for title in titles if title != HOSTILE)


# --- lab project updates ------------------------------------------------------------------


def test_project_updates_are_entries_newest_first(app, client, make_user):
    world = frozen_world(make_user)
    publish_past_embargo(world, ago=timedelta(hours=2))
    project = make_project(world)
    older = add_update(project, ago=timedelta(hours=3))
    newer = add_update(project, body_de="Jetzt **gießen** wir.", ago=timedelta(hours=1))
    found = entries(get_feed(client)[1])
    assert [e["id"].rsplit(":", 1)[1] for e in found] == [
        f"project-update/{newer.id}",
        f"results/{world.challenge.id}",
        f"project-update/{older.id}",
    ]
    assert found[0]["link"] == f"http://localhost/projects/{project.id}"
    assert "Bäume für den Markt" in found[0]["title"]
    assert found[0]["summary"] == "Jetzt gießen wir."  # plain text, no Markdown


def test_the_feed_holds_at_most_fifty_entries(app, client, make_user):
    world = frozen_world(make_user)
    project = make_project(world)
    for minutes in range(55):
        add_update(project, body_de=f"Nachricht {minutes}", ago=timedelta(minutes=minutes))
    found = entries(get_feed(client)[1])
    assert len(found) == 50
    assert found[0]["summary"] == "Nachricht 0"
    assert found[-1]["summary"] == "Nachricht 49"
