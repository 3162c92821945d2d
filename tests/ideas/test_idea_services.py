"""The use cases of ideas, called directly: drafts, submission, edits, comments, reports."""

from datetime import timedelta
from io import BytesIO

import pytest
from idea_support import (
    build_world,
    count,
    counts,
    fresh,
    idea_form,
    make_comment,
    make_idea,
    photo_bytes,
    plain,
)

from consult import clock
from consult.errors import UserError
from consult.extensions import db
from consult.ideas import services
from consult.ideas.models import Comment, Idea, Report
from consult.jobs import Outbox
from consult.media.models import Image


@pytest.fixture
def world(app, make_user):
    return build_world(make_user)


class Upload:
    def __init__(self, data: bytes, filename: str = "photo.jpg"):
        self.stream, self.filename = BytesIO(data), filename

    def read(self, size=-1):
        return self.stream.read(size)


def refused(call, message: str, field=None, status=400, **kwargs):
    """Run a service that must refuse; check its message, field and status."""
    with pytest.raises(UserError) as caught:
        call()
    error = caught.value
    assert error.message == plain(message, **kwargs), error.message
    assert error.field == field
    assert error.status == status
    return error


CLOSED = (
    "The submission phase of this challenge ended on %(date)s. "
    "Ideas can no longer be written, changed or withdrawn."
)


def closed_message(challenge):
    from consult.i18n import format_local

    return plain(CLOSED, date=format_local(challenge.submission_closes_at))


# --- drafts -------------------------------------------------------------------------------


def test_a_draft_is_saved_with_cleaned_fields_and_rendered_markdown(world):
    data = idea_form(world, title="  Bänke   im\nWestpark ", body="Mehr **Bänke**\r\n\r\nbitte")
    idea = services.save_draft(world.author, world.challenge, data)
    idea = fresh(idea)
    assert idea.status == "draft" and idea.origin == "online"
    assert idea.author_id == world.author.id
    assert idea.title == "Bänke im Westpark"
    assert idea.body == "Mehr **Bänke**\n\nbitte"
    assert "<strong>Bänke</strong>" in idea.body_html
    assert idea.category_id == world.category.id
    assert idea.district_id == world.district.id
    assert idea.language == "de"
    assert idea.submitted_at is None and idea.published_at is None
    assert idea.image_id is None and idea.image_alt == ""


def test_a_draft_is_seen_by_its_author_and_the_moderators_only(world, make_user):
    idea = services.save_draft(world.author, world.challenge, idea_form(world))
    assert services.get_visible_idea(idea.id, world.author) is not None
    assert services.get_visible_idea(idea.id, world.moderator) is not None
    assert services.get_visible_idea(idea.id, world.other) is None
    assert services.get_visible_idea(idea.id, None) is None
    assert services.get_own_idea(idea.id, world.other) is None
    assert services.get_own_idea(idea.id, world.moderator) is None


def test_fields_a_form_must_not_set_are_ignored(world):
    data = idea_form(world, status="published", author_id=world.other.id, vote_count=999,
                     comment_count=5, origin="workshop", moderation_reason="x")  # fmt: skip
    idea = fresh(services.save_draft(world.author, world.challenge, data))
    assert idea.status == "draft"
    assert idea.author_id == world.author.id
    assert idea.vote_count == 0 and idea.comment_count == 0
    assert idea.origin == "online" and idea.moderation_reason == ""


def test_a_draft_with_a_photo_stores_it_cleaned(world):
    data = idea_form(world, image_alt="Eine Bank unter einem Baum")
    idea = fresh(services.save_draft(world.author, world.challenge, data, Upload(photo_bytes())))
    image = db.session.get(Image, idea.image_id)
    assert image.owner_id == world.author.id
    assert b"PhoneMaker" not in image.data
    assert idea.image_alt == "Eine Bank unter einem Baum"
    assert image.thumbnail is not None  # the job ran after the commit (inline here)


