"""The press office's use cases: save, publish with an embargo, withdraw before it."""

from datetime import timedelta

import pytest
from jury.jury_support import evaluation_challenge
from results_support import (
    announce,
    announcement_data,
    audit_count,
    frozen_world,
    highlights_of,
    press_of,
    stored_announcement,
)

from consult.clock import frozen, now, travel
from consult.errors import UserError
from consult.results import services
from consult.results.visibility import public_announcement


def test_publish_makes_results_public_at_the_embargo_without_any_job(app, make_user):
    world = frozen_world(make_user)
    announcement = announce(world, embargo=timedelta(hours=1))
    assert announcement.published_at is not None
    assert services.announcement_state(announcement) == "scheduled"
    assert public_announcement(world.challenge) is None
    # From the stored embargo: publishing may take a while (charts are drawn inline here).
    with frozen(stored_announcement(world.challenge).embargo_at - timedelta(seconds=1)):
        assert public_announcement(world.challenge) is None
    with travel(timedelta(hours=1, seconds=1)):
        assert public_announcement(world.challenge) is not None
        assert services.announcement_state(announcement) == "public"
    assert audit_count("announcement.publish") == 1


def test_highlights_follow_the_ranking_order(app, make_user):
    world = frozen_world(make_user)
    # Ranking: idea 2, idea 1, idea 3; chosen in another order.
    announcement = announce(world, highlights=[world.ideas[0], world.ideas[1]])
    assert highlights_of(announcement) == [world.ideas[1].id, world.ideas[0].id]


def test_a_draft_may_be_incomplete_and_is_audited(app, make_user):
    world = frozen_world(make_user)
    data = announcement_data(world, embargo=None, highlights=[], title_en="")
    announcement = services.save_announcement(press_of(world), world.challenge, data)
    assert announcement.published_at is None
    assert announcement.body_html_de.startswith("<p>Danke an <strong>alle</strong>")
    assert services.announcement_state(announcement) == "draft"
    assert audit_count("announcement.save") == 1


@pytest.mark.parametrize(
    "change, field",
    [
        ({"title_de": ""}, "title_de"),
        ({"title_en": "  "}, "title_en"),
        ({"embargo_at": None}, "embargo_at"),
        ({"highlights": []}, "highlights"),
        ({"title_de": "x" * 201}, "title_de"),
        ({"lead_en": "a\u202eb"}, "lead_en"),
    ],
)
def test_publish_refuses_incomplete_texts_and_stores_nothing(app, make_user, change, field):
    world = frozen_world(make_user)
    data = dict(announcement_data(world), **change)
    with pytest.raises(UserError) as refused:
        services.publish_announcement(press_of(world), world.challenge, data)
    assert (refused.value.status, refused.value.field) == (400, field)
    assert stored_announcement(world.challenge) is None


@pytest.mark.parametrize("embargo", [timedelta(minutes=-1), timedelta(0), timedelta(days=-400)])
def test_an_embargo_in_the_past_is_refused(app, make_user, embargo):
    world = frozen_world(make_user)
    for action in (services.publish_announcement, services.save_announcement):
        with pytest.raises(UserError) as refused:
            action(press_of(world), world.challenge, announcement_data(world, embargo=embargo))
        assert (refused.value.status, refused.value.field) == (400, "embargo_at")
    assert stored_announcement(world.challenge) is None


def test_a_naive_embargo_is_refused(app, make_user):
    world = frozen_world(make_user)
    data = announcement_data(world)
    data["embargo_at"] = data["embargo_at"].replace(tzinfo=None)
    with pytest.raises(UserError) as refused:
        services.publish_announcement(press_of(world), world.challenge, data)
    assert refused.value.field == "embargo_at"


def test_an_idea_outside_the_ranking_cannot_be_highlighted(app, make_user):
    world = frozen_world(make_user)
    data = announcement_data(world)
    data["highlights"] = [world.ideas[0].id, 999_999]
    with pytest.raises(UserError) as refused:
        services.publish_announcement(press_of(world), world.challenge, data)
    assert refused.value.field == "highlights"
    assert stored_announcement(world.challenge) is None


