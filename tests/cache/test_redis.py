"""The page cache in Redis: shared by every process (an invalidation in one reaches all);
an invalidation that could not reach Redis is repeated before the cache is read again."""

import pytest
from cache_support import state, warm
from voting_support import challenge_with_ideas, count_label

from consult import create_app, page_cache
from consult.extensions import db
from consult.page_cache import RedisStore, store
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