def test_a_photo_needs_a_description(world):
    before = counts()
    refused(
        lambda: services.save_draft(
            world.author, world.challenge, idea_form(world), Upload(photo_bytes())
        ),
        "Please describe the photo for people who cannot see it.",
        field="image_alt",
    )
    assert counts() == before


def test_a_refused_photo_stores_nothing(world):
    before = counts()
    data = idea_form(world, image_alt="Bild")
    refused(
        lambda: services.save_draft(world.author, world.challenge, data, Upload(b"<svg/>")),
        "This file is not an image we can read. Please upload a JPEG, PNG or WebP photo.",
        field="image",
    )
    assert counts() == before


def test_a_description_without_a_photo_is_dropped(world):
    idea = services.save_draft(world.author, world.challenge, idea_form(world, image_alt="x"))
    assert fresh(idea).image_alt == ""


@pytest.mark.parametrize(
    ("fields", "message", "field"),
    [
        ({"title": "   "}, "Please give your idea a title.", "title"),
        ({"title": "x" * 141}, "Please use at most %(max)d characters.", "title"),
        ({"body": " \n "}, "Please describe your idea.", "body"),
        ({"body": "x" * 5001}, "Please use at most %(max)d characters.", "body"),
        ({"category_id": ""}, "Please choose a category.", "category_id"),
        ({"category_id": "abc"}, "Please choose one of this challenge's categories.", "category_id"),
        ({"category_id": "99999999999999999999"}, "Please choose one of this challenge's categories.", "category_id"),
        ({"district_id": "4711"}, "Please choose a district from the list.", "district_id"),
        ({"district_id": "-1"}, "Please choose a district from the list.", "district_id"),
        ({"language": "fr"}, "Please choose a language from the list.", "language"),
        ({"title": "Idee\u202e"}, "Please remove invisible control characters from this text.", "title"),
        ({"body": "Text\u200b"}, "Please remove invisible control characters from this text.", "body"),
        ({"image_alt": "x" * 301}, "Please use at most %(max)d characters.", "image_alt"),
    ],
)  # fmt: skip
def test_invalid_fields_are_refused_and_nothing_is_stored(world, fields, message, field):
    before = counts()
    limits = {"title": 140, "body": 5000, "image_alt": 300}
    refused(
        lambda: services.save_draft(world.author, world.challenge, idea_form(world, **fields)),
        message,
        field=field,
        max=limits.get(field, 0),
    )
    assert counts() == before


def test_a_category_of_another_challenge_is_refused(world):
    data = idea_form(world, category_id=str(world.other_category.id))
    refused(
        lambda: services.save_draft(world.author, world.challenge, data),
        "Please choose one of this challenge's categories.",
        field="category_id",
    )
    assert count(Idea) == 0


def test_no_district_is_fine(world):
    idea = services.save_draft(world.author, world.challenge, idea_form(world, district_id=""))
    assert fresh(idea).district_id is None


@pytest.mark.parametrize("which", ["closed", "archived"])
def test_no_drafts_once_submission_has_closed(world, which):
    challenge = getattr(world, which)
    data = idea_form(world, category_id="")
    with pytest.raises(UserError) as caught:
        services.save_draft(world.author, challenge, data)
    assert caught.value.status == 409
    assert caught.value.message == closed_message(challenge)
    assert count(Idea) == 0


def test_no_drafts_before_submission_opens(world):
    refused(
        lambda: services.save_draft(world.author, world.draft, idea_form(world, category_id="")),
        "The submission phase of this challenge has not started yet.",
        status=409,
    )


# --- submitting ---------------------------------------------------------------------------


def test_submitting_in_a_pre_moderated_challenge_waits_for_the_moderators(world):
    idea = services.save_draft(world.author, world.challenge, idea_form(world))
    services.submit_idea(world.author, idea)
    idea = fresh(idea)
    assert idea.status == "submitted"
    assert idea.submitted_at is not None and idea.published_at is None
    assert services.get_visible_idea(idea.id, world.other) is None


