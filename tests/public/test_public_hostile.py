"""Hostile query strings on the public pages: never a server error, nothing changed.

Rule (consult.challenges.list_options): list options come from links and a GET form that
anyone can edit, so an invalid one falls back to its default and the page says so; a
search longer than 200 characters is cut, and one without letters or digits finds nothing.
"""

import re
from urllib.parse import quote

import pytest
from public_helpers import idea_count
from sqlalchemy import func, inspect, select

from consult.challenges.models import Category, Challenge
from consult.extensions import db
from consult.ideas.models import Idea

EN = {"Accept-Language": "en"}
NOTICE = "Some of the list options were not valid and have been reset."


@pytest.fixture
def listed(make_challenge, make_idea, districts):
    challenge = make_challenge("voting", categories=[("Grün", "Green")])
    other = make_challenge("voting", categories=[("Fremd", "Foreign")])
    for n in range(25):
        make_idea(
            challenge,
            title=f"Idee {n}",
            category_id=challenge.categories[0].id,
            district_id=districts[n % 3].id,
            vote_count=n,
        )
    make_idea(other, title="Fremde Idee", category_id=other.categories[0].id)
    return challenge, other


def _snapshot():
    return (
        db.session.scalar(select(func.count()).select_from(Idea)),
        db.session.scalar(select(func.count()).select_from(Challenge)),
        db.session.scalar(select(func.count()).select_from(Category)),
        db.session.scalar(select(func.sum(Idea.vote_count))),
        sorted(inspect(db.engine).get_table_names()),
    )


HOSTILE = [
    ("sort=votes;DROP TABLE ideas", True),
    ("sort=votes%3BDROP%20TABLE%20ideas--", True),
    ("sort=' OR 1=1--", True),
    ("sort=VOTES", True),
    ("sort[]=votes", False),
    ("sort=votes&sort=random", False),  # the first one counts
    ("page=-1", True),
    ("page=0", True),
    ("page=abc", True),
    ("page=1.5", True),
    ("page=%20", True),
    ("page=1e3", True),
    ("page=" + "9" * 300, False),  # past the end: the last page
    ("page=" + "9" * 5000, False),
    ("page=%EF%BC%91", True),  # a full-width digit one
    ("category=abc", True),
    ("category=-1", True),
    ("category=" + "9" * 300, True),
    ("district=abc", True),
    ("district=99999", True),
    ("district=1;DELETE FROM ideas", True),
    ("seed=abc", False),  # ignored unless the order is random
    ("q=%25", False),
    ("q=_", False),
    ("q=" + "%25_" * 2500, False),
    ("q=" + "a" * 5000, False),
    ("q='; DROP TABLE ideas; --", False),
    ("q=" + quote("\u202e\u200b\ufeff"), False),
    ("q=" + quote("))) !!! ::* <-> &|"), False),
]


@pytest.mark.parametrize(("query", "noticed"), HOSTILE)
def test_hostile_parameters_fall_back_safely(client, listed, query, noticed):
    challenge, _ = listed
    before = _snapshot()
    response = client.get(f"/challenges/{challenge.id}?{query}", headers=EN)
    assert response.status_code == 200, response.status_code
    html = response.get_data(as_text=True)
    assert (NOTICE in html) == noticed
    assert "Fremde Idee" not in html
    assert _snapshot() == before


def test_an_unknown_sort_is_the_newest_first(client, listed):
    challenge, _ = listed
    html = client.get(f"/challenges/{challenge.id}?sort=votes;DROP TABLE", headers=EN).text
    assert '<option value="newest" selected>' in html
    assert html.index(">Idee 24<") < html.index(">Idee 23<")


def test_bad_page_numbers(client, listed):
    challenge, _ = listed
    url = f"/challenges/{challenge.id}"
    for bad in ("-1", "abc", "0"):
        html = client.get(f"{url}?page={bad}", headers=EN).text
        assert "Page 1 of 2" in html and idea_count(html) == 20
    html = client.get(f"{url}?page={'9' * 300}", headers=EN).text
    assert "Page 2 of 2" in html and idea_count(html) == 5 and NOTICE not in html


def test_filters_of_another_challenge_are_ignored(client, listed):
    challenge, other = listed
    html = client.get(
        f"/challenges/{challenge.id}?category={other.categories[0].id}", headers=EN
    ).text
    assert NOTICE in html and "Fremde Idee" not in html
    assert "25 ideas" in html and '<option value="" selected>' not in html


def test_a_long_search_is_cut_and_said_so(client, listed):
    challenge, _ = listed
    html = client.get(f"/challenges/{challenge.id}?q={'Idee ' * 1000}", headers=EN).text
    assert "Only the first 200 characters of your search were used." in html
    value = re.search(r'name="q" value="([^"]*)"', html).group(1)
    assert len(value) <= 200 and value.startswith("Idee Idee")
    assert "25 ideas match your search." in html


def test_a_search_for_percent_or_underscore_does_not_match_everything(client, listed):
    challenge, _ = listed
    for query in ("%25", "_", "%25%25", "%25_%25", "*"):
        html = client.get(f"/challenges/{challenge.id}?q={query}", headers=EN).text
        assert "0 ideas match your search." in html and idea_count(html) == 0, query


def test_random_with_a_forged_seed_gets_a_fresh_one(client, listed):
    challenge, _ = listed
    for seed in ("abc", "0", "-5", "9" * 300, "3000000000"):
        response = client.get(f"/challenges/{challenge.id}?sort=random&seed={seed}")
        assert response.status_code == 303
        fresh = re.search(r"seed=(\d+)", response.headers["Location"]).group(1)
        assert 1 <= int(fresh) <= 2_000_000_000
    client.set_cookie("consult_order", "not-a-number", path="/challenges/")
    response = client.get(f"/challenges/{challenge.id}?sort=random")
    assert re.search(r"seed=(\d+)", response.headers["Location"])


@pytest.mark.parametrize(
    "path",
    ["/challenges/" + "9" * 300, "/challenges/2147483648", "/challenges/-1", "/challenges/abc"],
)
def test_impossible_challenge_ids_are_not_found(client, path):
    assert client.get(path).status_code == 404
