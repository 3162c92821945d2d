"""The idea pages through the test client, as a browser without JavaScript uses them."""

import re
from datetime import timedelta

import pytest
from idea_support import (
    build_world,
    count,
    fresh,
    html,
    idea_form,
    make_comment,
    make_idea,
    photo_bytes,
    plain,
    says,
    upload,
)

from consult import clock
from consult.clock import now
from consult.extensions import db
from consult.ideas.models import Comment, Idea, Report
from consult.media.models import Image


@pytest.fixture
def world(app, make_user):
    return build_world(make_user)


def new_url(challenge) -> str:
    return f"/challenges/{challenge.id}/ideas/new"


def post_idea(client, world, challenge=None, files=None, **fields):
    data = idea_form(world, **fields)
    data.update(files or {})
    return client.post_form(
        new_url(challenge or world.challenge), data, content_type="multipart/form-data"
    )


def report_data(client, key, reason="offensive", note=""):
    prefix = f"report-{key}-"
    return {
        prefix + "csrf_token": client.csrf_token(),
        prefix + "reason": reason,
        prefix + "note": note,
    }


def log_out(client):
    client.post_form("/account/logout")
    client.forget_csrf()


# --- writing ------------------------------------------------------------------------------


def test_the_form_has_every_field_labelled_and_explains_the_formatting(client, world, login):
    login(world.author)
    response = client.get(new_url(world.challenge))
    assert response.status_code == 200
    page = html(response)
    assert 'enctype="multipart/form-data"' in page
    for name in ("title", "body", "category_id", "district_id", "language", "image", "image_alt"):
        assert f'name="{name}"' in page, name
        assert f'<label for="{name}"' in page, name
    for name in ("title", "body", "district_id", "language", "image", "image_alt"):
        assert f'aria-describedby="{name}-hint"' in page, name
    assert 'type="file"' in page and 'accept="image/jpeg,image/png,image/webp"' in page
    assert "](https://example.org)" in page  # the formatting help
    assert "Grün" in page and "Spiel" not in page  # only this challenge's categories
    assert "Hörde" in page
    assert re.search(r'<select[^>]*name="category_id"[^>]*required', page)
    assert re.search(
        r'<option[^>]*selected[^>]*value="de"|<option[^>]*value="de"[^>]*selected', page
    )
    # No inline script or style (strict CSP); script files only (static/js/similar.js).
    assert not re.search(r"<script(?![^>]*\bsrc=)", page) and "style=" not in page
    assert 'name="remove_image"' not in page  # nothing to remove yet


def test_visitors_are_asked_to_log_in_first(client, world):
    response = client.get(new_url(world.challenge))
    assert response.status_code == 302
    assert "/account/login" in response.headers["Location"]


def test_writing_a_draft_with_a_photo(client, world, login):
    login(world.author)
    response = post_idea(
        client,
        world,
        image_alt="Eine Bank im Park",
        files={"image": upload(photo_bytes(), "IMG_0001.JPG")},
    )
    assert response.status_code == 302, html(response)
    idea = db.session.scalar(db.select(Idea))
    assert response.headers["Location"].endswith(f"/ideas/{idea.id}")
    assert idea.status == "draft" and idea.author_id == world.author.id
    image = db.session.get(Image, idea.image_id)
    assert image is not None and b"PhoneMaker" not in image.data
    page = html(client.get(f"/ideas/{idea.id}"))
    assert says("Your draft has been saved. Only you can see it until you submit it.") in page
    assert says("Draft: only you can see it") in page
    assert f'src="/media/{image.id}/{image.digest}.webp"' in page
    assert f"/media/{image.id}/{image.digest}-thumb.webp 64w" in page
    assert 'alt="Eine Bank im Park" lang="de"' in page


def test_the_author_sees_the_buttons_and_nobody_else_sees_a_draft(client, world, login):
    idea = make_idea(world.challenge, world.author, status="draft")
    assert client.get(f"/ideas/{idea.id}").status_code == 404
    login(world.other)
    assert client.get(f"/ideas/{idea.id}").status_code == 404
    log_out(client)
    login(world.author)
    page = html(client.get(f"/ideas/{idea.id}"))
    assert f'href="/ideas/{idea.id}/edit"' in page
    for action in ("submit", "delete"):
        form = re.search(
            rf'<form method="post" action="/ideas/{idea.id}/{action}"[^>]*>(.*?)</form>', page, re.S
        )
        assert form and 'name="csrf_token"' in form.group(1), action
    assert f'action="/ideas/{idea.id}/withdraw"' not in page