def test_submitting_in_a_post_moderated_challenge_publishes(world):
    data = idea_form(world, category_id=str(world.other_category.id))
    idea = services.save_draft(world.author, world.open_post, data)
    services.submit_idea(world.author, idea)
    idea = fresh(idea)
    assert idea.status == "published" and idea.published_at is not None
    assert services.get_visible_idea(idea.id, None) is not None


def test_submitting_twice_is_refused(world):
    idea = services.save_draft(world.author, world.challenge, idea_form(world))
    services.submit_idea(world.author, idea)
    refused(
        lambda: services.submit_idea(world.author, idea),
        "This idea has already been submitted.",
        status=409,
    )


def test_nobody_submits_someone_elses_draft(world):
    idea = services.save_draft(world.author, world.challenge, idea_form(world))
    refused(
        lambda: services.submit_idea(world.other, idea),
        "This idea does not exist or is not yours.",
        status=404,
    )
    assert fresh(idea).status == "draft"


def test_submitting_after_the_close_is_refused(world):
    idea = services.save_draft(world.author, world.challenge, idea_form(world))
    with clock.travel(timedelta(days=8)):
        with pytest.raises(UserError) as caught:
            services.submit_idea(world.author, idea)
        assert caught.value.status == 409
    assert fresh(idea).status == "draft"


# --- editing ------------------------------------------------------------------------------


def test_editing_changes_the_fields(world):
    idea = services.save_draft(world.author, world.challenge, idea_form(world))
    services.update_idea(
        world.author, idea, idea_form(world, title="Neu", body="# Neu", language="en")
    )
    idea = fresh(idea)
    assert (idea.title, idea.language) == ("Neu", "en")
    assert idea.body_html.startswith("<h3>Neu</h3>")


def test_a_new_photo_replaces_the_old_one_and_the_old_one_is_deleted(world):
    data = idea_form(world, image_alt="Alt")
    idea = services.save_draft(world.author, world.challenge, data, Upload(photo_bytes()))
    old = idea.image_id
    services.update_idea(world.author, idea, data, Upload(photo_bytes("PNG", size=(30, 30))))
    idea = fresh(idea)
    assert idea.image_id not in (None, old)
    assert db.session.get(Image, old) is None
    assert count(Image) == 1


def test_removing_the_photo_deletes_it_and_its_description(world):
    data = idea_form(world, image_alt="Alt")
    idea = services.save_draft(world.author, world.challenge, data, Upload(photo_bytes()))
    services.update_idea(world.author, idea, data, remove_image=True)
    idea = fresh(idea)
    assert idea.image_id is None and idea.image_alt == ""
    assert count(Image) == 0


def test_a_kept_photo_still_needs_its_description(world):
    data = idea_form(world, image_alt="Alt")
    idea = services.save_draft(world.author, world.challenge, data, Upload(photo_bytes()))
    refused(
        lambda: services.update_idea(world.author, idea, idea_form(world, image_alt="")),
        "Please describe the photo for people who cannot see it.",
        field="image_alt",
    )
    assert fresh(idea).image_alt == "Alt"


def test_editing_a_published_idea_sends_it_back_to_the_moderators(world):
    idea = make_idea(world.challenge, world.author)
    services.update_idea(world.author, idea, idea_form(world, title="Geändert"))
    idea = fresh(idea)
    assert idea.status == "submitted" and idea.published_at is None


def test_editing_a_published_idea_in_post_moderation_keeps_it_public(world):
    idea = make_idea(world.open_post, world.author)
    data = idea_form(world, category_id=str(world.other_category.id), title="Geändert")
    services.update_idea(world.author, idea, data)
    assert fresh(idea).status == "published"


@pytest.mark.parametrize("status", ["withdrawn", "hidden"])
def test_withdrawn_and_hidden_ideas_cannot_be_edited(world, status):
    idea = make_idea(world.challenge, world.author, status=status)
    refused(
        lambda: services.update_idea(world.author, idea, idea_form(world, title="Neu")),
        "This idea can no longer be changed.",
        status=409,
    )
    assert fresh(idea).title == "Bäume für den Marktplatz"


