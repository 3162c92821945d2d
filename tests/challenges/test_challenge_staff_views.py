"""Staff pages of challenges through the test client: list, create, edit, schedule in Berlin
time (with the daylight saving nights), cover, categories, workshop ideas, permissions."""

import re
from datetime import UTC, datetime, timedelta
from io import BytesIO

import pytest
from flask_babel import force_locale, format_datetime
from PIL import Image as PILImage
from test_challenge_staff_helpers import (
    LOCKED,
    NO_SUCH_TIME,
    audit,
    count,
    form_data,
    fresh_challenge,
    html,
    make_challenge,
    says,
    schedule,
    snapshot,
)

from consult import clock
from consult.challenges import services
from consult.challenges.forms import local_to_utc, utc_to_local_input
from consult.challenges.models import Category, Challenge
from consult.districts import District
from consult.extensions import db
from consult.ideas.models import Idea
from consult.media.models import Image


@pytest.fixture
def staff(make_user, login):
    user = make_user(pseudonym="Chefin", roles=("citizen", "staff"))
    login(user)
    return user


def _phase(name: str) -> str:
    from consult.challenges.timeline import PHASE_LABELS

    with force_locale("de"):
        return str(PHASE_LABELS[name])


def _short(moment: datetime) -> str:
    with force_locale("de"):
        return format_datetime(moment, "short")


