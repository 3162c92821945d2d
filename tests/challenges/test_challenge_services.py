"""Challenge services: phases from the schedule and the clock, schedule rules, locking once
voting runs, categories, covers, workshop ideas, and an audit entry for every change."""

from datetime import UTC, datetime, timedelta
from io import BytesIO

import pytest
from PIL import Image as PILImage
from test_challenge_staff_helpers import (
    INVISIBLE,
    LOCKED,
    audit,
    challenge_data,
    count,
    make_challenge,
    schedule,
    snapshot,
)

from consult import clock
from consult.challenges import services
from consult.challenges.models import Category, Challenge
from consult.districts import District
from consult.errors import UserError
from consult.extensions import db
from consult.i18n import _
from consult.ideas import services as ideas
from consult.ideas.models import Idea
from consult.media.models import Image

T0 = datetime(2030, 5, 1, 8, 0, tzinfo=UTC)
TICK = timedelta(microseconds=1)


@pytest.fixture
def staff(make_user):
    return make_user(pseudonym="Chefin", roles=("citizen", "staff"))


def _challenge(**dates) -> Challenge:
    """An unsaved challenge: the phase is pure logic over the schedule."""
    return Challenge(**{**schedule(T0), **dates})


# --- phase, derived from the schedule and the clock ---------------------------------------


def test_each_phase_begins_exactly_at_its_date():
    c = _challenge(archived_at=T0 + timedelta(days=40))
    boundaries = [
        (c.submission_opens_at, "draft", "submission"),
        (c.voting_opens_at, "submission", "voting"),
        (c.voting_closes_at, "voting", "evaluation"),
        (c.results_at, "evaluation", "results"),
        (c.archived_at, "results", "archived"),
    ]
    for moment, before, after in boundaries:
        assert c.phase(moment - TICK) == before, moment
        assert c.phase(moment) == after, moment


def test_submission_and_voting_may_overlap():
    c = _challenge()  # voting opens on day 5, submission closes on day 10
    inside = T0 + timedelta(days=7)
    assert c.phase(inside) == "voting"
    assert c.submission_open(inside) and c.voting_open(inside)
    assert c.submission_open(c.submission_closes_at - TICK)
    assert not c.submission_open(c.submission_closes_at)
    assert c.phase(c.submission_closes_at) == "voting"
    assert not c.voting_open(c.voting_closes_at)


def test_without_an_archive_date_the_results_phase_lasts():
    c = _challenge()
    assert c.phase(T0 + timedelta(days=3650)) == "results"


def test_the_phase_follows_the_clock_without_any_job(app, staff):
    challenge = make_challenge(staff, **schedule(clock.now() + timedelta(days=1)))
    assert challenge.phase() == "draft" and not challenge.is_public()
    with clock.travel(timedelta(days=1)):
        assert challenge.phase() == "submission"
    with clock.travel(timedelta(days=6)):
        assert challenge.phase() == "voting" and challenge.voting_started()
    with clock.travel(timedelta(days=21)):
        assert challenge.phase() == "evaluation"
    with clock.travel(timedelta(days=31)):
        assert challenge.phase() == "results"


# --- schedule rules -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"submission_closes_at": T0}, "submission_closes_at", "Submission must close after it opens."),
        ({"submission_closes_at": T0 - TICK}, "submission_closes_at", "Submission must close after it opens."),
        ({"voting_closes_at": T0 + timedelta(days=5)}, "voting_closes_at", "Voting must end after it starts."),
        ({"voting_closes_at": T0 + timedelta(days=4)}, "voting_closes_at", "Voting must end after it starts."),
        ({"voting_opens_at": T0 - TICK}, "voting_opens_at", "Voting cannot start before submission opens."),
        ({"voting_closes_at": T0 + timedelta(days=9)}, "voting_closes_at", "Voting cannot end before submission closes."),
        ({"results_at": T0 + timedelta(days=19)}, "results_at", "Results cannot come before voting ends."),
        ({"archived_at": T0 + timedelta(days=30)}, "archived_at", "A challenge can only be archived after its results."),
        ({"results_at": None}, "results_at", "Please enter a date and time."),
        ({"voting_opens_at": "tomorrow"}, "voting_opens_at", "Please enter a date and time."),
        ({"voting_opens_at": datetime(2030, 5, 6)}, "voting_opens_at", "Please enter a date and time."),
        ({"archived_at": "never"}, "archived_at", "Please enter a date and time."),
    ],
)  # fmt: skip
def test_dates_out_of_order_are_refused(app, staff, change, field, message):
    with pytest.raises(UserError) as caught:
        make_challenge(staff, **{**schedule(T0), **change})
    assert (caught.value.field, caught.value.message, caught.value.status) == (
        field,
        _(message),
        400,
    )
    assert count(Challenge) == 0 and audit() == []


