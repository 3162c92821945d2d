"""Cache poisoning and flooding: a forged Host or X-Forwarded-Host never reaches a cached
page; odd query strings (unknown or repeated keys, 10,000-character values, pages past the
end, searches, random orders) are rendered but never stored, so they cannot fill the cache
or be served to others (searches and random orders keep single cards: at most one per
idea); the same parameters in another order share one entry; a
5,000-character Accept-Language is keyed by the language chosen."""

import pytest
from cache_support import card_fragments, fragments, pages, state, warm
from voting_support import challenge_with_ideas


@pytest.fixture
def app_config():
    # One trusted proxy: X-Forwarded-Host is then believed by the request, the worst case.
    return {"PAGE_CACHE": "memory", "PROXY_COUNT": 1}


@pytest.fixture
def world(app):
    return challenge_with_ideas(3)


@pytest.fixture
def challenge(world):
    return world[0]


@pytest.mark.parametrize(
    "headers",
    [{"Host": "evil.example"}, {"X-Forwarded-Host": "evil.example"}],
    ids=["host", "forwarded-host"],
)
def test_a_forged_host_never_reaches_a_cached_page(app, client, world, headers):
    challenge, ideas = world
    urls = ["/", f"/challenges/{challenge.id}", f"/ideas/{ideas[0].id}"]
    for url in urls:
        # Rendered first for the forger, then served to everybody from the cache.
        assert "evil.example" not in warm(client, url, headers=headers)
        honest = app.test_client().get(url)
        assert state(honest) == "hit" and b"evil.example" not in honest.data
    assert len(pages()) == len(urls)  # one entry per page, whatever the host


def test_odd_query_strings_are_rendered_but_never_stored(client, world, challenge):
    base = f"/challenges/{challenge.id}"
    odd = [
        *(f"{base}?utm_source=x{i}" for i in range(20)),  # unknown keys
        f"{base}?sort=votes&sort=newest",  # a repeated key
        f"{base}?sort=votes&sort=votes",
        f"{base}?page=" + "9" * 10_000,  # 10,000 characters
        f"{base}?q=" + "a" * 10_000,
        f"{base}?q=Baum",  # searches: without bound, so never stored
        f"{base}?sort=random&seed=42",  # one order per visitor
        f"{base}?page=999",  # past the end: the last page, under another name
        f"{base}?category=123456",  # not a category of this challenge
        f"{base}?sort=bogus",
        f"{base}?page=-1",
        f"{base}?page=01",  # page 1 under another name
    ]
    for url in odd:
        for _ in range(2):
            response = client.get(url)
            assert response.status_code == 200, url[:80]
            assert state(response) in ("bypass", "miss"), url[:80]
    assert len(pages()) == 0
    # The idea cards, shared with logged-in readers, are keyed by the list they show (the
    # options as read), never by the raw query: at most the newest and most-votes lists.
    kept = set(fragments())
    assert len(kept) <= 2
    for i in range(20):
        client.get(f"{base}?utm_campaign=y{i}&page={10 + i}&sort=votes&sort=votes")
    assert set(fragments()) == kept
    # Searches and random orders keep single cards: one per idea, whatever the number of
    # searches, seeds and junk parameters that show it.
    for i in range(20):
        for url in (f"{base}?q=Idee+{i}", f"{base}?sort=random&seed={i + 1}&x{i}=1"):
            assert client.get(url).status_code == 200
    assert 0 < len(card_fragments()) <= len(world[1])


def test_the_same_parameters_in_another_order_share_one_entry(client, challenge):
    base = f"/challenges/{challenge.id}"
    warm(client, f"{base}?sort=votes&page=1&answer=unanswered")
    for url in (
        f"{base}?page=1&answer=unanswered&sort=votes",
        f"{base}?answer=unanswered&page=1&sort=votes",
    ):
        assert state(client.get(url)) == "hit"
    assert len(pages()) == 1


def test_a_huge_accept_language_is_keyed_by_the_language_chosen(client, challenge):
    url = f"/challenges/{challenge.id}"
    assert 'lang="en"' in warm(client, url, headers={"Accept-Language": "en"})
    huge = "en;q=0.9," + ",".join(f"x{i};q=0.1" for i in range(700))
    huge = huge[:5000]
    response = client.get(url, headers={"Accept-Language": huge})
    assert response.status_code == 200 and state(response) == "hit"
    junk = client.get(url, headers={"Accept-Language": "ä" * 5000})
    assert junk.status_code == 200 and 'lang="de"' in junk.get_data(as_text=True)
    assert len(pages()) == 2  # English and German, nothing else
