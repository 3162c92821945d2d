"""The press pages: who may open them, the form, publish, preview and withdraw."""

import re
from datetime import timedelta

import pytest
from results_support import (
    TEXTS,
    announce,
    audit_count,
    berlin_input,
    edit_url,
    form_data,
    frozen_world,
    highlights_of,
    html,
    press_of,
    publish_past_embargo,
    results_url,
    says,
    stored_announcement,
)

from consult.clock import now, travel
from consult.results.visibility import public_announcement

PRESS_PAGES = ["/press", "/press/challenges/{id}/announcement",
               "/press/challenges/{id}/announcement/preview"]  # fmt: skip


@pytest.mark.parametrize("roles", [("citizen",), ("citizen", "moderator"), ("citizen", "juror")])
def test_press_pages_are_forbidden_to_other_roles(app, client, make_user, login, roles):
    world = frozen_world(make_user)
    announce(world)
    login(make_user(roles=roles, pseudonym="Neugierig"))
    for page in PRESS_PAGES:
        assert client.get(page.format(id=world.challenge.id)).status_code == 403
    before = stored_announcement(world.challenge).title_de
    posted = client.post_form(edit_url(world.challenge), form_data(world, title_de="Gehackt"))
    assert posted.status_code == 403
    withdrawn = client.post_form(edit_url(world.challenge) + "/withdraw")
    assert withdrawn.status_code == 403
    stored = stored_announcement(world.challenge)
    assert stored.title_de == before and stored.published_at is not None


def test_press_pages_send_visitors_to_the_login(app, client, make_user):
    world = frozen_world(make_user)
    for page in PRESS_PAGES:
        response = client.get(page.format(id=world.challenge.id))
        assert response.status_code == 302
        assert "/account/login" in response.headers["Location"]


def test_press_list_shows_states_in_berlin_time(app, client, make_user, login):
    world = frozen_world(make_user)
    login(press_of(world))
    page = client.get("/press")
    assert page.status_code == 200
    assert edit_url(world.challenge) in html(page)
    assert says("No announcement yet") in html(page)
    announce(world, embargo=timedelta(hours=5))
    page = html(client.get("/press"))
    assert says("Scheduled: public from %(time)s", time="@").split("@")[0] in page
    assert "/announcement/preview" in page


def test_staff_may_use_the_press_pages(app, client, make_user, login):
    world = frozen_world(make_user)
    login(world.staff)
    assert client.get("/press").status_code == 200
    assert client.get(edit_url(world.challenge)).status_code == 200


def test_the_form_saves_a_draft_and_publishes(app, client, make_user, login):
    world = frozen_world(make_user)
    login(press_of(world))
    page = client.get(edit_url(world.challenge))
    assert page.status_code == 200
    text = html(page)
    # Ranked ideas as checkboxes, in rank order (idea 2 first).
    positions = [text.index(f'id="highlight-{idea.id}"') for idea in world.ideas]
    assert positions[1] < positions[0] < positions[2]
    assert 'type="datetime-local"' in text

    saved = client.post_form(edit_url(world.challenge), form_data(world, action="save"))
    assert saved.status_code == 302
    stored = stored_announcement(world.challenge)
    assert stored.published_at is None and stored.title_en == TEXTS["title_en"]
    assert highlights_of(stored) == [world.ideas[1].id]

    published = client.post_form(edit_url(world.challenge), form_data(world, action="publish"))
    assert published.status_code == 302
    stored = stored_announcement(world.challenge)
    assert stored.published_at is not None
    assert stored.embargo_at > now()
    assert audit_count("announcement.publish") == 1
    # The embargo is shown, locked, in Berlin time.
    text = html(client.get(edit_url(world.challenge)))
    assert f'value="{berlin_input(stored.embargo_at)}"' in text
    assert re.search(
        r'<input[^>]*disabled[^>]*id="embargo_at"|<input[^>]*id="embargo_at"[^>]*disabled', text
    )


def test_the_embargo_is_taken_as_berlin_time(app, client, make_user, login):
    world = frozen_world(make_user)
    login(press_of(world))
    year = now().year + 1
    response = client.post_form(
        edit_url(world.challenge), form_data(world, embargo=f"{year}-07-01T10:00", action="publish")
    )
    assert response.status_code == 302
    embargo = stored_announcement(world.challenge).embargo_at
    assert (embargo.year, embargo.month, embargo.day, embargo.hour) == (year, 7, 1, 8)


