"""sitemap.xml and robots.txt: every public page with an absolute URL, and nothing of
drafts, hidden ideas or results before their embargo."""

from datetime import timedelta
from xml.etree import ElementTree as ET

from results_support import announce, frozen_world, make_idea, publish_past_embargo

from consult.challenges.models import Challenge
from consult.clock import frozen, now, travel
from consult.extensions import db
from consult.projects.models import LabProject

S = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
HOSTILE = '<script>alert("x")</script> ]]>'


def sitemap(client):
    response = client.get("/sitemap.xml")
    assert response.status_code == 200
    root = ET.fromstring(response.data)  # noqa: S314  (our own response)
    assert root.tag == f"{S}urlset"
    return response, [url.findtext(f"{S}loc") for url in root.findall(f"{S}url")]


def draft_challenge() -> Challenge:
    t = now()
    challenge = Challenge(
        title_de="Geheimer Entwurf",
        title_en="Secret draft",
        question_de="Noch nicht?",
        question_en="Not yet?",
        submission_opens_at=t + timedelta(days=3),
        submission_closes_at=t + timedelta(days=10),
        voting_opens_at=t + timedelta(days=11),
        voting_closes_at=t + timedelta(days=20),
        results_at=t + timedelta(days=30),
    )
    db.session.add(challenge)
    db.session.commit()
    return challenge


def test_the_sitemap_lists_every_public_page_with_absolute_urls(app, client, make_user):
    world = frozen_world(make_user)
    project = LabProject(challenge_id=world.challenge.id, idea_id=world.ideas[0].id,
                         title_de="Bäume", title_en="Trees")  # fmt: skip
    db.session.add(project)
    db.session.commit()
    response, urls = sitemap(client)
    base = "http://localhost"
    expected = [
        f"{base}/",
        f"{base}/projects",
        f"{base}/challenges/{world.challenge.id}",
        f"{base}/projects/{project.id}",
        f"{base}/imprint",
        f"{base}/privacy",
        f"{base}/accessibility",
    ] + [f"{base}/ideas/{idea.id}" for idea in world.ideas]
    for url in expected:
        assert url in urls, url
    assert all(url.startswith("http://localhost/") for url in urls)
    assert len(urls) == len(set(urls))
    assert response.mimetype == "application/xml"
    assert "public" in response.headers["Cache-Control"]
    assert "Set-Cookie" not in response.headers


def test_drafts_and_their_ideas_hidden_and_unpublished_ideas_are_left_out(app, client, make_user):
    world = frozen_world(make_user)
    draft = draft_challenge()
    idea_in_draft = make_idea(draft, "Vorab")
    hidden = make_idea(world.challenge, HOSTILE)
    hidden.status = "hidden"
    withdrawn = make_idea(world.challenge, "Zurückgezogen")
    withdrawn.status = "withdrawn"
    db.session.commit()
    response, urls = sitemap(client)
    for gone in (f"/challenges/{draft.id}", f"/ideas/{idea_in_draft.id}",
                 f"/ideas/{hidden.id}", f"/ideas/{withdrawn.id}"):  # fmt: skip
        assert f"http://localhost{gone}" not in urls, gone
    assert b"<script>" not in response.data
    assert b"Geheimer" not in response.data


def test_a_published_idea_with_a_hostile_title_is_listed_by_its_url_only(app, client, make_user):
    world = frozen_world(make_user)
    idea = make_idea(world.challenge, HOSTILE)
    response, urls = sitemap(client)
    assert f"http://localhost/ideas/{idea.id}" in urls
    assert b"script" not in response.data


def test_results_join_the_sitemap_at_the_embargo_and_not_earlier(app, client, make_user):
    world = frozen_world(make_user)
    embargo = announce(world, embargo=timedelta(hours=1)).embargo_at
    results = f"http://localhost/challenges/{world.challenge.id}/results"
    # Relative to the stored embargo: publishing (and its inline chart job) takes time.
    with frozen(embargo - timedelta(seconds=1)):
        assert results not in sitemap(client)[1]
    with travel(embargo - now() + timedelta(seconds=1)):
        assert results in sitemap(client)[1]


def test_unannounced_or_draft_results_stay_out(app, client, make_user):
    world = frozen_world(make_user)
    announce(world, embargo=timedelta(hours=1), publish=False)
    with travel(timedelta(days=2)):
        urls = sitemap(client)[1]
    assert not any("/results" in url for url in urls)


def test_public_results_carry_their_date(app, client, make_user):
    world = frozen_world(make_user)
    publish_past_embargo(world)
    response, _urls = sitemap(client)
    root = ET.fromstring(response.data)  # noqa: S314  (our own response)
    [entry] = [
        url for url in root.findall(f"{S}url") if url.findtext(f"{S}loc").endswith("/results")
    ]
    assert entry.findtext(f"{S}lastmod").endswith("Z")


def test_robots_txt_points_to_the_sitemap(app, client):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    lines = response.get_data(as_text=True).splitlines()
    assert "Sitemap: http://localhost/sitemap.xml" in lines
    assert "User-agent: *" in lines
    assert "Disallow: /press" in lines
    assert "public" in response.headers["Cache-Control"]
