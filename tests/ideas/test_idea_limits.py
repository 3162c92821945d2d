"""Comments and reports are limited per account: a script cannot flood an idea or the
moderators' queue; the refusal is a 429 with Retry-After in the user's language."""

import pytest
from idea_support import build_world, count, make_idea, says

from consult.ideas.models import Comment, Report
from consult.ideas.services import POSTING_LIMITS


@pytest.fixture
def world(app, make_user):
    return build_world(make_user)


def test_the_eleventh_comment_in_ten_minutes_waits(world, client, login):
    idea = make_idea(world.challenge, world.author)
    login(world.other)
    limit, _window = POSTING_LIMITS["comment"]
    for n in range(limit):
        response = client.post_form(
            f"/ideas/{idea.id}/comments", {"body": f"Gedanke {n}", "language": "de"}
        )
        assert response.status_code == 302
    response = client.post_form(
        f"/ideas/{idea.id}/comments", {"body": "Noch einer", "language": "de"}
    )
    assert response.status_code == 429
    assert int(response.headers["Retry-After"]) > 0
    assert says(
        "You are writing very fast. Please wait %(minutes)d minutes.", minutes=10
    ) in response.get_data(as_text=True)
    assert count(Comment) == limit


def test_reports_are_limited_too(world, client, login):
    limit, _window = POSTING_LIMITS["report"]
    ideas = [make_idea(world.challenge, world.author, title=f"Idee {n}") for n in range(limit + 1)]
    login(world.other)
    for idea in ideas[:limit]:
        assert client.post_form(f"/ideas/{idea.id}/report", _report_form()).status_code == 302
    response = client.post_form(f"/ideas/{ideas[-1].id}/report", _report_form())
    assert response.status_code == 429 and "Retry-After" in response.headers
    assert count(Report) == limit


def _report_form():
    from consult.ideas.views import _report_prefix

    prefix = _report_prefix("idea")
    return {f"{prefix}-reason": "advertising", f"{prefix}-note": ""}