def png_bytes(size=(60, 40)) -> bytes:
    out = BytesIO()
    PILImage.new("RGB", size, (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


# --- list -----------------------------------------------------------------------------------


def test_the_list_shows_phase_dates_in_berlin_missing_translations_and_links(client, staff):
    start = datetime(2027, 1, 15, 9, 0, tzinfo=UTC)  # 10:00 in Berlin (winter time)
    draft = make_challenge(staff, title_en="", **schedule(datetime(2030, 1, 1, tzinfo=UTC)))
    running = make_challenge(staff, title_de="Laufend", plain_de="Kurz.", **schedule(start))
    with clock.travel(datetime(2027, 1, 22, tzinfo=UTC) - clock.now()):  # voting runs
        response = client.get("/staff/challenges")
    assert response.status_code == 200
    page = html(response)
    cards = page.split('<li class="card">')[1:]
    newest, oldest = cards  # newest first
    assert "Laufend" in newest and _phase("voting") in newest
    assert _phase("draft") in oldest
    # Dates: a machine-readable UTC stamp and Berlin time for people.
    assert f'<time datetime="{start.isoformat()}">{_short(start)}</time>' in newest
    assert "10:00" in _short(start)
    # Missing translations, named for people.
    assert says("Plain language summary (English)") in newest
    assert says("Title (English)") in oldest
    for challenge, card in ((running, newest), (draft, oldest)):
        assert f'href="/challenges/{challenge.id}"' in card
        assert f'href="/staff/challenges/{challenge.id}/edit"' in card
        assert f'href="/staff/challenges/{challenge.id}/workshop-ideas/new"' in card
    assert 'href="/staff/challenges/new"' in page


def test_the_list_in_english(client, make_user, login):
    user = make_user(roles=("citizen", "staff"), locale="en")
    login(user)
    make_challenge(user, title_de="", plain_en="Short.")
    page = html(client.get("/staff/challenges"))
    assert "Missing translations" in page and "Leichte Sprache summary (German)" in page
    assert "Title (German)" in page


# --- create ---------------------------------------------------------------------------------


def test_create_through_the_form_converts_berlin_time_to_utc(client, staff):
    assert client.get("/staff/challenges/new").status_code == 200
    data = form_data(
        submission_opens_at="2027-06-01T10:00",  # summer time: UTC+2
        submission_closes_at="2027-06-30T18:00",
        voting_opens_at="2027-06-20T00:00",
        voting_closes_at="2027-07-10T12:00",
        results_at="2027-12-01T09:30",  # winter time: UTC+1
        plain_de="Eine Zusammenfassung in Leichter Sprache.",
        vote_budget="0",
        moderation="post",
        hide_counts_while_voting="y",
    )
    data.pop("count_paper_votes")
    response = client.post_form("/staff/challenges/new", data)
    assert response.status_code == 302
    [challenge] = db.session.scalars(db.select(Challenge)).all()
    assert response.headers["Location"] == f"/staff/challenges/{challenge.id}/edit"
    assert challenge.submission_opens_at == datetime(2027, 6, 1, 8, 0, tzinfo=UTC)
    assert challenge.voting_opens_at == datetime(2027, 6, 19, 22, 0, tzinfo=UTC)
    assert challenge.results_at == datetime(2027, 12, 1, 8, 30, tzinfo=UTC)
    assert challenge.archived_at is None
    assert (challenge.vote_budget, challenge.moderation) == (0, "post")
    assert challenge.hide_counts_while_voting is True and challenge.count_paper_votes is False
    assert challenge.created_by_id == staff.id
    assert challenge.plain_de.startswith("Eine") and challenge.plain_en == ""
    assert [e.action for e in audit()] == ["challenge.create"]
    # The edit page shows the Berlin times again, and the missing translation.
    page = html(client.get(response.headers["Location"]))
    assert 'value="2027-06-01T10:00"' in page and 'value="2027-12-01T09:30"' in page
    assert 'type="datetime-local"' in page
    assert says("Missing translations:") in page
    assert says("Plain language summary (English)") in page and says("Translation missing") in page


def test_the_form_shows_german_and_english_side_by_side_with_labels(client, staff):
    page = html(client.get("/staff/challenges/new"))
    for name in ("title", "question", "description", "plain", "cover_alt"):
        de = page.index(f'id="{name}_de"')
        en = page.index(f'id="{name}_en"')
        assert de < en
        assert f'<label for="{name}_de">' in page and f'<label for="{name}_en">' in page
        # Nothing between the pair but its own fields: they sit in one row.
        assert page.count('class="pair-fields"', 0, de) == page.count('class="pair-fields"', 0, en)
    assert 'lang="de"' in page and 'lang="en"' in page
    assert 'type="number"' in page and 'min="0"' in page and 'max="100"' in page
    # Accessible and no inline script or style (strict CSP).
    assert "<script" not in page and "style=" not in page
    headings = re.findall(r"<h([1-6])", page)
    assert headings[0] == "1"


# --- daylight saving time ---------------------------------------------------------------------


def test_local_times_around_the_clock_changes():
    from zoneinfo import ZoneInfo

    berlin = ZoneInfo("Europe/Berlin")
    # Spring: 02:00-03:00 does not exist.
    with pytest.raises(ValueError):
        local_to_utc(datetime(2026, 3, 29, 2, 30), berlin)
    assert local_to_utc(datetime(2026, 3, 29, 1, 59), berlin) == datetime(
        2026, 3, 29, 0, 59, tzinfo=UTC
    )
    assert local_to_utc(datetime(2026, 3, 29, 3, 0), berlin) == datetime(
        2026, 3, 29, 1, 0, tzinfo=UTC
    )
    # Autumn: 02:00-03:00 happens twice; the first (summer time, UTC+2) is meant.
    assert local_to_utc(datetime(2026, 10, 25, 2, 30), berlin) == datetime(
        2026, 10, 25, 0, 30, tzinfo=UTC
    )
    assert local_to_utc(datetime(2026, 10, 25, 3, 0), berlin) == datetime(
        2026, 10, 25, 2, 0, tzinfo=UTC
    )
    # Both moments of that hour show as 02:30.
    assert (
        utc_to_local_input(datetime(2026, 10, 25, 0, 30, tzinfo=UTC), berlin) == "2026-10-25T02:30"
    )
    assert (
        utc_to_local_input(datetime(2026, 10, 25, 1, 30, tzinfo=UTC), berlin) == "2026-10-25T02:30"
    )


def _dst_form(**dates):
    base = {
        "submission_opens_at": "2026-03-20T10:00",
        "submission_closes_at": "2026-04-20T10:00",
        "voting_opens_at": "2026-04-01T10:00",
        "voting_closes_at": "2026-10-30T10:00",
        "results_at": "2026-11-30T10:00",
    }
    return form_data(**{**base, **dates})


def test_a_time_that_does_not_exist_in_berlin_is_refused(client, staff):
    response = client.post_form(
        "/staff/challenges/new", _dst_form(voting_opens_at="2026-03-29T02:30")
    )
    assert response.status_code == 400
    page = html(response)
    assert says(NO_SUCH_TIME) in page
    # The message is tied to its field for screen readers.
    assert (
        'id="voting_opens_at-error"' in page and 'aria-describedby="voting_opens_at-error"' in page
    )
    assert count(Challenge) == 0 and audit() == []


def test_a_time_that_occurs_twice_means_the_first(client, staff):
    response = client.post_form(
        "/staff/challenges/new", _dst_form(voting_closes_at="2026-10-25T02:30")
    )
    assert response.status_code == 302
    [challenge] = db.session.scalars(db.select(Challenge)).all()
    assert challenge.voting_closes_at == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_an_unrelated_edit_keeps_the_second_0230_and_seconds(client, staff):
    # Stored directly: the later 02:30 (winter time) and a time with seconds.
    dates = schedule(datetime(2027, 10, 1, 8, 0, 17, tzinfo=UTC))
    dates["voting_closes_at"] = datetime(2027, 10, 31, 1, 30, tzinfo=UTC)  # 02:30 CET
    challenge = make_challenge(staff, **dates)
    before = snapshot(challenge.id)
    data = form_data(challenge, title_en="Renamed")
    assert data["voting_closes_at"] == "2027-10-31T02:30"
    response = client.post_form(f"/staff/challenges/{challenge.id}/edit", data)
    assert response.status_code == 302
    after = snapshot(challenge.id)
    assert after["voting_closes_at"] == before["voting_closes_at"]
    assert after["submission_opens_at"] == before["submission_opens_at"]  # seconds kept
    assert audit("challenge.update")[-1].details == {"fields": ["title_en"]}


# --- edit -----------------------------------------------------------------------------------


def test_edit_saves_changes_and_audits_them(client, staff):
    challenge = make_challenge(staff)
    page = html(client.get(f"/staff/challenges/{challenge.id}/edit"))
    assert 'value="Lebendige Innenstadt"' in page
    assert f'href="/challenges/{challenge.id}"' in page
    response = client.post_form(
        f"/staff/challenges/{challenge.id}/edit",
        form_data(challenge, title_en="Livelier", vote_budget="12", results_at="2040-01-01T12:00"),
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/staff/challenges/{challenge.id}/edit"
    stored = fresh_challenge(challenge.id)
    assert (stored.title_en, stored.vote_budget) == ("Livelier", 12)
    assert stored.results_at == datetime(2040, 1, 1, 11, 0, tzinfo=UTC)
    [entry] = audit("challenge.update")
    assert entry.details == {"fields": ["results_at", "title_en", "vote_budget"]}
    assert says("The challenge has been saved.") in html(client.get(response.headers["Location"]))


def test_saving_an_unchanged_form_changes_nothing(client, staff):
    challenge = make_challenge(staff)
    before = snapshot(challenge.id)
    response = client.post_form(f"/staff/challenges/{challenge.id}/edit", form_data(challenge))
    assert response.status_code == 302
    assert snapshot(challenge.id) == before and audit("challenge.update") == []


def test_while_voting_runs_the_locked_fields_are_disabled_and_the_rest_saves(client, staff):
    challenge = make_challenge(staff, hide_counts_while_voting=True)
    with clock.travel(timedelta(days=15)):
        page = html(client.get(f"/staff/challenges/{challenge.id}/edit"))
        assert says(LOCKED) in page
        for name in services.LOCKED_ONCE_VOTING:
            tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', page).group(0)
            assert "disabled" in tag, name
        # A browser does not send disabled fields.
        data = form_data(challenge, title_de="Neu", moderation="post")
        for name in services.LOCKED_ONCE_VOTING:
            data.pop(name, None)
        response = client.post_form(f"/staff/challenges/{challenge.id}/edit", data)
    assert response.status_code == 302
    stored = fresh_challenge(challenge.id)
    assert (stored.title_de, stored.moderation) == ("Neu", "post")
    assert stored.hide_counts_while_voting is True and stored.count_paper_votes is True
    assert stored.vote_budget == 5
    assert audit("challenge.update")[-1].details == {"fields": ["moderation", "title_de"]}


@pytest.mark.parametrize(
    "field, value",
    [("vote_budget", "9"), ("voting_opens_at", "2020-01-01T00:00"), ("voting_closes_at", "+1d")],
)
def test_changing_a_locked_field_while_voting_runs_is_refused(client, staff, field, value):
    challenge = make_challenge(staff)
    if value == "+1d":
        value = utc_to_local_input(challenge.voting_closes_at + timedelta(days=1), _berlin())
    before = snapshot(challenge.id)
    with clock.travel(timedelta(days=15)):
        response = client.post_form(
            f"/staff/challenges/{challenge.id}/edit",
            form_data(challenge, title_en="X", **{field: value}),
        )
    assert response.status_code == 409
    page = html(response)
    assert says(LOCKED) in page and f'id="{field}-error"' in page
    assert snapshot(challenge.id) == before and audit("challenge.update") == []


def _berlin():
    from zoneinfo import ZoneInfo

    return ZoneInfo("Europe/Berlin")


# --- cover image ----------------------------------------------------------------------------


def test_a_cover_image_is_uploaded_and_shown(client, staff):
    challenge = make_challenge(
        staff, cover_alt_de="Der Marktplatz", cover_alt_en="The market square"
    )
    response = client.post_form(
        f"/staff/challenges/{challenge.id}/cover",
        {"image": (BytesIO(png_bytes()), "markt.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    image = db.session.get(Image, fresh_challenge(challenge.id).cover_image_id)
    assert (image.width, image.height) == (60, 40)
    page = html(client.get(f"/staff/challenges/{challenge.id}/edit"))
    src = f"/media/{image.id}/{image.digest}.webp"
    assert f'src="{src}"' in page and 'alt="Der Marktplatz"' in page
    served = client.get(src)
    assert served.status_code == 200 and served.mimetype == "image/webp"
    [entry] = audit("challenge.cover")
    assert entry.details["image"] == image.id
    assert 'enctype="multipart/form-data"' in page


# --- categories -----------------------------------------------------------------------------


def test_categories_through_the_staff_page(client, staff):
    challenge = make_challenge(staff)
    url = f"/staff/challenges/{challenge.id}"
    response = client.post_form(f"{url}/categories", {"name_de": "Grün", "name_en": "Green"})
    assert response.status_code == 302
    [green] = fresh_challenge(challenge.id).categories
    page = html(client.get(f"{url}/edit"))
    assert f'name="category-{green.id}-name_de"' in page and 'value="Grün"' in page
    response = client.post_form(
        f"{url}/categories/{green.id}",
        {
            f"category-{green.id}-name_de": "Grün & Klima",
            f"category-{green.id}-name_en": "Green & climate",
        },
    )
    assert response.status_code == 302
    assert (fresh_challenge(challenge.id).categories[0].name_en) == "Green & climate"
    response = client.post_form(f"{url}/categories/{green.id}/delete")
    assert response.status_code == 302
    assert count(Category) == 0
    assert [e.action for e in audit()][1:] == [
        "category.create",
        "category.update",
        "category.delete",
    ]


def test_a_category_in_use_is_not_removed(client, staff):
    challenge = make_challenge(staff)
    green = services.add_category(staff, challenge, "Grün", "Green")
    client.post_form(
        f"/staff/challenges/{challenge.id}/workshop-ideas/new",
        {"workshop_name": "W", "title": "Idee", "category_id": str(green.id), "language": "de"},
    )
    response = client.post_form(f"/staff/challenges/{challenge.id}/categories/{green.id}/delete")
    assert response.status_code == 409
    assert says("Ideas already use this category; rename it instead.") in html(response)
    assert count(Category) == 1 and audit("category.delete") == []


# --- workshop ideas -------------------------------------------------------------------------


def test_staff_enter_a_workshop_idea(client, staff):
    challenge = make_challenge(staff)
    green = services.add_category(staff, challenge, "Grün", "Green")
    hoerde = District(name="Hörde", position=3)
    db.session.add(hoerde)
    db.session.commit()
    url = f"/staff/challenges/{challenge.id}/workshop-ideas/new"
    page = html(client.get(url))
    assert f'<option value="{green.id}">Grün</option>' in page
    assert f'<option value="{hoerde.id}">Hörde</option>' in page
    response = client.post_form(
        url,
        {"workshop_name": "Zukunftswerkstatt Hörde", "title": "Trinkbrunnen", "body": "*Wasser* für alle",
         "category_id": str(green.id), "district_id": str(hoerde.id), "language": "de"},
    )  # fmt: skip
    assert response.status_code == 302
    assert response.headers["Location"].startswith(url + "?workshop=Zukunftswerkstatt")
    [idea] = db.session.scalars(db.select(Idea)).all()
    assert (idea.status, idea.origin, idea.workshop_name, idea.author_id, idea.entered_by_id) == (
        "published", "workshop", "Zukunftswerkstatt Hörde", None, staff.id,
    )  # fmt: skip
    assert (idea.category_id, idea.district_id, idea.language) == (green.id, hoerde.id, "de")
    assert idea.body_html == "<p><em>Wasser</em> für alle</p>\n"
    [entry] = audit("idea.workshop_entry")
    assert entry.details == {"challenge": challenge.id, "workshop": "Zukunftswerkstatt Hörde"}
    # The next idea from the same workshop: its name is filled in already.
    page = html(client.get(response.headers["Location"]))
    assert 'value="Zukunftswerkstatt Hörde"' in page
    assert says('The idea "%(title)s" has been published.', title="Trinkbrunnen") in page


def test_a_workshop_idea_without_categories_or_district(client, staff):
    challenge = make_challenge(staff)
    response = client.post_form(
        f"/staff/challenges/{challenge.id}/workshop-ideas/new",
        {"workshop_name": "Stadtteilfest", "title": "Mehr Bänke", "category_id": "", "district_id": "",
         "language": "en"},
    )  # fmt: skip
    assert response.status_code == 302
    [idea] = db.session.scalars(db.select(Idea)).all()
    assert (idea.category_id, idea.district_id, idea.language) == (None, None, "en")


# --- permissions ----------------------------------------------------------------------------


def _routes(challenge_id: int, category_id: int):
    base = f"/staff/challenges/{challenge_id}"
    return [
        ("GET", "/staff/challenges"),
        ("GET", "/staff/challenges/new"),
        ("POST", "/staff/challenges/new"),
        ("GET", f"{base}/edit"),
        ("POST", f"{base}/edit"),
        ("POST", f"{base}/cover"),
        ("POST", f"{base}/categories"),
        ("POST", f"{base}/categories/{category_id}"),
        ("POST", f"{base}/categories/{category_id}/delete"),
        ("GET", f"{base}/workshop-ideas/new"),
        ("POST", f"{base}/workshop-ideas/new"),
    ]


def _setup(make_user):
    owner = make_user(roles=("citizen", "staff"))
    challenge = make_challenge(owner)
    category = services.add_category(owner, challenge, "Grün", "Green")
    return challenge, category


def test_citizens_get_403_everywhere(client, make_user, login):
    challenge, category = _setup(make_user)
    before = snapshot(challenge.id)
    entries = len(audit())
    login(make_user(roles=("citizen",)))
    for method, url in _routes(challenge.id, category.id):
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post_form(url, form_data(challenge, title_de="Gekapert", name_de="X",
                                                       workshop_name="W", title="T"))  # fmt: skip
        assert response.status_code == 403, url
        assert says("You do not have permission to see this page.") in html(response)
    assert snapshot(challenge.id) == before and len(audit()) == entries
    assert count(Challenge) == 1 and count(Idea) == 0


def test_anonymous_visitors_are_sent_to_log_in(client, make_user):
    challenge, category = _setup(make_user)
    before = snapshot(challenge.id)
    for method, url in _routes(challenge.id, category.id):
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post_form(url, form_data(challenge, title_de="Gekapert"))
        assert response.status_code == 302, url
        assert response.headers["Location"].startswith("/account/login?next="), url
    assert snapshot(challenge.id) == before and count(Challenge) == 1


def test_a_post_without_csrf_token_is_refused(client, staff):
    challenge = make_challenge(staff)
    before = snapshot(challenge.id)
    response = client.http.post(
        f"/staff/challenges/{challenge.id}/edit", data=form_data(challenge, title_de="X")
    )
    assert response.status_code == 400
    assert snapshot(challenge.id) == before
