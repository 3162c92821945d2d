"""Hostile input on the staff pages of challenges.

Each refused case gets a 4xx with a message in the user's language, and nothing is
stored or changed: rows are counted, the challenge is read again from the database and
the audit log stays as it was. Markup is the exception: staff may write it, it is stored
as given and always shown escaped.
"""

import re
from datetime import timedelta
from io import BytesIO

import pytest
from markupsafe import escape
from test_challenge_staff_helpers import (
    BUDGET,
    INVISIBLE,
    NOT_A_DATE,
    TEXT_FIELDS,
    audit,
    count,
    form_data,
    fresh_challenge,
    html,
    make_challenge,
    says,
    snapshot,
)

from consult import clock
from consult.challenges import services
from consult.challenges.models import Category, Challenge
from consult.extensions import db
from consult.ideas.models import Idea
from consult.media.models import Image

MARKUP = [
    "<script>alert(1)</script>",
    '"><svg onload=alert(1)>',
    "' onmouseover='alert(1)' x='",
    "Ein \"Zitat\" & 'Apostroph' <b>fett</b>",
]


@pytest.fixture(params=["de", "en"])
def staff(request, make_user, login):
    """A staff member who reads German or English: messages come in their language."""
    user = make_user(pseudonym="Chefin", roles=("citizen", "staff"), locale=request.param)
    login(user)
    return user


def _unchanged(challenge_id: int, before: dict, entries: int) -> None:
    assert snapshot(challenge_id) == before
    assert len(audit()) == entries


def _refused(response, status: int, message: str, locale: str, field: str | None = None, **kw):
    assert response.status_code == status, html(response)[:2000]
    page = html(response)
    assert says(message, locale, **kw) in page
    if field:  # tied to its field for screen readers
        assert f'id="{field}-error"' in page
        assert re.search(rf'aria-describedby="[^"]*{re.escape(field)}-error', page)


# --- markup: stored as given, shown escaped ---------------------------------------------------


@pytest.mark.parametrize("markup", MARKUP)
def test_markup_in_every_text_field_is_stored_as_given_and_shown_escaped(client, staff, markup):
    data = form_data(**dict.fromkeys(TEXT_FIELDS, markup))
    response = client.post_form("/staff/challenges/new", data)
    assert response.status_code == 302
    [challenge] = db.session.scalars(db.select(Challenge)).all()
    for field in TEXT_FIELDS:
        assert getattr(challenge, field) == markup, field
    for url in (f"/staff/challenges/{challenge.id}/edit", "/staff/challenges"):
        page = html(client.get(url))
        assert markup not in page, url
        assert str(escape(markup)) in page, url
        assert "<svg" not in page and "<script>alert" not in page


@pytest.mark.parametrize("markup", MARKUP)
def test_markup_in_category_names_and_workshop_ideas_is_shown_escaped(client, staff, markup):
    challenge = make_challenge(staff)
    url = f"/staff/challenges/{challenge.id}"
    assert (
        client.post_form(f"{url}/categories", {"name_de": markup, "name_en": markup}).status_code
        == 302
    )
    [category] = fresh_challenge(challenge.id).categories
    assert (category.name_de, category.name_en) == (markup, markup)
    response = client.post_form(
        f"{url}/workshop-ideas/new",
        {"workshop_name": markup[:120], "title": markup, "body": markup,
         "category_id": str(category.id), "language": "de"},
    )  # fmt: skip
    assert response.status_code == 302
    [idea] = db.session.scalars(db.select(Idea)).all()
    assert (idea.title, idea.body, idea.workshop_name) == (markup, markup, markup[:120])
    assert "<script" not in idea.body_html and "<svg" not in idea.body_html
    for page in (html(client.get(f"{url}/edit")), html(client.get(response.headers["Location"]))):
        assert markup not in page and "<svg" not in page and "<script>alert" not in page


# --- refused input: 4xx, message in the user's language, nothing stored ------------------------