def test_editing_after_the_close_is_refused(world):
    idea = make_idea(world.challenge, world.author, status="submitted")
    with clock.travel(timedelta(days=8)), pytest.raises(UserError) as caught:
        services.update_idea(world.author, idea, idea_form(world, title="Neu"))
    assert caught.value.status == 409
    assert fresh(idea).title == "Bäume für den Marktplatz"


def test_nobody_edits_someone_elses_idea(world):
    idea = make_idea(world.challenge, world.author)
    with pytest.raises(UserError) as caught:
        services.update_idea(world.other, idea, idea_form(world, title="Gekapert"))
    assert caught.value.status == 404
    assert fresh(idea).title == "Bäume für den Marktplatz"


# --- withdrawing and deleting -------------------------------------------------------------


@pytest.mark.parametrize("status", ["submitted", "published", "hidden"])
def test_withdrawing(world, status):
    idea = make_idea(world.challenge, world.author, status=status)
    services.withdraw_idea(world.author, idea)
    services.withdraw_idea(world.author, idea)  # twice changes nothing
    idea = fresh(idea)
    assert idea.status == "withdrawn" and idea.withdrawn_at is not None
    assert services.get_visible_idea(idea.id, None) is None
    assert services.get_visible_idea(idea.id, world.author) is not None


def test_withdrawing_after_the_close_is_refused(world):
    idea = make_idea(world.challenge, world.author)
    with clock.travel(timedelta(days=8)), pytest.raises(UserError) as caught:
        services.withdraw_idea(world.author, idea)
    assert caught.value.status == 409
    assert fresh(idea).status == "published"


def test_a_draft_is_deleted_with_its_photo(world):
    data = idea_form(world, image_alt="Alt")
    idea = services.save_draft(world.author, world.challenge, data, Upload(photo_bytes()))
    services.delete_draft(world.author, idea)
    assert count(Idea) == 0 and count(Image) == 0


def test_only_drafts_are_deleted(world):
    idea = make_idea(world.challenge, world.author, status="submitted")
    refused(
        lambda: services.delete_draft(world.author, idea),
        "Only drafts can be deleted. You can withdraw a submitted idea instead.",
        status=409,
    )
    assert count(Idea) == 1


def test_nobody_deletes_someone_elses_draft(world):
    idea = make_idea(world.challenge, world.author, status="draft")
    with pytest.raises(UserError) as caught:
        services.delete_draft(world.other, idea)
    assert caught.value.status == 404
    assert count(Idea) == 1


def test_my_ideas_lists_every_state_but_only_my_own(world):
    mine = [
        make_idea(world.challenge, world.author, status=s, title=s)
        for s in ("draft", "submitted", "published", "hidden", "withdrawn")
    ]
    make_idea(world.challenge, world.other, title="fremd")
    listed = services.list_own_ideas(world.author)
    assert {i.id for i in listed} == {i.id for i in mine}


# --- comments -----------------------------------------------------------------------------


def test_a_comment_is_stored_counted_and_the_author_told(world, mailbox):
    world.author.locale = "en"
    db.session.commit()
    idea = make_idea(world.challenge, world.author)
    comment = services.add_comment(world.other, idea, "  Schöne Idee!\r\nWirklich. ", "de")
    comment = fresh(comment)
    assert comment.body == "Schöne Idee!\nWirklich." and comment.language == "de"
    assert fresh(idea).comment_count == 1
    message = mailbox.last_to("anna@example.org")
    assert message["Subject"] == plain("New comment on your idea", "en")
    text = mailbox.text(message)
    assert "Otto" in text and "Bäume für den Marktplatz" in text
    assert f"http://localhost/ideas/{idea.id}" in text
    assert "Schöne Idee" not in text  # the comment may be hidden before the mail is read


def test_commenting_on_my_own_idea_sends_no_mail(world, mailbox):
    idea = make_idea(world.challenge, world.author)
    services.add_comment(world.author, idea, "Ergänzung")
    assert mailbox.messages() == []
    assert count(Outbox) == 0


