"""Once results are public (the press announcement past its embargo), every page that shows a
challenge's phase says "Results published" and links the results; a second before, nothing
hints at them. The clock is moved relative to the stored embargo, as in the other results
tests."""

import re
from datetime import timedelta

import pytest
from results_support import announce, frozen_world, results_url, stored_announcement
from testdata import html, says

from consult.challenges.timeline import build_timeline, deadline_phrase, phase_label
from consult.clock import frozen

EVALUATION = "Jury evaluation"
PUBLISHED = "Results published"


@pytest.fixture
def world(app, make_user):
    world = frozen_world(make_user)
    announce(world, embargo=timedelta(hours=1))
    return world


def at_embargo(world, seconds: int):
    """The clock stopped ``seconds`` after (negative: before) the stored embargo: it must
    not run past the embargo while a slow machine serves the pages of "a second before"."""
    embargo = stored_announcement(world.challenge).embargo_at
    return frozen(embargo + timedelta(seconds=seconds))


def card_of(page: str, challenge) -> str:
    found = re.search(
        rf'<li class="card">\s*<h3 class="card-title"><a href="/challenges/{challenge.id}".*?</li>',
        page,
        re.S,
    )
    assert found, "no card of the challenge"
    return found.group(0)


def section(page: str, heading_id: str) -> str:
    found = re.search(rf'<section aria-labelledby="{heading_id}">.*?</section>', page, re.S)
    return found.group(0) if found else ""


@pytest.mark.parametrize("locale", ["de", "en"])
def test_a_second_before_the_embargo_nothing_hints_at_results(client, world, locale):
    challenge = world.challenge
    headers = {"Accept-Language": locale}
    with at_embargo(world, -1):
        page = html(client.get(f"/challenges/{challenge.id}", headers=headers))
        home = html(client.get("/", headers=headers))
    for text in (page, home):
        assert says(PUBLISHED, locale) not in text
        assert results_url(challenge) not in text
    assert f'<span class="phase">{says(EVALUATION, locale)}</span>' in page
    assert says(EVALUATION, locale) in card_of(section(home, "current-heading"), challenge)


@pytest.mark.parametrize("locale", ["de", "en"])
def test_a_second_after_the_embargo_every_badge_says_published_and_links(client, world, locale):
    challenge = world.challenge
    headers = {"Accept-Language": locale}
    with at_embargo(world, 1):
        page = html(client.get(f"/challenges/{challenge.id}", headers=headers))
        home = html(client.get("/", headers=headers))
    link = f'href="{results_url(challenge)}"'

    # The challenge page: badge, no "results are due in …", the timeline's step links them.
    assert f'<span class="phase">{says(PUBLISHED, locale)}</span>' in page
    assert says(EVALUATION, locale) + "</span>" not in page
    assert f'<span class="phase">{says(PUBLISHED, locale)}</span></p>' in page  # no "due in …"
    timeline = re.search(r'<ol class="timeline">.*?</ol>', page, re.S).group(0)
    assert f"<a {link}>{says(PUBLISHED, locale)}</a>" in timeline
    assert 'aria-current="step"' in timeline.split(says(PUBLISHED, locale))[0].rsplit("<li", 1)[1]

    # The home page: the challenge is finished for visitors, its card says so and links them.
    assert section(home, "current-heading").count("card-title") == 0
    card = card_of(section(home, "past-heading"), challenge)
    assert says(PUBLISHED, locale) in card and link in card
    assert says(EVALUATION, locale) not in card


def test_staff_lists_say_published_too(client, world, login):
    login(world.staff)
    with at_embargo(world, -1):
        listing = html(client.get("/staff/challenges"))
        assert says(PUBLISHED) not in listing and says(EVALUATION) in listing
    with at_embargo(world, 1):
        listing = html(client.get("/staff/challenges"))
        edit = html(client.get(f"/staff/challenges/{world.challenge.id}/edit"))
    assert says(PUBLISHED) in listing and says(PUBLISHED) in edit


def test_the_timeline_ends_the_evaluation_at_the_embargo(app, world):
    challenge = world.challenge
    embargo = stored_announcement(challenge).embargo_at
    assert embargo < challenge.results_at  # published before the scheduled date
    with app.test_request_context():
        steps = build_timeline(challenge, at=embargo, published_at=embargo)
        assert [(s.phase, s.state) for s in steps][-2:] == [
            ("evaluation", "done"),
            ("published", "now"),
        ]
        assert steps[-1].starts == embargo and steps[-2].ends == embargo
        assert steps[-1].label == phase_label(challenge, True, at=embargo)
        before = build_timeline(challenge, at=embargo)
        assert [s.phase for s in before][-1] == "results"
        assert phase_label(challenge, True, at=embargo) != phase_label(challenge, False, at=embargo)
        assert deadline_phrase(challenge, at=embargo, results_public=True) is None
        assert deadline_phrase(challenge, at=embargo) is not None
