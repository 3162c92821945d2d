"""Each change a visitor's page shows invalidates the cached page at once: a vote, a comment,
an idea published, hidden, edited, answered or merged, paper votes, the challenge edited;
and the clock: a phase boundary or a results embargo ends an entry without any write."""

from datetime import timedelta

import pytest
from cache_support import fresh, state, warm
from results_support import announce, frozen_world, results_url, stored_announcement
from sqlalchemy import select, text, update
from testdata import PASSWORD, pass_code_step
from voting_support import challenge_with_ideas, count_label, make_idea

from consult.accounts.models import User
from consult.answers.services import answer_idea
from consult.clock import frozen, now, travel
from consult.extensions import db
from consult.ideas.models import Idea
from consult.ideas.services import add_comment
from consult.merging.services import merge_idea
from consult.moderation.services import hide_idea, publish_idea
from consult.ratelimit import RateLimitCounter
from consult.voting.services import cast_vote, enter_paper_votes, withdraw_vote


@pytest.fixture
def world(app, make_user):
    challenge, ideas = challenge_with_ideas(2, budget=5)
    staff = make_user(roles=("staff", "moderator"), pseudonym="Amt")
    citizen = make_user(pseudonym="Bürgerin")
    return challenge, ideas, staff, citizen


def pages(challenge, idea):
    return [f"/challenges/{challenge.id}", f"/ideas/{idea.id}"]


def test_a_vote_and_its_withdrawal_show_at_once(client, world):
    challenge, (idea, _other), _staff, citizen = world
    for url in pages(challenge, idea):
        assert count_label(0) in warm(client, url)
    cast_vote(citizen, challenge, idea.id)
    for url in pages(challenge, idea):
        assert count_label(1) in fresh(client, url)
        warm(client, url)
    withdraw_vote(citizen, challenge, idea.id)
    for url in pages(challenge, idea):
        assert count_label(0) in fresh(client, url)


def test_paper_votes_show_at_once(client, world):
    challenge, (idea, _other), staff, _citizen = world
    challenge.count_paper_votes = True
    db.session.commit()
    url = f"/ideas/{idea.id}"
    before = warm(client, url)
    enter_paper_votes(staff, idea, 7, "Stadtteilfest")
    after = fresh(client, url)
    assert after != before and "7" in after


def test_a_comment_shows_at_once(client, world):
    challenge, (idea, _other), _staff, citizen = world
    warm(client, f"/ideas/{idea.id}")
    add_comment(citizen, idea, "Eine gute Idee für den Platz.")
    assert "Eine gute Idee für den Platz." in fresh(client, f"/ideas/{idea.id}")


def test_publishing_hiding_and_editing_an_idea_show_at_once(client, world):
    challenge, (idea, _other), staff, _citizen = world
    waiting = make_idea(challenge, status="submitted", title="Ein Brunnen am Markt")
    url = f"/challenges/{challenge.id}"
    assert "Ein Brunnen am Markt" not in warm(client, url)
    publish_idea(staff, waiting)
    assert "Ein Brunnen am Markt" in fresh(client, url)
    warm(client, url)
    hide_idea(staff, waiting, "advertising")
    assert "Ein Brunnen am Markt" not in fresh(client, url)
    warm(client, f"/ideas/{idea.id}")
    idea.title = "Neue Bäume für den Marktplatz"
    db.session.commit()
    assert "Neue Bäume für den Marktplatz" in fresh(client, f"/ideas/{idea.id}")


def test_an_answer_and_a_merge_show_at_once(client, world):
    challenge, (idea, other), staff, _citizen = world
    warm(client, f"/ideas/{idea.id}")
    data = {"state": "under_review", "department": "Grünflächenamt", "text_de": "Wir prüfen es."}
    answer_idea(staff, challenge, idea.id, data)
    assert "Grünflächenamt" in fresh(client, f"/ideas/{idea.id}")
    target = warm(client, f"/ideas/{other.id}")
    listed = warm(client, f"/challenges/{challenge.id}")
    merge_idea(staff, idea, other.id, "Tiefbauamt", "Zusammengelegt.", "")
    assert client.get(f"/ideas/{idea.id}").status_code == 302
    assert fresh(client, f"/ideas/{other.id}") == target  # rendered anew, nothing shown changed
    assert f'href="/ideas/{idea.id}"' in listed
    assert f'href="/ideas/{idea.id}"' not in fresh(client, f"/challenges/{challenge.id}")


def test_a_challenge_edited_by_staff_shows_at_once_on_every_page(client, world):
    challenge, _ideas, _staff, _citizen = world
    for url in ("/", f"/challenges/{challenge.id}"):
        warm(client, url)
    challenge.title_de = "Mehr Grün für die Stadt"
    db.session.commit()
    for url in ("/", f"/challenges/{challenge.id}"):
        assert "Mehr Grün für die Stadt" in fresh(client, url)