def test_a_deleted_author_gets_no_mail(world, mailbox):
    from consult.clock import now

    idea = make_idea(world.challenge, world.author)
    world.author.deleted_at, world.author.email = now(), None
    db.session.commit()
    services.add_comment(world.other, idea, "Hallo")
    assert mailbox.messages() == []


@pytest.mark.parametrize("status", ["draft", "submitted", "hidden", "withdrawn"])
def test_only_published_ideas_take_comments(world, status):
    idea = make_idea(world.challenge, world.author, status=status)
    refused(
        lambda: services.add_comment(world.other, idea, "Hallo"),
        "Comments are closed for this idea.",
        status=409,
    )
    assert count(Comment) == 0


def test_comments_close_when_the_challenge_is_archived(world):
    idea = make_idea(world.archived, world.author, category_id=None)
    refused(
        lambda: services.add_comment(world.other, idea, "Hallo"),
        "Comments are closed for this idea.",
        status=409,
    )


@pytest.mark.parametrize(
    ("body", "language", "message", "field"),
    [
        ("   ", "de", "Please write a comment.", "body"),
        ("x" * 10_000, "de", "Please use at most %(max)d characters.", "body"),
        ("Hallo\u202e", "de", "Please remove invisible control characters from this text.", "body"),
        ("Hallo", "xx", "Please choose a language from the list.", "language"),
    ],
)
def test_invalid_comments_are_refused(world, mailbox, body, language, message, field):
    idea = make_idea(world.challenge, world.author)
    before = counts()
    refused(
        lambda: services.add_comment(world.other, idea, body, language),
        message,
        field=field,
        max=2000,
    )
    assert counts() == before
    assert fresh(idea).comment_count == 0
    assert mailbox.messages() == []


# --- reports ------------------------------------------------------------------------------


def test_reporting_an_idea_and_a_comment(world):
    idea = make_idea(world.challenge, world.author)
    comment = make_comment(idea, world.author)
    first = services.report_content(world.other, idea, "offensive", " Bitte prüfen ")
    again = services.report_content(world.other, idea, "advertising")
    assert again.id == first.id and fresh(first).note == "Bitte prüfen"
    services.report_content(world.other, idea, "personal_data", comment=comment)
    services.report_content(world.english, idea, "offensive")
    assert count(Report) == 3
    assert count(Report, Report.comment_id == comment.id) == 1


@pytest.mark.parametrize(
    ("reason", "note", "message", "field"),
    [
        ("", "", "Please choose a reason.", "reason"),
        ("bored", "", "Please choose a reason.", "reason"),
        ("other", "x" * 1001, "Please use at most %(max)d characters.", "note"),
        ("other", "a\u200bb", "Please remove invisible control characters from this text.", "note"),
    ],
)
def test_invalid_reports_are_refused(world, reason, note, message, field):
    idea = make_idea(world.challenge, world.author)
    refused(
        lambda: services.report_content(world.other, idea, reason, note),
        message,
        field=field,
        max=1000,
    )
    assert count(Report) == 0


def test_a_comment_of_another_idea_cannot_be_reported_here(world):
    idea = make_idea(world.challenge, world.author)
    elsewhere = make_comment(make_idea(world.challenge, world.other), world.author)
    with pytest.raises(UserError) as caught:
        services.report_content(world.other, idea, "offensive", comment=elsewhere)
    assert caught.value.status == 404
    assert count(Report) == 0


def test_hidden_content_is_not_reported_again(world):
    idea = make_idea(world.challenge, world.author)
    comment = make_comment(idea, world.other, status="hidden", moderation_reason="offensive")
    for target in ({"comment": comment}, {}):
        if not target:
            idea.status = "hidden"
            db.session.commit()
        refused(
            lambda target=target: services.report_content(
                world.english, idea, "offensive", **target
            ),
            "Only published ideas and comments can be reported.",
            status=409,
        )
    assert count(Report) == 0