def test_edges_that_are_allowed(app, staff):
    # Voting may run exactly as long as submission, and results may follow at once.
    dates = schedule(T0)
    dates.update(
        voting_opens_at=dates["submission_opens_at"],
        voting_closes_at=dates["submission_closes_at"],
        results_at=dates["submission_closes_at"],
    )
    challenge = make_challenge(staff, **dates)
    assert challenge.phase(challenge.results_at) == "results"


# --- creating -------------------------------------------------------------------------------


def test_create_stores_everything_and_is_audited(app, staff):
    challenge = make_challenge(staff, plain_de="Leichte Sprache.", vote_budget=0)
    stored = snapshot(challenge.id)
    assert stored["title_de"] == "Lebendige Innenstadt"
    assert stored["plain_de"] == "Leichte Sprache." and stored["plain_en"] == ""
    assert stored["vote_budget"] == 0
    assert stored["created_by_id"] == staff.id
    assert stored["submission_opens_at"] == schedule()["submission_opens_at"]
    [entry] = audit()
    assert (entry.action, entry.actor_id, entry.object_type, entry.object_id) == (
        "challenge.create", staff.id, "challenge", challenge.id,
    )  # fmt: skip
    assert entry.details == {"title": "Lebendige Innenstadt"}
    assert challenge.missing_translations() == ["plain_en"]


def test_create_ignores_keys_that_are_not_fields(app, staff, make_user):
    other = make_user()
    challenge = make_challenge(staff, id=999, created_by_id=other.id, cover_image_id=5)
    assert challenge.id != 999 and challenge.created_by_id == staff.id
    assert challenge.cover_image_id is None


def test_settings_left_out_take_their_defaults(app, staff):
    data = challenge_data()
    for field in ("vote_budget", "hide_counts_while_voting", "moderation", "count_paper_votes"):
        data.pop(field)
    challenge = services.create_challenge(staff, data)
    assert (
        challenge.vote_budget,
        challenge.hide_counts_while_voting,
        challenge.moderation,
        challenge.count_paper_votes,
    ) == (5, False, "pre", True)


@pytest.mark.parametrize("budget", [-1, 101, "abc", "5", None, True, 2.5])
def test_vote_budget_must_be_a_whole_number_from_0_to_100(app, staff, budget):
    with pytest.raises(UserError) as caught:
        make_challenge(staff, vote_budget=budget)
    assert caught.value.field == "vote_budget"
    assert caught.value.message == _(
        "Please enter a whole number from %(min)d to %(max)d.", min=0, max=100
    )
    assert count(Challenge) == 0


@pytest.mark.parametrize("budget", [0, 1, 100])
def test_vote_budget_limits_are_inclusive(app, staff, budget):
    assert make_challenge(staff, vote_budget=budget).vote_budget == budget


@pytest.mark.parametrize(
    "change, field",
    [({"moderation": "never"}, "moderation"), ({"count_paper_votes": "yes"}, "count_paper_votes"),
     ({"hide_counts_while_voting": None}, "hide_counts_while_voting")],
)  # fmt: skip
def test_other_settings_are_checked(app, staff, change, field):
    with pytest.raises(UserError) as caught:
        make_challenge(staff, **change)
    assert caught.value.field == field and count(Challenge) == 0