def test_writes_no_public_page_shows_keep_the_cache(client, world):
    challenge, _ideas, _staff, _citizen = world
    url = f"/challenges/{challenge.id}"
    warm(client, url)
    # A rate-limit counter (every login and vote writes one) and an audit entry.
    db.session.add(RateLimitCounter(key="x", window_start=now(), count=1))
    db.session.commit()
    assert state(client.get(url)) == "hit"


def test_logins_and_account_settings_keep_the_cache_and_a_new_name_shows(app, client, world):
    challenge, (idea, _other), staff, citizen = world
    idea.author_id = citizen.id
    db.session.commit()
    urls = pages(challenge, idea)
    for url in urls:
        warm(client, url)
    # A staff login with its TOTP step (it records the code's window on the account), and
    # settings no public page shows: the visitors' pages stay in the cache.
    other = type(client)(app.test_client())
    login_with(other, staff)
    citizen.notify_comments = False
    citizen.locale = "en"
    db.session.commit()
    db.session.execute(update(User).where(User.id == staff.id).values(session_version=7))
    db.session.commit()
    for url in urls:
        assert state(client.get(url)) == "hit", url
    # The author's new name is on the idea page at once (ORM change and plain UPDATE).
    citizen.pseudonym = "Neuer Name"
    db.session.commit()
    assert "Neuer Name" in fresh(client, f"/ideas/{idea.id}")
    db.session.execute(update(User).where(User.id == citizen.id).values(pseudonym="Zweiter"))
    db.session.commit()
    assert "Zweiter" in fresh(client, f"/ideas/{idea.id}")


def login_with(client, user) -> None:
    response = client.post_form("/account/login", {"email": user.email, "password": PASSWORD})
    response = pass_code_step(client, response, user)
    assert response.status_code == 302 and "two-factor" not in response.headers["Location"]


def test_voting_closing_by_the_clock_ends_the_entry(client, app):
    """Two seconds apart, well within the max-age: the boundary itself ends the entry."""
    challenge, (idea, _other) = challenge_with_ideas(2, closes=timedelta(hours=1))
    english = {"Accept-Language": "en"}
    with frozen(challenge.voting_closes_at - timedelta(seconds=1)):
        for url in pages(challenge, idea):
            assert "Log in to vote" in warm(client, url, headers=english)
    with frozen(challenge.voting_closes_at + timedelta(seconds=1)):
        for url in pages(challenge, idea):
            assert "Log in to vote" not in fresh(client, url, headers=english)


def test_a_page_is_never_kept_longer_than_its_max_age(client, world):
    challenge, _ideas, _staff, _citizen = world
    url = f"/challenges/{challenge.id}"
    warm(client, url)
    with travel(timedelta(seconds=61)):
        fresh(client, url)


def test_the_results_embargo_passing_ends_the_entry(client, make_user):
    """Before the embargo the challenge page and home page hint at nothing; a second after
    it, both link the results, though no row was written in between."""
    world = frozen_world(make_user)
    announce(world, embargo=timedelta(hours=1))
    embargo = stored_announcement(world.challenge).embargo_at
    link = f'href="{results_url(world.challenge)}"'
    with frozen(embargo - timedelta(seconds=1)):
        for url in ("/", f"/challenges/{world.challenge.id}"):
            assert link not in warm(client, url)
        assert client.get(results_url(world.challenge)).status_code == 404
    with frozen(embargo + timedelta(seconds=1)):
        for url in ("/", f"/challenges/{world.challenge.id}"):
            assert link in fresh(client, url)
        warm(client, results_url(world.challenge))


def test_writes_in_plain_sql_or_in_a_cte_invalidate_and_reads_do_not(client, world):
    """However a service writes a row (a faster vote may well be one statement), the commit
    invalidates; a read in plain SQL does not."""
    challenge, (idea, _other), _staff, _citizen = world
    url = f"/ideas/{idea.id}"
    warm(client, url)
    db.session.execute(text("SELECT 1"))
    db.session.commit()
    assert state(client.get(url)) == "hit"
    db.session.execute(text("UPDATE ideas SET vote_count = 5 WHERE id = :id"), {"id": idea.id})
    db.session.commit()
    assert count_label(5) in fresh(client, url)
    if db.engine.dialect.name != "postgresql":
        return  # SQLite has no INSERT/UPDATE in a WITH
    warm(client, url)
    bump = update(Idea).where(Idea.id == idea.id).values(vote_count=6).returning(Idea.id).cte()
    db.session.execute(select(bump.c.id))
    db.session.commit()
    assert count_label(6) in fresh(client, url)
