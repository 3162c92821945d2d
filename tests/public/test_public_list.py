"""The idea list: only published ideas, sorting, random order, filters, search, pages."""

import re

import pytest
from public_helpers import idea_count, titles_in
from sqlalchemy import select, text

from consult.extensions import db
from consult.ideas.models import Idea
from consult.ideas.services import _search_clause

EN = {"Accept-Language": "en"}


def html_of(client, url):
    response = client.get(url, headers=EN)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def test_only_published_ideas_of_this_challenge_are_listed(client, make_challenge, make_idea):
    challenge = make_challenge("voting")
    other = make_challenge("voting")
    make_idea(challenge, title="Öffentlich")
    for status in ("draft", "submitted", "hidden", "withdrawn"):
        make_idea(challenge, title=f"Status {status}", status=status)
    make_idea(other, title="Andere Herausforderung")
    html = html_of(client, f"/challenges/{challenge.id}")
    assert ">Öffentlich<" in html and idea_count(html) == 1
    assert "Status " not in html and "Andere Herausforderung" not in html
    assert "1 idea" in html
    html = html_of(client, f"/challenges/{challenge.id}?q=Status")
    assert idea_count(html) == 0


def test_sort_by_newest_and_by_votes(client, make_challenge, make_idea):
    challenge = make_challenge("voting")
    for title, votes in (("Alt", 5), ("Mittel", 50), ("Neu", 1)):
        make_idea(challenge, title=title, vote_count=votes)
    url = f"/challenges/{challenge.id}"
    titles = ["Alt", "Mittel", "Neu"]
    assert titles_in(html_of(client, url), titles) == ["Neu", "Mittel", "Alt"]
    assert titles_in(html_of(client, url + "?sort=newest"), titles) == ["Neu", "Mittel", "Alt"]
    assert titles_in(html_of(client, url + "?sort=votes"), titles) == ["Mittel", "Alt", "Neu"]
    assert '<option value="votes" selected>' in html_of(client, url + "?sort=votes")


def _random_titles(client, url):
    html = html_of(client, url)
    return re.findall(r'dir="auto">(Zufall \d+)</a></h3>', html)


@pytest.fixture
def thirty(make_challenge, make_idea):
    challenge = make_challenge("voting")
    for n in range(30):
        make_idea(challenge, title=f"Zufall {n}")
    return challenge


def test_random_order_gets_a_seed_in_the_url_and_a_short_cookie(client, thirty):
    response = client.get(f"/challenges/{thirty.id}?sort=random&q=Zufall", headers=EN)
    assert response.status_code == 303
    location = response.headers["Location"]
    seed = re.search(r"seed=(\d+)", location).group(1)
    assert "sort=random" in location and "q=Zufall" in location and location.endswith("#ideas")
    assert response.headers["Cache-Control"] == "private, no-store"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"consult_order={seed};") and "HttpOnly" in cookie
    assert "Max-Age=21600" in cookie and "Path=/challenges/" in cookie
    # The same visitor asking again gets the same order back.
    again = client.get(f"/challenges/{thirty.id}?sort=random", headers=EN)
    assert f"seed={seed}" in again.headers["Location"]
    # The page itself only depends on its URL: cacheable, and it sets no cookie.
    shown = client.get(location, headers=EN)
    assert shown.status_code == 200 and "Set-Cookie" not in shown.headers
    assert shown.headers["Cache-Control"].startswith("public")
    html = shown.get_data(as_text=True)
    assert f'<input type="hidden" name="seed" value="{seed}">' in html
    assert f"seed={seed}" in html.split('class="pager"')[1]


def test_random_order_is_stable_for_a_seed_and_differs_between_seeds(client, thirty):
    url = f"/challenges/{thirty.id}?sort=random&seed="
    first = _random_titles(client, url + "12345")
    assert len(first) == 20
    assert _random_titles(client, url + "12345") == first
    newest = _random_titles(client, f"/challenges/{thirty.id}")
    assert first != newest
    orders = {tuple(_random_titles(client, url + str(seed))) for seed in (1, 2, 777, 99_999)}
    assert len(orders | {tuple(first)}) == 5
    # Paging through one seed shows every idea exactly once.
    both = first + _random_titles(client, url + "12345&page=2")
    assert sorted(both) == sorted(f"Zufall {n}" for n in range(30))


def test_different_visitors_get_different_seeds(app, thirty):
    seeds = set()
    for _ in range(5):
        response = app.test_client().get(f"/challenges/{thirty.id}?sort=random")
        seeds.add(re.search(r"seed=(\d+)", response.headers["Location"]).group(1))
    assert len(seeds) == 5


def test_filter_by_category_and_district(client, make_challenge, make_idea, districts):
    challenge = make_challenge("voting", categories=[("Grün", "Green"), ("Verkehr", "Traffic")])
    green, traffic = challenge.categories
    make_idea(challenge, title="A", category_id=green.id, district_id=districts[0].id)
    make_idea(challenge, title="B", category_id=green.id, district_id=districts[1].id)
    make_idea(challenge, title="C", category_id=traffic.id, district_id=districts[1].id)
    url = f"/challenges/{challenge.id}"
    titles = ["A", "B", "C"]
    assert titles_in(html_of(client, f"{url}?category={green.id}"), titles) == ["B", "A"]
    assert titles_in(html_of(client, f"{url}?district={districts[1].id}"), titles) == ["C", "B"]
    html = html_of(client, f"{url}?category={green.id}&district={districts[1].id}")
    assert titles_in(html, titles) == ["B"]
    assert f'<option value="{green.id}" lang="en" selected>Green</option>' in html
    assert f'<option value="{districts[1].id}" selected>Hörde</option>' in html
    html = html_of(client, f"{url}?category=&district=")  # "all" in the form
    assert titles_in(html, titles) == ["C", "B", "A"] and "were not valid" not in html