@pytest.mark.parametrize("sneaky", ["\u202e", "\u200b", "\u2066", "\ufeff", "\x07"])
def test_invisible_characters_in_titles_are_refused(app, staff, sneaky):
    with pytest.raises(UserError) as caught:
        make_challenge(staff, title_en=f"Votes{sneaky}txt.exe")
    assert (caught.value.field, caught.value.message) == ("title_en", _(INVISIBLE))
    assert count(Challenge) == 0


def test_too_long_texts_are_refused(app, staff):
    with pytest.raises(UserError) as caught:
        make_challenge(staff, title_de="x" * 10_000)
    assert caught.value.field == "title_de"
    assert caught.value.message == _("Please use at most %(max)d characters.", max=160)


def test_a_title_and_a_question_are_needed_in_one_language(app, staff):
    with pytest.raises(UserError) as caught:
        make_challenge(staff, title_de="  ", title_en="")
    assert caught.value.field == "title_de"
    with pytest.raises(UserError):
        make_challenge(staff, question_de="", question_en="")
    # One language is enough.
    assert make_challenge(staff, title_de="", question_en="").title_en


def test_markup_is_stored_as_given(app, staff):
    hostile = '"><svg onload=alert(1)> <script>alert("x")</script> \'quoted\''
    challenge = make_challenge(
        staff, **{f: hostile for f in ("title_de", "question_en", "cover_alt_de")}
    )
    assert snapshot(challenge.id)["title_de"] == hostile


# --- editing --------------------------------------------------------------------------------


def test_update_changes_only_what_differs_and_audits_it(app, staff):
    challenge = make_challenge(staff)
    changed = services.update_challenge(
        staff, challenge, {"title_en": "A livelier centre", "title_de": "Lebendige Innenstadt",
                           "vote_budget": 3, "moderation": "post"},
    )  # fmt: skip
    assert sorted(changed) == ["moderation", "title_en", "vote_budget"]
    entry = audit("challenge.update")[-1]
    assert (entry.actor_id, entry.object_id) == (staff.id, challenge.id)
    assert entry.details == {"fields": ["moderation", "title_en", "vote_budget"]}
    stored = snapshot(challenge.id)
    assert (stored["title_en"], stored["vote_budget"], stored["moderation"]) == (
        "A livelier centre", 3, "post",
    )  # fmt: skip


def test_an_update_without_changes_writes_nothing(app, staff):
    challenge = make_challenge(staff)
    assert (
        services.update_challenge(staff, challenge, {"title_de": " Lebendige  Innenstadt "}) == []
    )
    assert audit("challenge.update") == []


def test_an_update_is_checked_like_a_new_challenge(app, staff):
    challenge = make_challenge(staff)
    before = snapshot(challenge.id)
    for data in (
        {"voting_closes_at": challenge.voting_opens_at - timedelta(hours=1)},
        {"title_de": "A\u202eB"},
        {"vote_budget": 101},
        {"title_de": "", "title_en": ""},
    ):
        with pytest.raises(UserError):
            services.update_challenge(staff, challenge, data)
        assert snapshot(challenge.id) == before
    assert audit("challenge.update") == []


@pytest.mark.parametrize(
    "field, value",
    [
        ("vote_budget", 7),
        ("hide_counts_while_voting", True),
        ("count_paper_votes", False),
        ("voting_opens_at", timedelta(hours=1)),
        ("voting_closes_at", timedelta(days=1)),
    ],
)
def test_what_a_running_vote_depends_on_is_locked(app, staff, field, value):
    challenge = make_challenge(staff)
    before = snapshot(challenge.id)
    if isinstance(value, timedelta):
        value = getattr(challenge, field) + value
    with clock.travel(timedelta(days=15)), pytest.raises(UserError) as caught:  # voting runs
        services.update_challenge(staff, challenge, {field: value, "title_en": "Changed"})
    assert (caught.value.status, caught.value.field, caught.value.message) == (
        409,
        field,
        _(LOCKED),
    )
    assert snapshot(challenge.id) == before
    assert audit("challenge.update") == []


