"""Link previews (Open Graph, Twitter cards) on challenge, idea, results and project pages:
absolute canonical URLs, plain-text descriptions, escaped titles, nothing unpublished."""

from datetime import timedelta
from html.parser import HTMLParser

from results_support import announce, frozen_world, make_idea, publish_past_embargo
from sqlalchemy import delete, select

from consult.clock import travel
from consult.extensions import db
from consult.media.models import Image
from consult.projects.models import LabProject
from consult.results.models import Announcement, ResultChart
from consult.text import render_markdown

HOSTILE = '<script>alert("x")</script> ]]> "quoted"'


class _Meta(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: dict[str, str] = {}
        self.canonical = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "meta" and ("property" in attrs or "name" in attrs):
            self.tags[attrs.get("property") or attrs.get("name")] = attrs.get("content")
        if tag == "link" and attrs.get("rel") == "canonical":
            self.canonical = attrs.get("href")


def meta_of(response) -> _Meta:
    assert response.status_code == 200
    parser = _Meta()
    parser.feed(response.get_data(as_text=True))
    return parser


def head_of(response) -> str:
    return response.get_data(as_text=True).split("</head>")[0]


def add_image(width=1200, height=630) -> Image:
    image = Image(data=b"RIFF", width=width, height=height, digest="d" * 64)
    db.session.add(image)
    db.session.commit()
    return image


# --- challenge pages ----------------------------------------------------------------------


def test_a_challenge_page_has_a_full_preview(app, client, make_user):
    world = frozen_world(make_user)
    challenge = world.challenge
    meta = meta_of(client.get(f"/challenges/{challenge.id}?sort=newest"))
    url = f"http://localhost/challenges/{challenge.id}"
    assert meta.tags["og:title"] == challenge.title_de
    assert meta.tags["og:description"] == challenge.question_de
    assert meta.tags["og:url"] == url
    assert meta.canonical == url  # without the list options of the visit
    assert meta.tags["og:type"] == "website"
    assert meta.tags["og:locale"] == "de_DE"
    assert meta.tags["og:locale:alternate"] == "en_GB"
    assert meta.tags["og:site_name"] == "consult Dortmund"
    assert meta.tags["twitter:card"] == "summary"
    assert "og:image" not in meta.tags


def test_the_preview_follows_the_visitors_language(app, client, make_user):
    world = frozen_world(make_user)
    response = client.get(f"/challenges/{world.challenge.id}", headers={"Accept-Language": "en"})
    meta = meta_of(response)
    assert meta.tags["og:title"] == world.challenge.title_en
    assert meta.tags["og:locale"] == "en_GB"


def test_a_cover_image_becomes_a_large_card(app, client, make_user):
    world = frozen_world(make_user)
    image = add_image()
    world.challenge.cover_image_id = image.id
    world.challenge.cover_alt_de = "Ein Marktplatz mit Bäumen"
    db.session.commit()
    meta = meta_of(client.get(f"/challenges/{world.challenge.id}"))
    src = f"http://localhost/media/{image.id}/{image.digest}.webp"
    assert meta.tags["og:image"] == src
    assert meta.tags["twitter:image"] == src
    assert meta.tags["og:image:width"] == "1200"
    assert meta.tags["og:image:height"] == "630"
    assert meta.tags["og:image:alt"] == "Ein Marktplatz mit Bäumen"
    assert meta.tags["twitter:card"] == "summary_large_image"
    assert client.get(src.removeprefix("http://localhost")).status_code == 200


def test_the_challenge_page_does_not_hint_at_scheduled_results(app, client, make_user):
    world = frozen_world(make_user)
    announce(world, embargo=timedelta(hours=1), title_de="Geheime Sieger", lead_de="Pssst")
    head = head_of(client.get(f"/challenges/{world.challenge.id}"))
    assert "Geheime Sieger" not in head and "Pssst" not in head
    assert "/results" not in head


# --- idea pages ---------------------------------------------------------------------------


def test_an_idea_preview_is_plain_text_and_escaped(app, client, make_user):
    world = frozen_world(make_user)
    idea = make_idea(world.challenge, HOSTILE)
    idea.body = "Mehr **Bäume** und [Wasser](https://example.org) <b>jetzt</b>. " + "lang " * 80
    idea.body_html = render_markdown(idea.body)
    db.session.commit()
    response = client.get(f"/ideas/{idea.id}")
    meta = meta_of(response)
    assert meta.tags["og:title"] == HOSTILE
    assert meta.tags["twitter:title"] == HOSTILE
    assert meta.tags["og:type"] == "article"
    assert meta.tags["og:url"] == f"http://localhost/ideas/{idea.id}"
    description = meta.tags["og:description"]
    assert description.startswith("Mehr Bäume und Wasser <b>jetzt</b>.")  # the typed text
    assert "**" not in description and "https://" not in description
    assert len(description) <= 200 and description.endswith("…")
    head = head_of(response)
    assert "<script>" not in head and "&lt;script&gt;" in head
    assert '"quoted"' not in head


def test_an_idea_photo_is_the_preview_image(app, client, make_user):
    world = frozen_world(make_user)
    image = add_image(800, 600)
    idea = world.ideas[0]
    idea.image_id, idea.image_alt = image.id, "Ein Brunnen"
    db.session.commit()
    meta = meta_of(client.get(f"/ideas/{idea.id}"))
    assert meta.tags["og:image"] == f"http://localhost/media/{image.id}/{image.digest}.webp"
    assert meta.tags["og:image:alt"] == "Ein Brunnen"


def test_a_hidden_idea_has_no_preview(app, client, make_user):
    world = frozen_world(make_user)
    idea = make_idea(world.challenge, "Versteckt und privat")
    idea.status = "hidden"
    idea.moderation_reason = "spam"
    db.session.commit()
    response = client.get(f"/ideas/{idea.id}")
    head = head_of(response)
    assert "og:" not in head and "twitter:" not in head
    assert "Versteckt und privat" not in head


# --- results pages ------------------------------------------------------------------------


def test_the_results_preview_uses_the_announcement(app, client, make_user):
    world = frozen_world(make_user)
    publish_past_embargo(world)
    meta = meta_of(client.get(f"/challenges/{world.challenge.id}/results"))
    assert meta.tags["og:title"] == "Die Gewinner stehen fest"
    assert meta.tags["og:description"] == "Trinkbrunnen und Bäume für die Innenstadt."
    assert meta.tags["og:url"] == f"http://localhost/challenges/{world.challenge.id}/results"
    assert meta.tags["og:type"] == "article"


def test_without_a_chart_the_results_preview_is_a_small_card(app, client, make_user):
    world = frozen_world(make_user)
    publish_past_embargo(world)
    db.session.execute(delete(ResultChart))
    db.session.commit()
    meta = meta_of(client.get(f"/challenges/{world.challenge.id}/results"))
    assert meta.tags["twitter:card"] == "summary"
    assert "og:image" not in meta.tags


def test_a_rendered_chart_is_the_results_preview_image(app, client, make_user):
    world = frozen_world(make_user)
    publish_past_embargo(world)
    # Whatever the chart job made on publishing: this test decides which charts exist.
    db.session.execute(delete(ResultChart))
    for locale in ("de", "en"):
        db.session.add(
            ResultChart(challenge_id=world.challenge.id, name="votes-by-day", locale=locale,
                        format="png", content=b"\x89PNG\r\n\x1a\n", source_hash="h" * 64)
        )  # fmt: skip
    db.session.commit()
    meta = meta_of(client.get(f"/challenges/{world.challenge.id}/results"))
    path = f"/challenges/{world.challenge.id}/results/charts/votes-by-day-de.png"
    assert meta.tags["og:image"] == "http://localhost" + path
    assert meta.tags["og:image:type"] == "image/png"
    assert meta.tags["og:image:alt"]
    assert meta.tags["twitter:card"] == "summary_large_image"
    assert client.get(path).status_code == 200  # the chart route serves that address


def test_hostile_announcement_titles_come_out_escaped(app, client, make_user):
    world = frozen_world(make_user)
    publish_past_embargo(world)
    stored = db.session.scalar(select(Announcement))
    stored.title_de = HOSTILE
    db.session.commit()
    response = client.get(f"/challenges/{world.challenge.id}/results")
    assert meta_of(response).tags["og:title"] == HOSTILE
    head = head_of(response)
    assert "<script>" not in head and '"quoted"' not in head


def test_no_results_preview_before_the_embargo(app, client, make_user):
    world = frozen_world(make_user)
    announce(world, embargo=timedelta(hours=1))
    with travel(timedelta(minutes=59)):
        response = client.get(f"/challenges/{world.challenge.id}/results")
    assert response.status_code == 404
    assert "Die Gewinner" not in response.get_data(as_text=True)


# --- project pages ------------------------------------------------------------------------


def test_a_project_page_has_a_preview(app, client, make_user):
    world = frozen_world(make_user)
    project = LabProject(challenge_id=world.challenge.id, idea_id=world.ideas[0].id,
                         title_de=HOSTILE, title_en="Trees", summary_de="Wir **pflanzen**.")  # fmt: skip
    db.session.add(project)
    db.session.commit()
    response = client.get(f"/projects/{project.id}")
    meta = meta_of(response)
    assert meta.tags["og:title"] == HOSTILE
    assert meta.tags["og:description"] == "Wir pflanzen."
    assert meta.tags["og:url"] == f"http://localhost/projects/{project.id}"
    assert "<script>" not in head_of(response)


def test_a_typed_question_keeps_its_angle_brackets_as_text(app, client, make_user):
    world = frozen_world(make_user)
    world.challenge.question_de = "Ist <b>mehr</b> Grün  besser?"
    db.session.commit()
    meta = meta_of(client.get(f"/challenges/{world.challenge.id}"))
    assert meta.tags["og:description"] == "Ist <b>mehr</b> Grün besser?"