@pytest.mark.parametrize(
    "embargo, message",
    [
        ("2020-01-01T10:00", "The embargo must be in the future: choose the moment the results become public."),
        ("morgen früh", "Please enter a date and time, for example 2026-05-01 18:00."),
        ("2026-13-45T99:99", "Please enter a date and time, for example 2026-05-01 18:00."),
        ("", "Please set the embargo: the date and time the results become public."),
        (None, "Please set the embargo: the date and time the results become public."),
    ],
)  # fmt: skip
def test_a_bad_embargo_is_a_400_tied_to_the_field_and_stores_nothing(
    app, client, make_user, login, embargo, message
):
    world = frozen_world(make_user)
    login(press_of(world))
    response = client.post_form(
        edit_url(world.challenge), form_data(world, embargo=embargo, action="publish")
    )
    assert response.status_code == 400
    text = html(response)
    error = re.search(r'<p class="error" id="embargo_at-error">(.*?)</p>', text, re.S)
    assert error and says(message, "de") in error.group(1)
    assert (
        'aria-invalid="true"' in text
        and 'aria-describedby="embargo_at-hint embargo_at-error"' in text
    )
    assert stored_announcement(world.challenge) is None
    assert audit_count("announcement.publish") == 0


def test_the_error_message_is_german_for_a_german_officer(app, client, make_user, login):
    world = frozen_world(make_user)
    login(press_of(world))
    response = client.post_form(
        edit_url(world.challenge), form_data(world, embargo="kaputt", action="publish")
    )
    assert response.status_code == 400
    message = "Please enter a date and time, for example 2026-05-01 18:00."
    assert says(message, "de") != says(message, "en")  # the German catalog has it
    assert says(message, "de") in html(response)


def test_publishing_results_that_are_not_frozen_is_a_409(app, client, make_user, login):
    world = frozen_world(make_user, freeze=False)
    login(press_of(world))
    assert client.get(edit_url(world.challenge)).status_code == 409
    response = client.post_form(edit_url(world.challenge), form_data(world, action="publish"))
    assert response.status_code == 409
    assert stored_announcement(world.challenge) is None


def test_a_forged_highlight_is_refused(app, client, make_user, login):
    world = frozen_world(make_user)
    login(press_of(world))
    data = form_data(world, action="publish")
    data["highlights"] = ["12345", "'; DROP TABLE ideas; --"]
    response = client.post_form(edit_url(world.challenge), data)
    assert response.status_code == 400
    assert 'id="highlights-error"' in html(response)
    assert stored_announcement(world.challenge) is None


def test_a_form_without_csrf_token_changes_nothing(app, client, make_user, login):
    world = frozen_world(make_user)
    login(press_of(world))
    response = client.post(edit_url(world.challenge), data=form_data(world, action="publish"))
    assert response.status_code == 400
    assert stored_announcement(world.challenge) is None


def test_unknown_challenge_is_a_404(app, client, make_user, login):
    world = frozen_world(make_user)
    login(press_of(world))
    assert client.get("/press/challenges/999999/announcement").status_code == 404
    assert client.get("/press/challenges/999999/announcement/preview").status_code == 404


def test_withdraw_before_the_embargo_and_not_after(app, client, make_user, login):
    world = frozen_world(make_user)
    login(press_of(world))
    announce(world, embargo=timedelta(hours=1))
    assert says("Withdraw the announcement") in html(client.get(edit_url(world.challenge)))
    response = client.post_form(edit_url(world.challenge) + "/withdraw")
    assert response.status_code == 302
    assert stored_announcement(world.challenge).published_at is None
    # Published again; after the embargo withdrawing is refused and nothing changes.
    client.post_form(edit_url(world.challenge), form_data(world, action="publish"))
    with travel(timedelta(hours=3)):
        response = client.post_form(edit_url(world.challenge) + "/withdraw")
        assert response.status_code == 409
        assert public_announcement(world.challenge) is not None
    assert audit_count("announcement.withdraw") == 1


def test_texts_can_be_corrected_after_the_embargo(app, client, make_user, login):
    world = frozen_world(make_user)
    publish_past_embargo(world)
    login(press_of(world))
    data = form_data(world, embargo=None, title_de="Die Gewinner (korrigiert)")
    response = client.post_form(edit_url(world.challenge), data)
    assert response.status_code == 302
    assert stored_announcement(world.challenge).title_de == "Die Gewinner (korrigiert)"
    assert "Die Gewinner (korrigiert)" in html(client.get(results_url(world.challenge)))