def test_the_lock_begins_exactly_when_voting_opens(app, staff):
    challenge = make_challenge(staff, **schedule(clock.now() + timedelta(days=1)))
    opens_in = challenge.voting_opens_at - clock.now()
    with clock.travel(opens_in - timedelta(seconds=1)):
        assert services.update_challenge(staff, challenge, {"vote_budget": 4}) == ["vote_budget"]
    with clock.travel(opens_in), pytest.raises(UserError):
        services.update_challenge(staff, challenge, {"vote_budget": 3})
    assert snapshot(challenge.id)["vote_budget"] == 4


def test_other_settings_stay_editable_while_voting_runs(app, staff):
    challenge = make_challenge(staff)
    with clock.travel(timedelta(days=15)):
        changed = services.update_challenge(
            staff, challenge,
            {"title_de": "Neuer Titel", "moderation": "post", "vote_budget": 5,
             "results_at": challenge.results_at + timedelta(days=3)},
        )  # fmt: skip
    assert sorted(changed) == ["moderation", "results_at", "title_de"]


def test_missing_translations_are_listed_per_field():
    c = Challenge(title_de="Titel", title_en="", question_de="", question_en="Why?",
                  description_de="", description_en="", plain_de="", plain_en="",
                  cover_alt_de="", cover_alt_en="Alt")  # fmt: skip
    assert c.missing_translations() == ["title_en", "question_de", "cover_alt_de"]


# --- cover image ----------------------------------------------------------------------------


def png_bytes(size=(40, 30)) -> bytes:
    out = BytesIO()
    PILImage.new("RGB", size, (0, 90, 140)).save(out, "PNG")
    return out.getvalue()


def test_a_cover_is_cleaned_stored_and_audited_and_replaces_the_old_one(app, staff):
    challenge = make_challenge(staff)
    services.set_cover_image(staff, challenge, BytesIO(png_bytes()))
    first = snapshot(challenge.id)["cover_image_id"]
    assert db.session.get(Image, first).width == 40
    services.set_cover_image(staff, challenge, BytesIO(png_bytes((20, 20))))
    second = snapshot(challenge.id)["cover_image_id"]
    assert second != first
    assert db.session.get(Image, first) is None  # the replaced cover is not kept
    assert [e.details for e in audit("challenge.cover")] == [
        {"image": first, "replaced": None},
        {"image": second, "replaced": first},
    ]


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
        b"<html><script>x</script>",
    ],
)
def test_a_cover_that_is_no_image_is_refused(app, staff, data):
    challenge = make_challenge(staff)
    with pytest.raises(UserError) as caught:
        services.set_cover_image(staff, challenge, BytesIO(data))
    assert caught.value.field == "image" and caught.value.status == 400
    db.session.rollback()
    assert snapshot(challenge.id)["cover_image_id"] is None
    assert count(Image) == 0 and audit("challenge.cover") == []


# --- categories -----------------------------------------------------------------------------


def test_categories_are_added_renamed_and_removed_with_audit(app, staff):
    challenge = make_challenge(staff)
    green = services.add_category(staff, challenge, " Grün ", "Green")
    mobility = services.add_category(staff, challenge, "Mobilität", "")
    assert [(c.name_de, c.name_en, c.position) for c in challenge.categories] == [
        ("Grün", "Green", 0), ("Mobilität", "", 1),
    ]  # fmt: skip
    services.rename_category(staff, mobility, "Mobilität", "Mobility")
    services.delete_category(staff, green)
    assert [(c.name_de, c.name_en) for c in fresh_categories(challenge)] == [
        ("Mobilität", "Mobility")
    ]
    assert [(e.action, e.object_id, e.details["category"]) for e in audit()[1:]] == [
        ("category.create", challenge.id, green.id),
        ("category.create", challenge.id, mobility.id),
        ("category.update", challenge.id, mobility.id),
        ("category.delete", challenge.id, green.id),
    ]


def fresh_categories(challenge):
    db.session.expire_all()
    return db.session.get(Challenge, challenge.id).categories