@pytest.fixture
def searchable(make_challenge, make_idea):
    challenge = make_challenge("voting")
    make_idea(challenge, title="Neuer Spielplatz im Park", body="Mit Rutsche und Schaukel.")
    make_idea(challenge, title="Trinkbrunnen", body="Wasser für den Spielplatz am Markt.")
    make_idea(challenge, title="Bessere Radwege", body="Sichere Wege für Kinder.")
    make_idea(challenge, title="More playgrounds", body="Shade for children.", language="en")
    make_idea(challenge, title="Rabatt 50% für_Fahrräder", body="Prozente.")
    make_idea(make_challenge("voting"), title="Spielplatz anderswo")
    return challenge


SEARCH_TITLES = [
    "Neuer Spielplatz im Park",
    "Trinkbrunnen",
    "Bessere Radwege",
    "More playgrounds",
    "Rabatt 50% für_Fahrräder",
]


def _search(client, challenge, query):
    from urllib.parse import quote

    html = html_of(client, f"/challenges/{challenge.id}?q={quote(query)}")
    return set(titles_in(html, SEARCH_TITLES))


def test_search_on_both_databases(client, searchable):
    assert _search(client, searchable, "Spielplatz") == {"Neuer Spielplatz im Park", "Trinkbrunnen"}
    assert _search(client, searchable, "spielplatz markt") == {"Trinkbrunnen"}
    assert _search(client, searchable, "Rutsche") == {"Neuer Spielplatz im Park"}
    assert _search(client, searchable, "Spielpl") == {"Neuer Spielplatz im Park", "Trinkbrunnen"}
    assert _search(client, searchable, "Radweg") == {"Bessere Radwege"}
    assert _search(client, searchable, "playground") == {"More playgrounds"}
    assert _search(client, searchable, "Weltraumbahnhof") == set()
    html = html_of(client, f"/challenges/{searchable.id}?q=Spielplatz")
    assert "2 ideas match your search." in html and 'value="Spielplatz"' in html


def test_operators_match_nothing_by_themselves(client, searchable):
    for query in ("%", "_", "%%", "%_%", "*", "&", "|", "!", ":*", "'", '"', "\\", "<->"):
        assert _search(client, searchable, query) == set(), query
    # Words next to the characters still count.
    assert _search(client, searchable, "50%") == {"Rabatt 50% für_Fahrräder"}
    assert _search(client, searchable, "für_Fahrräder") == {"Rabatt 50% für_Fahrräder"}
    assert _search(client, searchable, "spielplatz & !park") == {
        "Neuer Spielplatz im Park"  # & and ! are no operators: all words must match
    }


@pytest.mark.postgres_only
def test_german_and_english_stemming_on_postgresql(app, client, searchable, backend):
    assert _search(client, searchable, "Spielplätze") == {
        "Neuer Spielplatz im Park",
        "Trinkbrunnen",
    }
    assert _search(client, searchable, "Rutschen") == {"Neuer Spielplatz im Park"}
    assert _search(client, searchable, "children") == {"More playgrounds"}
    assert _search(client, searchable, "Kinder") == {"Bessere Radwege"}
    assert _search(client, searchable, "sichere Wege") == {"Bessere Radwege"}


@pytest.mark.postgres_only
def test_postgresql_can_use_the_search_index(app, searchable, backend):
    condition, values = _search_clause("Spielplätze im Park")
    statement = select(Idea.id).where(condition).params(values)
    compiled = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
    with db.engine.connect() as conn:
        conn.execute(text("SET enable_seqscan = off"))
        plan = "\n".join(row[0] for row in conn.execute(text(f"EXPLAIN {compiled}")))
    assert "ix_ideas_search" in plan, plan


def test_pagination_keeps_the_options(client, make_challenge, make_idea):
    challenge = make_challenge("voting")
    for n in range(45):
        make_idea(challenge, title=f"Seite {n}")
    url = f"/challenges/{challenge.id}?sort=votes&q=Seite"
    first = html_of(client, url)
    assert idea_count(first) == 20 and "Page 1 of 3" in first
    pager = first.split('class="pager"')[1].split("</nav>")[0]
    assert 'rel="prev"' not in pager
    next_link = re.search(r'href="([^"]+)" rel="next"', pager).group(1).replace("&amp;", "&")
    assert "sort=votes" in next_link and "q=Seite" in next_link and "page=2" in next_link
    second = html_of(client, next_link)
    assert idea_count(second) == 20 and 'rel="prev"' in second and 'rel="next"' in second
    third = html_of(client, url + "&page=3")
    assert idea_count(third) == 5 and 'rel="next"' not in third
    seen = set()
    for html in (first, second, third):
        seen |= set(re.findall(r'dir="auto">(Seite \d+)</a>', html))
    assert len(seen) == 45
    # 20 ideas fit one page: no pager at all.
    assert 'class="pager"' not in html_of(client, f"/challenges/{challenge.id}?q=Seite+1")


def test_excerpts_keep_punctuation_next_to_formatted_words():
    from consult.ideas.services import _excerpt

    html = '<p>Sicher <strong>abstellen</strong>, <em>überdacht</em>, mit <a href="https://x.example">Link</a>.</p><p>Zweiter Absatz</p>'
    assert _excerpt(html) == "Sicher abstellen, überdacht, mit Link. Zweiter Absatz"
