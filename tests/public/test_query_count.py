"""The idea list runs the same number of SQL queries for 3 ideas as for 2,000 (with 500
comments and 100,000 votes): nothing is loaded per idea."""

import pytest
from public_helpers import add_many_ideas, idea_count
from sqlalchemy import event, func, select

from consult.extensions import db
from consult.ideas.models import Comment, Idea

VARIANTS = [
    "",
    "?sort=votes",
    "?sort=random&seed=12345",
    "?sort=random&seed=12345&page=7",
    "?category={category}",
    "?district={district}",
    "?q=Spielplatz+Park",
    "?q=Spielplatz&sort=votes&category={category}&district={district}&page=2",
    "?page=" + "9" * 300,
    "?answer=unanswered",
    "?answer=unanswered&sort=votes&category={category}&page=2",
]


class QueryCounter:
    def __init__(self, engine):
        self.engine, self.statements = engine, []

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._count)

    def _count(self, conn, cursor, statement, parameters, context, executemany):
        self.statements.append(statement)


def _count_queries(client, url) -> tuple[int, str]:
    with QueryCounter(db.engine) as counter:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(counter.statements), response.get_data(as_text=True)


@pytest.fixture
def shaped(make_challenge, make_user, make_image, districts):
    challenge = make_challenge("voting", categories=[("Grün", "Green"), ("Verkehr", "Traffic")])
    authors = [make_user().id for _ in range(5)]
    images = [make_image().id for _ in range(3)]
    image = make_image()
    challenge.cover_image_id = image.id
    db.session.commit()
    return challenge, authors, [d.id for d in districts], images


def test_the_list_page_runs_a_constant_number_of_queries(client, shaped):
    challenge, authors, district_ids, images = shaped
    add_many_ideas(challenge, 3, 2, 10, authors, district_ids, images, start=0)
    fill = {"category": challenge.categories[0].id, "district": district_ids[1]}
    urls = [f"/challenges/{challenge.id}" + v.format(**fill) for v in VARIANTS]
    small = {url: _count_queries(client, url)[0] for url in urls}

    add_many_ideas(challenge, 1997, 498, 99_990, authors, district_ids, images, start=3)
    assert db.session.scalar(select(func.count()).select_from(Idea)) == 2000
    assert db.session.scalar(select(func.count()).select_from(Comment)) == 500
    assert db.session.scalar(select(func.sum(Idea.vote_count))) == 100_000
    large = {}
    for url in urls:
        large[url], html = _count_queries(client, url)
        if "q=" not in url and "page=" not in url:
            assert idea_count(html) == 20, url
    # The challenge with its categories, the districts, the cover image, and one page of
    # ideas with the number of all matching ones. A page past the end (of 3 ideas: every
    # page but the first) costs the count, then the last page (none when nothing matches).
    for url in urls:
        past_end = "page=" in url
        assert small[url] in ({5, 6} if past_end else {4}), (url, small[url])
    deep = next(url for url in urls if "page=999" in url)
    assert large[deep] == 6  # past the end of 2,000 ideas too
    assert {url: n for url, n in large.items() if "page=" not in url} == {
        url: n for url, n in small.items() if "page=" not in url
    }
    assert set(large.values()) <= {4, 5, 6}, large


def test_logged_in_visitors_add_only_their_own_account(client, shaped, make_user, login):
    challenge, authors, district_ids, images = shaped
    add_many_ideas(challenge, 3, 0, 10, authors, district_ids, images)
    url = f"/challenges/{challenge.id}"
    anonymous, _ = _count_queries(client, url)
    login(make_user())
    few, _ = _count_queries(client, url)
    add_many_ideas(challenge, 300, 0, 1000, authors, district_ids, images, start=3)
    logged_in, _ = _count_queries(client, url)
    assert logged_in == few
    # the user with their roles; then one query for their ballot, jury seat, the ideas they
    # voted for, whether they asked for the results mail and whether they follow the
    # challenge: constant, however many ideas the list has
    assert logged_in <= anonymous + 2


def test_the_idea_page_runs_at_most_five_queries(
    client, shaped, make_idea, add_comments, make_user, login
):
    challenge, authors, district_ids, images = shaped
    author, commenters = make_user(), [make_user() for _ in range(3)]
    idea = make_idea(
        challenge,
        author_id=author.id,
        category_id=challenge.categories[0].id,
        district_id=district_ids[0],
        image_id=images[0],
    )
    url, citizen = f"/ideas/{idea.id}", make_user()
    counts = {}
    for total, new in ((0, 0), (1, 1), (30, 29)):
        for i in range(new):
            add_comments(idea, 1, commenters[i % 3])
        logged_out, html = _count_queries(client, url)
        assert html.count("Kommentar 0") == total
        login(citizen)
        logged_in, html = _count_queries(client, url)
        assert html.count("Kommentar 0") == total and "/logout" in html
        client.post_form("/account/logout")
        client.forget_csrf()
        counts[total] = (logged_out, logged_in)
    # Logged out: the idea with everything one-to-one about it, the comments with their
    # authors, the vote tally. Logged in: the account with its roles, and the voting state.
    assert set(counts.values()) == {(3, 5)}, counts