@pytest.mark.parametrize("sneaky", ["\u202e", "\u200b", "\u2067", "\u200d"])
@pytest.mark.parametrize("field", ["title_de", "title_en"])
def test_invisible_characters_in_titles_are_refused(client, staff, sneaky, field):
    response = client.post_form(
        "/staff/challenges/new", form_data(**{field: f"Abstimmung{sneaky}gpj.exe"})
    )
    _refused(response, 400, INVISIBLE, staff.locale, field)
    assert count(Challenge) == 0 and audit() == []

    challenge = make_challenge(staff)
    before, entries = snapshot(challenge.id), len(audit())
    response = client.post_form(
        f"/staff/challenges/{challenge.id}/edit", form_data(challenge, **{field: f"Neu{sneaky}"})
    )
    _refused(response, 400, INVISIBLE, staff.locale, field)
    _unchanged(challenge.id, before, entries)


def test_invisible_characters_in_category_and_workshop_names_are_refused(client, staff):
    challenge = make_challenge(staff)
    green = services.add_category(staff, challenge, "Grün", "Green")
    before, entries = snapshot(challenge.id), len(audit())
    url = f"/staff/challenges/{challenge.id}"
    response = client.post_form(f"{url}/categories", {"name_de": "Gr\u202eün", "name_en": ""})
    _refused(response, 400, INVISIBLE, staff.locale, "name_de")
    response = client.post_form(
        f"{url}/categories/{green.id}",
        {f"category-{green.id}-name_de": "Grün", f"category-{green.id}-name_en": "Gre\u200ben"},
    )
    _refused(response, 400, INVISIBLE, staff.locale, f"category-{green.id}-name_en")
    response = client.post_form(
        f"{url}/workshop-ideas/new",
        {"workshop_name": "Werk\u202estatt", "title": "Idee", "category_id": str(green.id)},
    )
    _refused(response, 400, INVISIBLE, staff.locale, "workshop_name")
    _unchanged(challenge.id, before, entries)
    assert count(Idea) == 0


def test_voting_that_ends_before_it_starts_is_refused(client, staff):
    data = form_data(voting_opens_at="2031-05-10T10:00", voting_closes_at="2031-05-09T10:00")
    response = client.post_form("/staff/challenges/new", data)
    _refused(response, 400, "Voting must end after it starts.", staff.locale, "voting_closes_at")
    assert count(Challenge) == 0 and audit() == []

    challenge = make_challenge(staff)
    before, entries = snapshot(challenge.id), len(audit())
    response = client.post_form(
        f"/staff/challenges/{challenge.id}/edit",
        form_data(challenge, voting_closes_at=form_data(challenge)["voting_opens_at"]),
    )
    _refused(response, 400, "Voting must end after it starts.", staff.locale, "voting_closes_at")
    _unchanged(challenge.id, before, entries)


def test_a_10000_character_title_is_refused(client, staff):
    response = client.post_form("/staff/challenges/new", form_data(title_de="T" * 10_000))
    _refused(
        response, 400, "Please use at most %(max)d characters.", staff.locale, "title_de", max=160
    )
    assert count(Challenge) == 0

    challenge = make_challenge(staff)
    before, entries = snapshot(challenge.id), len(audit())
    response = client.post_form(
        f"/staff/challenges/{challenge.id}/edit", form_data(challenge, title_en="T" * 10_000)
    )
    _refused(
        response, 400, "Please use at most %(max)d characters.", staff.locale, "title_en", max=160
    )
    _unchanged(challenge.id, before, entries)


@pytest.mark.parametrize(
    "value",
    ["tomorrow", "2026-13-45T25:99", "31.12.2026 18:00", "2026-02-30T10:00", "<script>", "0", "9" * 500,
     "2026-05-01T18:00' OR '1'='1"],
)  # fmt: skip
def test_dates_that_are_not_dates_are_refused(client, staff, value):
    response = client.post_form("/staff/challenges/new", form_data(submission_opens_at=value))
    _refused(response, 400, NOT_A_DATE, staff.locale, "submission_opens_at")
    assert count(Challenge) == 0 and audit() == []
    assert "<script>" not in html(response)

    challenge = make_challenge(staff)
    before, entries = snapshot(challenge.id), len(audit())
    response = client.post_form(
        f"/staff/challenges/{challenge.id}/edit", form_data(challenge, results_at=value)
    )
    _refused(response, 400, NOT_A_DATE, staff.locale, "results_at")
    _unchanged(challenge.id, before, entries)


