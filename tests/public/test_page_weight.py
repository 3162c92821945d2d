"""A challenge page weighs at most 60 KB (HTML + CSS + JS, uncompressed, images aside),
even with 20 ideas of maximum-length titles and long bodies."""

import re

from consult.extensions import db
from consult.ideas.models import BODY_MAX, TITLE_MAX

LIMIT = 60 * 1024


def _weight(client, url) -> tuple[int, dict]:
    response = client.get(url, headers={"Accept-Language": "de"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    parts = {"html": len(response.data)}
    assets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
    assets += re.findall(r'<script[^>]* src="([^"]+)"', html)
    for asset in assets:
        asset_response = client.get(asset)
        assert asset_response.status_code == 200, asset
        parts[asset] = len(asset_response.get_data())
        asset_response.close()
    return sum(parts.values()), parts


def test_a_full_challenge_page_weighs_at_most_60_kb(
    client, make_challenge, make_idea, make_user, make_image, districts
):
    # Every text at its maximum length and escaping-heavy: umlauts take two bytes, & becomes
    # &amp;, < becomes &lt;.
    challenge = make_challenge(
        "voting",
        categories=[(("Grün & Klima " * 7)[:80], ("Green & climate " * 6)[:80])] * 8,
        title_de=("Wie wird die Innenstadt lebendiger & grüner? " * 4)[:160],
        question_de=("Was würde Sie öfter in die Dortmunder Innenstadt locken? " * 6)[:300],
        description_de=("Die Stadt sucht Ideen für Plätze, Wege & Treffpunkte. " * 200)[:10_000],
        plain_de=("Die Stadt fragt: Was wünschen Sie sich? " * 130)[:5_000],
    )
    author = make_user(pseudonym="Ä" * 40)
    image = make_image()
    title = ("Größere & schönere Spielplätze für Kinder <3 " * 4)[:TITLE_MAX]
    body = ("Über **Bäume**, [Wege](https://example.org/" + "x" * 200 + ") & Plätze. ") * 80
    for n in range(25):
        make_idea(
            challenge,
            title=title,
            body=body[:BODY_MAX],
            author_id=author.id,
            category_id=challenge.categories[n % 8].id,
            district_id=districts[n % 3].id,
            image_id=image.id,
            vote_count=99_999,
            comment_count=9_999,
        )
    challenge.cover_image_id = image.id
    db.session.commit()
    url = f"/challenges/{challenge.id}?sort=random&seed=123456789&q=Spielpl%C3%A4tze"
    total, parts = _weight(client, url)
    html = client.get(url).get_data(as_text=True)
    assert html.count('<li class="idea">') == 20
    print(f"challenge page weight: {total} bytes {parts}")
    assert total <= LIMIT, parts


def test_the_home_page_is_light(client, make_challenge):
    for phase in ("submission", "voting", "evaluation", "results", "archived"):
        for _ in range(4):
            make_challenge(phase, title_de="Ü" * 160, question_de="Ö" * 300)
    total, parts = _weight(client, "/")
    print(f"home page weight: {total} bytes {parts}")
    assert total <= LIMIT, parts


def test_staff_styles_reach_staff_but_never_a_visitor_or_a_citizen(app, client, login, make_user):
    """The styles of staff pages (staff.css) are not part of a visitor's or citizen's page."""
    assert "css/staff.css" not in client.get("/").get_data(as_text=True)
    login(make_user())
    assert "css/staff.css" not in client.get("/").get_data(as_text=True)
    client.post_form("/account/logout", {})
    client.forget_csrf()  # a new session after logging out, so a new token
    login(make_user(roles=("citizen", "moderator")))
    assert "css/staff.css" in client.get("/").get_data(as_text=True)