def test_submitting_withdrawing_and_my_ideas(client, world, login):
    idea = make_idea(world.challenge, world.author, status="draft")
    login(world.author)
    response = client.post_form(f"/ideas/{idea.id}/submit")
    assert response.status_code == 302
    assert fresh(idea).status == "submitted"
    page = html(client.get(f"/ideas/{idea.id}"))
    assert says("Submitted, awaiting moderation") in page
    assert (
        says("Thank you! Your idea has been submitted. We will let you know once it is published.")
        in page
    )
    assert f'action="/ideas/{idea.id}/withdraw"' in page
    response = client.post_form(f"/ideas/{idea.id}/withdraw")
    assert response.status_code == 302
    assert fresh(idea).status == "withdrawn"
    page = html(client.get("/my/ideas"))
    assert says("Withdrawn") in page and "Bäume für den Marktplatz" in page


def test_submitting_in_post_moderation_publishes_for_everyone(client, world, login):
    idea = make_idea(world.open_post, world.author, status="draft", district_id=world.district.id)
    login(world.author)
    client.post_form(f"/ideas/{idea.id}/submit")
    log_out(client)
    page = html(client.get(f"/ideas/{idea.id}"))
    assert '<h1 lang="de" dir="auto">Bäume für den Marktplatz</h1>' in page
    assert '<div class="idea-body" lang="de" dir="auto"><p>Mehr <strong>Bäume</strong>' in page
    assert "Anna" in page and "Spiel" in page and "Hörde" in page
    assert "anna@example.org" not in page


