"""What outside checkers found (issue 10, item 22) and the dates people read (item 20):
``<time datetime>`` values the W3C checker accepts, a meta description on every public page,
a feed that answers 304 while it is empty, and no date shown to the second."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from flask_babel import force_locale

from consult.clock import travel
from consult.i18n import format_local, machine_datetime

# HTML's "valid date string" or "valid global date and time string" as we write them: at
# most three fraction digits are allowed, and we write none.
VALID_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:\d{2}))?")
SECONDS = re.compile(r"\b\d{1,2}:\d{2}:\d{2}\b")
DESCRIPTION = re.compile(r'<meta name="description" content="([^"]*)">')


@pytest.fixture
def public_world(make_challenge, make_idea, add_comments):
    challenge = make_challenge("voting")
    # Stamps with microseconds, as now() gives them: isoformat() wrote six fraction digits.
    stamp = datetime.now(UTC).replace(microsecond=123456) - timedelta(hours=1)
    idea = make_idea(challenge, title="Bäume am Markt", published_at=stamp)
    add_comments(idea, 2)
    return challenge, idea


def test_every_time_element_has_a_valid_datetime(client, public_world):
    challenge, idea = public_world
    assert idea.published_at.microsecond == 123456
    found = []
    for url in (f"/challenges/{challenge.id}", f"/ideas/{idea.id}"):
        page = client.get(url).get_data(as_text=True)
        values = re.findall(r'<time datetime="([^"]*)"', page)
        assert values, url
        found += values
    bad = [value for value in found if not VALID_DATETIME.fullmatch(value)]
    assert not bad, bad


def test_machine_datetimes_are_to_the_second_with_the_zone():
    moment = datetime(2026, 12, 3, 8, 0, 0, 123456, tzinfo=UTC)
    assert machine_datetime(moment) == "2026-12-03T08:00:00+00:00"
    assert machine_datetime(moment.date()) == "2026-12-03"
    assert machine_datetime(None) == ""


def test_dates_are_shown_to_the_minute(app):
    moment = datetime(2026, 7, 1, 10, 5, 42, 987654, tzinfo=UTC)  # 12:05:42 in Berlin
    with app.test_request_context():
        for locale in ("de", "en"):
            with force_locale(locale):
                for style in ("medium", "short"):
                    shown = format_local(moment, style)
                    assert "12:05" in shown and not SECONDS.search(shown), (locale, shown)
        with force_locale("de"):
            assert format_local(moment) == "01.07.2026, 12:05"


def test_no_public_page_shows_seconds(client, public_world):
    challenge, idea = public_world
    for url in (f"/challenges/{challenge.id}", f"/ideas/{idea.id}"):
        page = client.get(url).get_data(as_text=True)
        text = re.sub(r"<[^>]+>", " ", page)
        assert not SECONDS.search(text), (url, SECONDS.search(text))


def test_every_public_page_has_one_meta_description(client, public_world):
    challenge, idea = public_world
    urls = [
        "/",
        "/account/login",
        "/account/register",
        "/account/forgot-password",
        "/imprint",
        "/privacy",
        "/accessibility",
        "/projects",
        f"/challenges/{challenge.id}",
        f"/ideas/{idea.id}",
        "/nowhere",  # the 404 page too
    ]
    descriptions = {}
    for url in urls:
        for language in ("de", "en"):
            page = client.get(url, headers={"Accept-Language": language}).get_data(as_text=True)
            found = DESCRIPTION.findall(page)
            assert len(found) == 1, (url, language, found)
            assert found[0].strip(), (url, found)
            descriptions[url, language] = found[0]
    # Home and login say what they are, not just what the site is.
    for language in ("de", "en"):
        assert descriptions["/", language] != descriptions["/nowhere", language]
        assert descriptions["/account/login", language] != descriptions["/", language]
        assert descriptions["/", "de"] != descriptions["/", "en"]


def test_the_empty_feed_is_the_same_document_a_minute_later(client):
    first = client.get("/feed.atom")
    with travel(timedelta(minutes=10)):
        later = client.get("/feed.atom")
        assert later.data == first.data
        again = client.get("/feed.atom", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert b"<updated>1970-01-01T00:00:00Z</updated>" in first.data