def test_a_missing_date_is_refused(client, staff):
    response = client.post_form("/staff/challenges/new", form_data(results_at=""))
    _refused(response, 400, "Please fill in this field.", staff.locale, "results_at")
    assert count(Challenge) == 0


@pytest.mark.parametrize(
    "budget", ["-1", "101", "abc", "", "1.5", "1e3", "٣", "99999999999999999999"]
)
def test_vote_budgets_outside_0_to_100_are_refused(client, staff, budget):
    message = (BUDGET, {"min": 0, "max": 100}) if budget else ("Please fill in this field.", {})
    response = client.post_form("/staff/challenges/new", form_data(vote_budget=budget))
    _refused(response, 400, message[0], staff.locale, "vote_budget", **message[1])
    assert count(Challenge) == 0 and audit() == []

    challenge = make_challenge(staff)
    before, entries = snapshot(challenge.id), len(audit())
    response = client.post_form(
        f"/staff/challenges/{challenge.id}/edit", form_data(challenge, vote_budget=budget)
    )
    _refused(response, 400, message[0], staff.locale, "vote_budget", **message[1])
    _unchanged(challenge.id, before, entries)


def test_an_unknown_moderation_mode_is_refused(client, staff):
    response = client.post_form("/staff/challenges/new", form_data(moderation="none"))
    _refused(response, 400, "Please choose a moderation mode.", staff.locale, "moderation")
    assert count(Challenge) == 0


def test_a_category_of_another_challenge_is_refused_for_a_workshop_idea(client, staff):
    challenge = make_challenge(staff)
    own = services.add_category(staff, challenge, "Grün", "Green")
    other = make_challenge(staff, title_de="Andere")
    foreign = services.add_category(staff, other, "Fremd", "Foreign")
    entries = len(audit())
    for category_id in (str(foreign.id), "abc", "-1", "99999999999999999999", str(own.id + 1000)):
        response = client.post_form(
            f"/staff/challenges/{challenge.id}/workshop-ideas/new",
            {"workshop_name": "W", "title": "Idee", "category_id": category_id, "language": "de"},
        )
        _refused(
            response,
            400,
            "Please choose one of this challenge's categories.",
            staff.locale,
            "category_id",
        )
    response = client.post_form(
        f"/staff/challenges/{challenge.id}/workshop-ideas/new",
        {"workshop_name": "W", "title": "Idee", "category_id": str(own.id), "district_id": "77777"},
    )
    _refused(response, 400, "Please choose a district from the list.", staff.locale, "district_id")
    assert count(Idea) == 0 and len(audit()) == entries


def test_posted_extra_fields_are_ignored(client, staff, make_user):
    other = make_user()
    response = client.post_form(
        "/staff/challenges/new",
        form_data(
            id="4242", created_by_id=str(other.id), cover_image_id="1", created_at="2000-01-01"
        ),
    )
    assert response.status_code == 302
    [challenge] = db.session.scalars(db.select(Challenge)).all()
    assert challenge.id != 4242 and challenge.created_by_id == staff.id
    assert challenge.cover_image_id is None and challenge.created_at.year > 2000

    before = snapshot(challenge.id)
    response = client.post_form(
        f"/staff/challenges/{challenge.id}/edit",
        form_data(challenge, id="4242", created_by_id=str(other.id), updated_at="2000-01-01"),
    )
    assert response.status_code == 302
    assert snapshot(challenge.id) == before
    assert db.session.get(Challenge, 4242) is None

    response = client.post_form(
        f"/staff/challenges/{challenge.id}/workshop-ideas/new",
        {"workshop_name": "W", "title": "Idee", "author_id": str(other.id), "status": "hidden",
         "origin": "online", "challenge_id": "4242", "vote_count": "1000"},
    )  # fmt: skip
    assert response.status_code == 302
    [idea] = db.session.scalars(db.select(Idea)).all()
    assert (idea.author_id, idea.status, idea.origin, idea.challenge_id, idea.vote_count) == (
        None, "published", "workshop", challenge.id, 0,
    )  # fmt: skip