def test_editing_an_idea(client, world, login):
    idea = make_idea(world.challenge, world.author, status="draft", language="en")
    login(world.author)
    page = html(client.get(f"/ideas/{idea.id}/edit"))
    assert 'value="Bäume für den Marktplatz"' in page
    assert re.search(
        r'<option[^>]*selected[^>]*value="en"|<option[^>]*value="en"[^>]*selected', page
    )
    response = client.post_form(
        f"/ideas/{idea.id}/edit",
        idea_form(world, title="Noch mehr Bäume"),
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert fresh(idea).title == "Noch mehr Bäume"
    assert fresh(idea).language == "de"


def test_editing_a_published_idea_says_it_goes_back_to_moderation(client, world, login):
    idea = make_idea(world.challenge, world.author)
    login(world.author)
    client.post_form(
        f"/ideas/{idea.id}/edit", idea_form(world, title="Neu"), content_type="multipart/form-data"
    )
    assert fresh(idea).status == "submitted"
    page = html(client.get(f"/ideas/{idea.id}"))
    assert (
        says(
            "Your changes have been saved. The moderators will check them before the idea is shown again."
        )
        in page
    )


def test_replacing_and_removing_the_photo(client, world, login):
    login(world.author)
    post_idea(client, world, image_alt="Alt", files={"image": upload(photo_bytes())})
    idea = db.session.scalar(db.select(Idea))
    first = idea.image_id
    page = html(client.get(f"/ideas/{idea.id}/edit"))
    assert 'name="remove_image"' in page and f"/media/{first}/" in page
    client.post_form(
        f"/ideas/{idea.id}/edit",
        idea_form(world, image_alt="Neu", image=upload(photo_bytes("PNG"), "neu.png")),
        content_type="multipart/form-data",
    )
    second = fresh(idea).image_id
    assert second not in (None, first) and count(Image) == 1
    client.post_form(
        f"/ideas/{idea.id}/edit",
        idea_form(world, image_alt="Neu", remove_image="y"),
        content_type="multipart/form-data",
    )
    assert fresh(idea).image_id is None and count(Image) == 0


def test_deleting_a_draft(client, world, login):
    idea = make_idea(world.challenge, world.author, status="draft")
    login(world.author)
    response = client.post_form(f"/ideas/{idea.id}/delete")
    assert response.status_code == 302 and response.headers["Location"].endswith("/my/ideas")
    assert count(Idea) == 0
    assert says("Your draft has been deleted.") in html(client.get("/my/ideas"))


def test_my_ideas_shows_every_state_with_the_reason_for_hiding(client, world, login):
    for status in ("draft", "submitted", "published", "withdrawn"):
        make_idea(world.challenge, world.author, status=status, title=f"Idee {status}")
    make_idea(world.challenge, world.author, status="hidden", title="Versteckt",
              moderation_reason="advertising")  # fmt: skip
    make_idea(world.challenge, world.other, title="Nicht meine")
    login(world.author)
    page = html(client.get("/my/ideas"))
    for label in ("Draft: only you can see it", "Submitted, awaiting moderation", "Published",
                  "Withdrawn", "Hidden by moderation", "It is advertising or spam."):  # fmt: skip
        assert says(label) in page, label
    assert "Nicht meine" not in page


def test_my_ideas_needs_a_login(client):
    assert client.get("/my/ideas").status_code == 302


# --- reading ------------------------------------------------------------------------------


def test_a_hidden_idea_shows_others_only_the_reason(client, world, login):
    idea = make_idea(world.challenge, world.author, status="hidden", title="Geheimer Titel",
                     body="Geheimer Text", moderation_reason="personal_data",
                     moderation_note="Bitte ohne Namen.")  # fmt: skip
    for viewer in (None, world.other):
        if viewer:
            login(viewer)
        response = client.get(f"/ideas/{idea.id}")
        assert response.status_code == 200
        page = html(response)
        assert says("This idea has been hidden by the moderators.") in page
        assert says("It reveals personal data of other people.") in page
        assert "Geheim" not in page and "Bitte ohne Namen" not in page
        assert 'action="/ideas/' not in page  # nothing to report or comment
    log_out(client)
    login(world.author)
    page = html(client.get(f"/ideas/{idea.id}"))
    assert "Geheimer Titel" in page and "Geheimer Text" in page
    assert says("It reveals personal data of other people.") in page
    assert "Bitte ohne Namen." in page
    assert f'href="/ideas/{idea.id}/edit"' not in page


def test_authors_are_shown_by_pseudonym_deleted_account_or_workshop(client, world):
    by_anna = make_idea(world.challenge, world.author)
    workshop = make_idea(world.challenge, None, origin="workshop",
                         workshop_name="Zukunftswerkstatt Hörde")  # fmt: skip
    gone = make_idea(world.challenge, world.other)
    world.other.deleted_at, world.other.pseudonym, world.other.email = now(), None, None
    db.session.commit()
    assert "Anna" in html(client.get(f"/ideas/{by_anna.id}"))
    assert says("Workshop: %(name)s", name="Zukunftswerkstatt Hörde") in html(
        client.get(f"/ideas/{workshop.id}")
    )
    assert says("deleted account") in html(client.get(f"/ideas/{gone.id}"))


def test_unknown_and_impossible_ideas_are_not_found(client, world):
    for path in ("/ideas/4711", "/ideas/99999999999999999999", "/ideas/abc"):
        assert client.get(path).status_code == 404
    idea = make_idea(world.draft, world.author, category_id=None)  # challenge not public yet
    assert client.get(f"/ideas/{idea.id}").status_code == 404


def test_the_idea_page_is_cacheable_for_visitors(client, world):
    idea = make_idea(world.challenge, world.author)
    response = client.get(f"/ideas/{idea.id}")
    assert "public" in response.headers["Cache-Control"]


# --- comments -----------------------------------------------------------------------------


def test_commenting_and_the_mail_to_the_author(client, world, login, mailbox):
    idea = make_idea(world.challenge, world.author)
    login(world.english)
    page = html(client.get(f"/ideas/{idea.id}"))
    assert '<label for="body"' in page and 'name="language"' in page
    response = client.post_form(
        f"/ideas/{idea.id}/comments", {"body": "Great idea!\nReally.", "language": "en"}
    )
    assert response.status_code == 302
    comment = db.session.scalar(db.select(Comment))
    assert response.headers["Location"].endswith(f"/ideas/{idea.id}#comment-{comment.id}")
    page = html(client.get(f"/ideas/{idea.id}"))
    assert says("Your comment has been published.", "en") in page
    assert f'id="comment-{comment.id}"' in page
    assert '<div class="comment-body" lang="en" dir="auto">Great idea!\nReally.</div>' in page
    message = mailbox.last_to("anna@example.org")
    assert message["Subject"] == plain("New comment on your idea", "de")
    assert message["Content-Language"] == "de"
    assert "Emma" in mailbox.text(message)
    assert f"http://localhost/ideas/{idea.id}" in mailbox.html(message)


def test_hidden_comments_show_as_hidden(client, world):
    idea = make_idea(world.challenge, world.author)
    make_comment(idea, world.other, body="Unflätiges Zeug", status="hidden",
                 moderation_reason="offensive")  # fmt: skip
    make_comment(idea, world.other, body="Freundlich")
    page = html(client.get(f"/ideas/{idea.id}"))
    assert "Unflätiges Zeug" not in page and "Freundlich" in page
    assert says("This comment has been hidden by the moderators.") in page
    assert says("It contains insults or discrimination.") in page


def test_who_may_comment_is_told_how(client, world, login):
    idea = make_idea(world.challenge, world.author)
    assert says("Log in to comment") in html(client.get(f"/ideas/{idea.id}"))
    login(world.unverified)
    page = html(client.get(f"/ideas/{idea.id}"))
    assert (
        says(
            "Please confirm your e-mail address first: open the link we sent you. "
            "You can request a new link on your profile page."
        )
        in page
    )
    assert 'action="/ideas/' not in page
    response = client.post_form(f"/ideas/{idea.id}/comments", {"body": "Hallo", "language": "de"})
    assert response.status_code == 403
    assert count(Comment) == 0


# --- reports ------------------------------------------------------------------------------


def test_reporting_an_idea_and_a_comment(client, world, login):
    idea = make_idea(world.challenge, world.author)
    comment = make_comment(idea, world.author)
    login(world.other)
    page = html(client.get(f"/ideas/{idea.id}"))
    assert f'action="/ideas/{idea.id}/report"' in page
    assert f'action="/ideas/{idea.id}/comments/{comment.id}/report"' in page
    assert '<label for="report-idea-reason"' in page
    assert f'<label for="report-{comment.id}-reason"' in page
    assert says("Reveals personal data") in page
    response = client.post_form(
        f"/ideas/{idea.id}/report", report_data(client, "idea", "advertising", "Werbung")
    )
    assert response.status_code == 302
    assert says("Thank you for your report. The moderators will look at it.") in html(
        client.get(f"/ideas/{idea.id}")
    )
    response = client.post_form(
        f"/ideas/{idea.id}/comments/{comment.id}/report",
        report_data(client, comment.id, "personal_data"),
    )
    assert response.status_code == 302
    reports = db.session.scalars(db.select(Report).order_by(Report.id)).all()
    assert [(r.reason, r.comment_id, r.note) for r in reports] == [
        ("advertising", None, "Werbung"),
        ("personal_data", comment.id, ""),
    ]


def test_nobody_is_offered_to_report_their_own_words(client, world, login):
    idea = make_idea(world.challenge, world.author)
    own = make_comment(idea, world.author)
    theirs = make_comment(idea, world.other)
    login(world.author)
    page = html(client.get(f"/ideas/{idea.id}"))
    assert f'action="/ideas/{idea.id}/report"' not in page
    assert f"/comments/{own.id}/report" not in page
    assert f"/comments/{theirs.id}/report" in page


def test_a_report_without_reason_shows_the_form_again_opened(client, world, login):
    idea = make_idea(world.challenge, world.author)
    login(world.other)
    response = client.post_form(f"/ideas/{idea.id}/report", report_data(client, "idea", ""))
    assert response.status_code == 400
    page = html(response)
    assert '<details class="report" open>' in page
    assert 'aria-invalid="true"' in page and says("Please choose a reason.") in page
    assert count(Report) == 0


# --- phases -------------------------------------------------------------------------------


def test_after_the_close_the_author_sees_why_nothing_can_change(client, world, login):
    idea = make_idea(world.challenge, world.author, status="submitted")
    login(world.author)
    with clock.travel(timedelta(days=8)):
        page = html(client.get(f"/ideas/{idea.id}"))
        assert (
            says("The submission phase has ended: the idea can no longer be changed or withdrawn.")
            in page
        )
        assert f'href="/ideas/{idea.id}/edit"' not in page
        assert f'action="/ideas/{idea.id}/withdraw"' not in page