@pytest.mark.parametrize(
    "name_de, name_en, field, message",
    [
        ("", "  ", "name_de", "Please name the category in at least one language."),
        ("Grün\u202e", "Green", "name_de", INVISIBLE),
        ("Grün", "Gr\u200been", "name_en", INVISIBLE),
        ("x" * 81, "Green", "name_de", "Please use at most %(max)d characters."),
    ],
)
def test_bad_category_names_are_refused(app, staff, name_de, name_en, field, message):
    challenge = make_challenge(staff)
    with pytest.raises(UserError) as caught:
        services.add_category(staff, challenge, name_de, name_en)
    assert caught.value.field == field
    assert caught.value.message == (_(message, max=80) if "%" in message else _(message))
    assert count(Category) == 0 and audit("category.create") == []


def test_a_category_in_use_cannot_be_removed(app, staff):
    challenge = make_challenge(staff)
    green = services.add_category(staff, challenge, "Grün", "Green")
    ideas.enter_workshop_idea(
        staff, challenge, {"title": "Bäume", "category_id": green.id}, "Werkstatt"
    )
    with pytest.raises(UserError) as caught:
        services.delete_category(staff, green)
    assert caught.value.status == 409
    assert count(Category) == 1 and audit("category.delete") == []


# --- workshop ideas -------------------------------------------------------------------------


def test_a_workshop_idea_is_published_at_once_and_audited(app, staff):
    challenge = make_challenge(staff)
    green = services.add_category(staff, challenge, "Grün", "Green")
    district = District(name="Hörde", position=1)
    db.session.add(district)
    db.session.commit()
    idea = ideas.enter_workshop_idea(
        staff, challenge,
        {"title": "Trinkbrunnen", "body": "**Wasser** für alle", "category_id": green.id,
         "district_id": district.id, "language": "de"},
        " Zukunftswerkstatt  Hörde ",
    )  # fmt: skip
    db.session.expire_all()
    idea = db.session.get(Idea, idea.id)
    assert (idea.status, idea.origin, idea.workshop_name) == (
        "published",
        "workshop",
        "Zukunftswerkstatt Hörde",
    )
    assert idea.author_id is None and idea.entered_by_id == staff.id
    assert (
        idea.published_at is not None
        and idea.body_html == "<p><strong>Wasser</strong> für alle</p>\n"
    )
    [entry] = audit("idea.workshop_entry")
    assert (entry.actor_id, entry.object_type, entry.object_id) == (staff.id, "idea", idea.id)
    assert entry.details == {"challenge": challenge.id, "workshop": "Zukunftswerkstatt Hörde"}


def test_a_workshop_idea_needs_a_category_of_its_own_challenge(app, staff):
    challenge = make_challenge(staff)
    services.add_category(staff, challenge, "Grün", "Green")
    other = make_challenge(staff)
    foreign = services.add_category(staff, other, "Fremd", "Foreign")
    for category_id in (foreign.id, 0, None):
        with pytest.raises(UserError) as caught:
            ideas.enter_workshop_idea(
                staff, challenge, {"title": "X", "category_id": category_id}, "W"
            )
        assert caught.value.field == "category_id"
    assert count(Idea) == 0 and audit("idea.workshop_entry") == []


@pytest.mark.parametrize(
    "name, message",
    [("", "Please name the workshop."), ("Werk\u202estatt", INVISIBLE),
     ("W" * 121, "Please use at most %(max)d characters.")],
)  # fmt: skip
def test_the_workshop_must_be_named_properly(app, staff, name, message):
    challenge = make_challenge(staff)
    with pytest.raises(UserError) as caught:
        ideas.enter_workshop_idea(staff, challenge, {"title": "Idee"}, name)
    assert caught.value.field == "workshop_name"
    assert caught.value.message == (_(message, max=120) if "%" in message else _(message))
    assert count(Idea) == 0


def test_no_workshop_ideas_once_the_results_are_out(app, staff):
    challenge = make_challenge(staff)
    with clock.travel(timedelta(days=45)), pytest.raises(UserError) as caught:
        ideas.enter_workshop_idea(staff, challenge, {"title": "Zu spät"}, "Werkstatt")
    assert caught.value.status == 409 and count(Idea) == 0