def _svg():
    return b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>'


@pytest.mark.parametrize(
    "content, filename, message",
    [
        (_svg(), "cover.svg", "This file is not an image we can read. Please upload a JPEG, PNG or WebP photo."),
        (b"<!doctype html><script>alert(1)</script>", "cover.jpg",
         "This file is not an image we can read. Please upload a JPEG, PNG or WebP photo."),
        (b"", "empty.jpg", "The file is empty."),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 64, "broken.jpg",
         "This file is not an image we can read. Please upload a JPEG, PNG or WebP photo."),
    ],
)  # fmt: skip
def test_covers_that_are_no_images_are_refused(client, staff, content, filename, message):
    challenge = make_challenge(staff)
    before, entries = snapshot(challenge.id), len(audit())
    response = client.post_form(
        f"/staff/challenges/{challenge.id}/cover",
        {"image": (BytesIO(content), filename)},
        content_type="multipart/form-data",
    )
    _refused(response, 400, message, staff.locale, "image")
    _unchanged(challenge.id, before, entries)
    assert count(Image) == 0


def test_a_cover_post_without_a_file_is_refused(client, staff):
    challenge = make_challenge(staff)
    before, entries = snapshot(challenge.id), len(audit())
    response = client.post_form(
        f"/staff/challenges/{challenge.id}/cover", {}, content_type="multipart/form-data"
    )
    _refused(response, 400, "Please choose an image file.", staff.locale, "image")
    _unchanged(challenge.id, before, entries)


def test_unknown_challenges_and_categories_are_404(client, staff):
    challenge = make_challenge(staff)
    green = services.add_category(staff, challenge, "Grün", "Green")
    other = make_challenge(staff)
    before, entries = snapshot(challenge.id), len(audit())
    for url in ("/staff/challenges/999/edit", "/staff/challenges/999/workshop-ideas/new",
                "/staff/challenges/99999999999999999999/edit"):  # fmt: skip
        assert client.get(url).status_code == 404, url
    posts = [
        ("/staff/challenges/999/edit", form_data(challenge)),
        ("/staff/challenges/999/cover", {}),
        ("/staff/challenges/999/categories", {"name_de": "X"}),
        (f"/staff/challenges/{challenge.id}/categories/999", {}),
        (f"/staff/challenges/{challenge.id}/categories/999/delete", {}),
        # A category addressed through another challenge.
        (
            f"/staff/challenges/{other.id}/categories/{green.id}",
            {f"category-{green.id}-name_de": "Weg"},
        ),
        (f"/staff/challenges/{other.id}/categories/{green.id}/delete", {}),
        ("/staff/challenges/999/workshop-ideas/new", {"workshop_name": "W", "title": "T"}),
    ]
    for url, data in posts:
        response = client.post_form(url, data)
        assert response.status_code == 404, url
        assert says("Page not found", staff.locale) in html(response)
    _unchanged(challenge.id, before, entries)
    assert count(Category) == 1


def test_locked_settings_stay_locked_even_when_posted_by_hand(client, staff):
    challenge = make_challenge(staff)
    before, entries = snapshot(challenge.id), len(audit())
    with clock.travel(timedelta(days=15)):
        response = client.post_form(
            f"/staff/challenges/{challenge.id}/edit", form_data(challenge, vote_budget="100")
        )
    _refused(
        response, 409,
        "Voting has started: the vote budget, the voting dates and the counting rules can no longer change.",
        staff.locale, "vote_budget",
    )  # fmt: skip
    _unchanged(challenge.id, before, entries)
