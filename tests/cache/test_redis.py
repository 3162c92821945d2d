"""The page cache in Redis: shared by every process (an invalidation in one reaches all);
an invalidation that could not reach Redis is repeated before the cache is read again."""

import threading
import time

import pytest
from cache_support import card_hits, state, warm
from voting_support import challenge_with_ideas, count_label

from consult import create_app, page_cache
from consult.extensions import db
from consult.page_cache import WAIT_SECONDS, RedisStore, cached_page, do_not_store, store
from consult.voting.services import cast_vote


@pytest.fixture
def app_config(redis_url):
    return {"REDIS_URL": redis_url}  # PAGE_CACHE unset: Redis is chosen


def test_processes_share_pages_and_a_vote_in_one_reaches_all(app, client, make_user):
    challenge, (idea, _other) = challenge_with_ideas(2)
    assert isinstance(store(), RedisStore)
    url = f"/challenges/{challenge.id}"
    warm(client, url)
    other_process = create_app(dict(app.config)).test_client()
    assert state(other_process.get(url)) == "hit"
    cast_vote(make_user(), challenge, idea.id)
    response = other_process.get(url)
    assert state(response) == "miss" and count_label(1) in response.get_data(as_text=True)


def test_an_invalidation_redis_missed_is_repeated_before_the_next_read(app, client, monkeypatch):
    challenge, _ideas = challenge_with_ideas(1)
    url = f"/challenges/{challenge.id}"
    warm(client, url)
    with monkeypatch.context() as during_outage:
        during_outage.setattr(page_cache, "usable_redis", lambda: None)
        challenge.title_de = "Neuer Titel"
        db.session.commit()
    assert store().bump_pending
    response = client.get(url)
    assert state(response) == "miss" and "Neuer Titel" in response.get_data(as_text=True)


def test_visitors_asking_for_a_page_being_rendered_wait_for_that_copy(app):
    """After a change, fifty visitors must not render the same page fifty times."""
    rendered = []

    def slow_page():
        rendered.append(1)
        time.sleep(0.3)
        return "<p>rendered once</p>"

    app.add_url_rule("/t/slow", "t_slow", cached_page(60)(slow_page))
    answers = []

    def visit():
        answers.append(app.test_client().get("/t/slow"))

    threads = [threading.Thread(target=visit) for _ in range(5)]
    for thread in threads:
        thread.start()
        time.sleep(0.02)  # the first claims the page before the others ask
    for thread in threads:
        thread.join()
    assert len(rendered) == 1
    assert all(a.status_code == 200 and a.data == b"<p>rendered once</p>" for a in answers)
    assert sorted(state(a) for a in answers) == ["hit"] * 4 + ["miss"]


def test_a_page_that_is_not_stored_lets_the_waiting_visitors_render_at_once(app):
    def uncacheable():
        time.sleep(0.2)
        do_not_store()
        return "<p>mine</p>"

    app.add_url_rule("/t/mine", "t_mine", cached_page(60)(uncacheable))
    timings = []

    def visit():
        started = time.monotonic()
        assert app.test_client().get("/t/mine").status_code == 200
        timings.append(time.monotonic() - started)

    threads = [threading.Thread(target=visit) for _ in range(3)]
    for thread in threads:
        thread.start()
        time.sleep(0.02)
    for thread in threads:
        thread.join()
    # Each waited for the first at most, then rendered: never the full WAIT_SECONDS.
    assert max(timings) < 0.2 + 0.2 + WAIT_SECONDS / 2, timings


def test_a_searchs_single_cards_are_shared_through_redis_and_a_vote_empties_them(
    app, client, make_user
):
    challenge, (idea, _other) = challenge_with_ideas(2)
    search = f"/challenges/{challenge.id}?q=Idee"
    first = client.get(search)
    assert first.status_code == 200 and card_hits(first) == "0/2"
    # Another process (another seed, another spelling of the search) reads them with
    # one MGET; nothing of a whole list is stored.
    other_process = create_app(dict(app.config)).test_client()
    for url in (search, f"/challenges/{challenge.id}?sort=random&seed=5", f"{search}+"):
        assert card_hits(other_process.get(url)) == "2/2", url
    cast_vote(make_user(), challenge, idea.id)
    response = other_process.get(search)
    assert card_hits(response) == "0/2" and count_label(1) in response.get_data(as_text=True)
    assert card_hits(client.get(search)) == "2/2"