def test_results_that_are_not_frozen_cannot_be_announced(app, make_user):
    world = frozen_world(make_user, freeze=False)
    for action in (services.publish_announcement, services.save_announcement):
        with pytest.raises(UserError) as refused:
            action(press_of(world), world.challenge, announcement_data(world))
        assert refused.value.status == 409
    assert stored_announcement(world.challenge) is None


@pytest.mark.parametrize("roles", [("citizen",), ("moderator",), ("juror",)])
def test_only_press_and_staff_may_announce(app, make_user, roles):
    world = frozen_world(make_user)
    with pytest.raises(UserError) as refused:
        services.publish_announcement(make_user(roles=roles), world.challenge,
                                      announcement_data(world))  # fmt: skip
    assert refused.value.status == 403
    services.save_announcement(world.staff, world.challenge, announcement_data(world))


def test_publishing_twice_is_refused(app, make_user):
    world = frozen_world(make_user)
    announce(world)
    with pytest.raises(UserError) as refused:
        announce(world)
    assert refused.value.status == 409


def test_texts_can_be_corrected_after_publication_but_the_embargo_stays(app, make_user):
    world = frozen_world(make_user)
    announcement = announce(world, embargo=timedelta(hours=1))
    embargo = announcement.embargo_at
    data = announcement_data(world, embargo=None, title_en="The winners (corrected)")
    services.save_announcement(press_of(world), world.challenge, data)
    stored = stored_announcement(world.challenge)
    assert (stored.title_en, stored.embargo_at) == ("The winners (corrected)", embargo)
    assert stored.published_at is not None
    with pytest.raises(UserError) as refused:
        services.save_announcement(
            press_of(world), world.challenge, announcement_data(world, embargo=timedelta(days=2))
        )
    assert (refused.value.status, refused.value.field) == (409, "embargo_at")
    assert stored_announcement(world.challenge).embargo_at == embargo


def test_withdraw_before_the_embargo_makes_it_a_draft_again(app, make_user):
    world = frozen_world(make_user)
    announce(world, embargo=timedelta(hours=1))
    services.withdraw_announcement(press_of(world), world.challenge)
    stored = stored_announcement(world.challenge)
    assert stored.published_at is None and services.announcement_state(stored) == "draft"
    with travel(timedelta(hours=2)):
        assert public_announcement(world.challenge) is None
    assert audit_count("announcement.withdraw") == 1
    # Published again, with a new embargo.
    announce(world, embargo=timedelta(hours=3))
    assert stored_announcement(world.challenge).embargo_at > now() + timedelta(hours=2)


def test_withdraw_after_the_embargo_is_refused(app, make_user):
    world = frozen_world(make_user)
    announce(world, embargo=timedelta(hours=1))
    with travel(timedelta(hours=1, seconds=1)):
        with pytest.raises(UserError) as refused:
            services.withdraw_announcement(press_of(world), world.challenge)
        assert refused.value.status == 409
        assert public_announcement(world.challenge) is not None
    assert audit_count("announcement.withdraw") == 0


def test_withdraw_of_a_draft_is_refused(app, make_user):
    world = frozen_world(make_user)
    announce(world, publish=False)
    with pytest.raises(UserError) as refused:
        services.withdraw_announcement(press_of(world), world.challenge)
    assert refused.value.status == 409


def test_press_overview_shows_each_frozen_challenge_with_its_state(app, make_user):
    world = frozen_world(make_user)
    unfrozen = evaluation_challenge()
    [entry] = services.press_overview()
    assert (entry.challenge.id, entry.state) == (world.challenge.id, "none")
    announce(world)
    [entry] = services.press_overview()
    assert entry.state == "scheduled"
    assert unfrozen.id != entry.challenge.id
