"""Hostile input on the idea pages.

Each refusal is a clear 4xx with the message in the user's language (German unless the
user chose English), and nothing is stored or changed: rows are counted and ideas read
again from the database. Markup in text is kept as text and always shown escaped.
"""

import re
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask_babel import force_locale
from idea_support import (
    HTML_PAGE,
    SVG,
    bomb_png,
    build_world,
    count,
    counts,
    field_error,
    fresh,
    html,
    idea_form,
    make_comment,
    make_idea,
    photo_bytes,
    says,
    upload,
)

from consult import clock
from consult.extensions import db
from consult.i18n import format_local, gettext
from consult.ideas.models import Comment, Idea, Report
from consult.media.models import Image

XSS_SCRIPT = "<script>alert(document.cookie)</script>"
XSS_SVG = '"><svg onload=alert(1)>'
XSS_QUOTES = "' onfocus='alert(1)' autofocus x='"
HOSTILE = [XSS_SCRIPT, XSS_SVG, XSS_QUOTES]
NOT_AN_IMAGE = "This file is not an image we can read. Please upload a JPEG, PNG or WebP photo."
INVISIBLE = "Please remove invisible control characters from this text."
CONFIRM_FIRST = (
    "Please confirm your e-mail address first: open the link we sent you. "
    "You can request a new link on your profile page."
)


@pytest.fixture
def world(app, make_user):
    return build_world(make_user)


def new_url(challenge) -> str:
    return f"/challenges/{challenge.id}/ideas/new"


def post_idea(client, world, challenge=None, **fields):
    return client.post_form(
        new_url(challenge or world.challenge),
        idea_form(world, **fields),
        content_type="multipart/form-data",
    )


def closed_says(challenge, locale: str = "de") -> str:
    from markupsafe import escape

    with force_locale(locale):
        return str(
            escape(
                gettext(
                    "The submission phase of this challenge ended on %(date)s. "
                    "Ideas can no longer be written, changed or withdrawn.",
                    date=format_local(challenge.submission_closes_at),
                )
            )
        )


def snapshot(idea):
    idea = fresh(idea)
    return (idea.title, idea.body, idea.body_html, idea.status, idea.author_id,
            idea.category_id, idea.image_id, idea.image_alt, idea.vote_count,
            idea.updated_at, idea.withdrawn_at)  # fmt: skip


class _Elements(HTMLParser):
    """Every element and attribute as a browser's parser sees the page."""

    def __init__(self):
        super().__init__()
        self.tags, self.attributes = [], []

    def handle_starttag(self, tag, attrs):
        # The app's own script file of the idea forms (similar ideas) is no hostile markup.
        if (
            tag == "script"
            and re.fullmatch(
                r"/static/js/similar\.js\?v=[0-9a-f]{12}", dict(attrs).get("src") or ""
            )
            and attrs[1:] == [("defer", None)]
        ):
            return
        self.tags.append(tag)
        self.attributes += [name for name, _value in attrs]


def assert_escaped(page: str) -> None:
    """No hostile markup survives as markup: no script or svg element, no event handler."""
    parsed = _Elements()
    parsed.feed(page)
    assert "script" not in parsed.tags and "svg" not in parsed.tags
    bad = [a for a in parsed.attributes if a.startswith("on") or a in ("autofocus", "x")]
    assert bad == []


# --- text fields --------------------------------------------------------------------------


@pytest.mark.parametrize("payload", HOSTILE)
@pytest.mark.parametrize("name", ["title", "body", "image_alt"])
def test_markup_in_a_refused_form_is_shown_escaped_and_nothing_is_stored(
    client, world, login, name, payload
):
    login(world.author)
    before = counts()
    # The form fails on the category, so the hostile value comes back in the form.
    response = post_idea(client, world, category_id="abc", **{name: f"Idee {payload}"})
    assert response.status_code == 400
    page = html(response)
    assert says("Please choose one of this challenge's categories.") in field_error(
        page, "category_id"
    )
    assert_escaped(page)
    assert counts() == before


@pytest.mark.parametrize("payload", HOSTILE)
def test_markup_in_a_stored_idea_is_shown_as_text(client, world, login, payload):
    login(world.author)
    response = post_idea(
        client,
        world,
        title=f"Titel {payload}",
        body=f"Text {payload}",
        image_alt=f"Bild {payload}",
        image=upload(photo_bytes()),
    )
    assert response.status_code == 302
    idea = db.session.scalar(db.select(Idea))
    assert idea.title == f"Titel {payload}"  # stored as written: it is text, not markup
    for path in (f"/ideas/{idea.id}", f"/ideas/{idea.id}/edit", "/my/ideas"):
        page = html(client.get(path))
        assert_escaped(page)
    page = html(client.get(f"/ideas/{idea.id}"))
    assert "Titel" in page and ("&lt;" in page or "&#39;" in page or "&#34;" in page)


@pytest.mark.parametrize("payload", HOSTILE)
def test_markup_in_comments_and_report_notes_is_shown_as_text(
    client, world, login, mailbox, payload
):
    idea = make_idea(world.challenge, world.author, title=f"Titel {payload}")
    login(world.other)
    response = client.post_form(
        f"/ideas/{idea.id}/comments", {"body": f"Kommentar {payload}", "language": "de"}
    )
    assert response.status_code == 302
    assert_escaped(html(client.get(f"/ideas/{idea.id}")))
    # The mail to the author: the HTML part escapes the title as well.
    message = mailbox.last_to("anna@example.org")
    assert_escaped(mailbox.html(message))
    assert f"Titel {payload}" in mailbox.text(message)  # plain text shows it as written
    # A refused report shows the note again, escaped.
    prefix = "report-idea-"
    response = client.post_form(
        f"/ideas/{idea.id}/report",
        {prefix + "csrf_token": client.csrf_token(), prefix + "reason": "",
         prefix + "note": f"Notiz {payload}"},
    )  # fmt: skip
    assert response.status_code == 400
    assert_escaped(html(response))
    assert count(Report) == 0


@pytest.mark.parametrize(
    "link",
    [
        "javascript:alert(document.cookie)",
        "JAVASCRIPT:alert(1)",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "data:image/svg+xml,<svg onload=alert(1)>",
    ],
)
def test_script_and_data_links_in_markdown_are_not_links(client, world, login, link):
    login(world.author)
    response = post_idea(client, world, body=f"[Klick mich]({link}) und <{link}>")
    assert response.status_code == 302
    idea = db.session.scalar(db.select(Idea))
    page = html(client.get(f"/ideas/{idea.id}"))
    body = re.search(r'<div class="idea-body"[^>]*>(.*?)</div>', page, re.S).group(1)
    assert "<a" not in body and "href" not in body
    assert "Klick mich" in body
    assert_escaped(page)


@pytest.mark.parametrize(
    "title",
    [
        "Neue Bänke \u202eknab\u202c",  # right-to-left override
        "Neue\u200bBänke",  # zero-width space
        "Neue\u200dBänke",  # zero-width joiner
        "\ufeffNeue Bänke",  # byte order mark
        "Neue \u2067Bänke\u2069",  # right-to-left isolate
    ],
)
def test_invisible_characters_in_titles_are_refused(client, world, login, title):
    login(world.author)
    before = counts()
    response = post_idea(client, world, title=title)
    assert response.status_code == 400
    assert says(INVISIBLE) in field_error(html(response), "title")
    assert counts() == before


def test_invisible_characters_are_refused_in_english_for_english_users(client, world, login):
    login(world.english)
    response = post_idea(client, world, title="Idea\u202e")
    assert response.status_code == 400
    assert says(INVISIBLE, "en") in field_error(html(response), "title")
    assert count(Idea) == 0


def test_nul_and_invalid_utf8_are_refused_before_anything_runs(client, world, login):
    login(world.author)
    before = counts()
    response = post_idea(client, world, title="Idee\x00")
    assert response.status_code == 400
    assert says("The form contained characters that are not allowed.") in html(response)
    assert counts() == before


# --- uploads ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        pytest.param(SVG, "bild.svg", NOT_AN_IMAGE, id="svg"),
        pytest.param(SVG, "bild.jpg", NOT_AN_IMAGE, id="svg-named-jpg"),
        pytest.param(HTML_PAGE, "foto.jpg", NOT_AN_IMAGE, id="html-named-jpg"),
        pytest.param(b"", "leer.jpg", "The file is empty.", id="zero-bytes"),
        pytest.param(b"MZ\x90\x00" + b"\x00" * 60, "../../etc/passwd", NOT_AN_IMAGE, id="dotdot"),
        pytest.param(None, "riesig.png", "The image may have at most 40 megapixels.", id="bomb"),
        pytest.param(
            b"\xff\xd8\xff" + b"\x00" * (8 * 1024 * 1024), "gross.jpg",
            "The image may be at most 8 MB.", id="over-8-mb",
        ),
    ],
)  # fmt: skip
def test_hostile_uploads_are_refused_and_nothing_is_stored(
    client, world, login, data, name, message
):
    login(world.author)
    before = counts()
    data = bomb_png() if data is None else data
    response = post_idea(client, world, image_alt="Foto", image=upload(data, name))
    assert response.status_code == 400
    page = html(response)
    assert says(message) in field_error(page, "image")
    assert 'aria-invalid="true"' in page
    assert counts() == before


def test_an_upload_larger_than_any_request_we_accept_is_413(client, world, login):
    login(world.author)
    big = b"\xff\xd8\xff" + b"\x00" * (11 * 1024 * 1024)
    response = post_idea(client, world, image_alt="Foto", image=upload(big, "x.jpg"))
    assert response.status_code == 413
    assert says("The data you sent is larger than we accept. Please send a smaller file.") in html(
        response
    )
    assert count(Idea) == 0 and count(Image) == 0


def test_a_file_name_is_never_used(client, world, login, app):
    login(world.author)
    instance = Path(app.instance_path)
    files_before = sorted(p for p in instance.rglob("*") if "mail" not in p.parts)
    response = post_idea(
        client, world, image_alt="Foto", image=upload(photo_bytes(), "../../../tmp/evil.php")
    )
    assert response.status_code == 302
    image = db.session.scalar(db.select(Image))
    assert image is not None
    assert sorted(p for p in instance.rglob("*") if "mail" not in p.parts) == files_before
    page = html(client.get(f"/ideas/{db.session.scalar(db.select(Idea.id))}"))
    assert "evil.php" not in page and "../" not in page


def test_a_nul_in_the_file_name_is_refused(client, world, login):
    login(world.author)
    before = counts()
    response = post_idea(
        client, world, image_alt="Foto", image=upload(photo_bytes(), "foto\x00.jpg")
    )
    assert response.status_code == 400
    assert says("The form contained characters that are not allowed.") in html(response)
    assert counts() == before


# --- other people's ideas -----------------------------------------------------------------


@pytest.mark.parametrize("status", ["draft", "submitted", "published"])
def test_other_peoples_ideas_and_drafts_are_not_found_for_every_action(
    client, world, login, status
):
    idea = make_idea(world.challenge, world.author, status=status)
    before = snapshot(idea)
    login(world.other)
    assert client.get(f"/ideas/{idea.id}/edit").status_code == 404
    edit = client.post_form(
        f"/ideas/{idea.id}/edit",
        idea_form(world, title="Gekapert"),
        content_type="multipart/form-data",
    )
    assert edit.status_code == 404
    for action in ("submit", "withdraw", "delete"):
        response = client.post_form(f"/ideas/{idea.id}/{action}")
        assert response.status_code == 404, action
        assert says(
            "The page you are looking for does not exist or is no longer available."
        ) in html(response)
    assert snapshot(idea) == before
    assert count(Idea) == 1


def test_a_moderator_cannot_edit_someone_elses_idea_either(client, world, login):
    idea = make_idea(world.challenge, world.author, status="submitted")
    before = snapshot(idea)
    login(world.moderator)
    assert client.get(f"/ideas/{idea.id}/edit").status_code == 404
    assert client.post_form(f"/ideas/{idea.id}/delete").status_code == 404
    assert snapshot(idea) == before


def test_actions_without_a_csrf_token_are_refused(client, world, login):
    idea = make_idea(world.challenge, world.author, status="draft")
    login(world.author)
    before = snapshot(idea)
    for action in ("submit", "withdraw", "delete"):
        response = client.http.post(f"/ideas/{idea.id}/{action}")
        assert response.status_code == 400
        assert says(
            "Your form has expired or was not sent from our site. Please try again."
        ) in html(response)
    response = client.http.post(new_url(world.challenge), data=idea_form(world))
    assert response.status_code == 400
    assert snapshot(idea) == before and count(Idea) == 1


def test_actions_are_post_only(client, world, login):
    idea = make_idea(world.challenge, world.author, status="draft")
    login(world.author)
    for action in ("submit", "withdraw", "delete", "report", "comments"):
        assert client.get(f"/ideas/{idea.id}/{action}").status_code == 405
    assert fresh(idea).status == "draft"


# --- phases -------------------------------------------------------------------------------


def test_editing_after_submission_closed_is_409(client, world, login):
    idea = make_idea(world.challenge, world.author, status="submitted")
    before = snapshot(idea)
    login(world.author)
    with clock.travel(timedelta(days=8)):
        for response in (
            client.get(f"/ideas/{idea.id}/edit"),
            client.post_form(
                f"/ideas/{idea.id}/edit",
                idea_form(world, title="Zu spät"),
                content_type="multipart/form-data",
            ),
            client.post_form(f"/ideas/{idea.id}/withdraw"),
        ):
            assert response.status_code == 409
            assert closed_says(world.challenge) in html(response)
    assert snapshot(idea) == before


def test_submitting_a_draft_after_the_close_is_409_in_english(client, world, login):
    idea = make_idea(world.challenge, world.english, status="draft")
    login(world.english)
    with clock.travel(timedelta(days=8)):
        response = client.post_form(f"/ideas/{idea.id}/submit")
    assert response.status_code == 409
    assert closed_says(world.challenge, "en") in html(response)
    assert fresh(idea).status == "draft"


@pytest.mark.parametrize("which", ["closed", "archived"])
def test_writing_for_a_closed_or_archived_challenge_is_409(client, world, login, which):
    challenge = getattr(world, which)
    login(world.author)
    for response in (
        client.get(new_url(challenge)),
        post_idea(client, world, challenge=challenge, category_id=""),
    ):
        assert response.status_code == 409
        assert closed_says(challenge) in html(response)
    assert count(Idea) == 0


def test_a_challenge_that_is_still_a_draft_does_not_exist_for_citizens(client, world, login):
    login(world.author)
    assert client.get(new_url(world.draft)).status_code == 404
    assert post_idea(client, world, challenge=world.draft, category_id="").status_code == 404
    assert client.get("/challenges/99999999999999999999/ideas/new").status_code == 404
    assert count(Idea) == 0


# --- choices and fields a form must not set -----------------------------------------------


def test_a_category_of_another_challenge_is_refused(client, world, login):
    login(world.author)
    response = post_idea(client, world, category_id=str(world.other_category.id))
    assert response.status_code == 400
    assert says("Please choose one of this challenge's categories.") in field_error(
        html(response), "category_id"
    )
    assert count(Idea) == 0


def test_posted_status_author_and_vote_count_are_ignored(client, world, login):
    login(world.author)
    response = post_idea(client, world, status="published", author_id=str(world.other.id),
                         vote_count="999", comment_count="7", origin="workshop",
                         published_at="2020-01-01")  # fmt: skip
    assert response.status_code == 302
    idea = db.session.scalar(db.select(Idea))
    assert (idea.status, idea.author_id, idea.vote_count, idea.comment_count, idea.origin) == (
        "draft", world.author.id, 0, 0, "online",
    )  # fmt: skip
    assert idea.published_at is None
    response = client.post_form(
        f"/ideas/{idea.id}/edit",
        idea_form(world, status="published", author_id=str(world.other.id), vote_count="999"),
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    idea = fresh(idea)
    assert (idea.status, idea.author_id, idea.vote_count) == ("draft", world.author.id, 0)


# --- who may write ------------------------------------------------------------------------


def test_an_unverified_account_is_told_to_confirm_its_address(client, world, login):
    login(world.unverified)
    for response in (client.get(new_url(world.challenge)), post_idea(client, world)):
        assert response.status_code == 403
        assert says(CONFIRM_FIRST) in html(response)
    idea = make_idea(world.challenge, world.author)
    response = client.post_form(f"/ideas/{idea.id}/comments", {"body": "Hallo", "language": "de"})
    assert response.status_code == 403 and says(CONFIRM_FIRST) in html(response)
    assert count(Idea) == 1 and count(Comment) == 0


def test_visitors_cannot_post_anything(client, world):
    idea = make_idea(world.challenge, world.author)
    for path in (new_url(world.challenge), f"/ideas/{idea.id}/comments",
                 f"/ideas/{idea.id}/report", f"/ideas/{idea.id}/submit"):  # fmt: skip
        response = client.post_form(path, {"body": "x", "report-idea-reason": "other"})
        assert response.status_code == 302 and "/account/login" in response.headers["Location"]
    assert counts()["Comment"] == 0 and count(Report) == 0 and count(Idea) == 1


# --- comments and reports -----------------------------------------------------------------


def test_a_10000_character_comment_is_refused(client, world, login, mailbox):
    idea = make_idea(world.challenge, world.author)
    login(world.other)
    before = counts()
    response = client.post_form(
        f"/ideas/{idea.id}/comments", {"body": "x" * 10_000, "language": "de"}
    )
    assert response.status_code == 400
    assert says("Please use at most %(max)d characters.", max=2000) in field_error(
        html(response), "body"
    )
    assert counts() == before and fresh(idea).comment_count == 0
    assert mailbox.messages() == []


def test_comments_on_unpublished_ideas_are_refused(client, world, login):
    hidden = make_idea(world.challenge, world.author, status="hidden", moderation_reason="other")
    draft = make_idea(world.challenge, world.author, status="draft")
    login(world.other)
    response = client.post_form(f"/ideas/{hidden.id}/comments", {"body": "Hallo", "language": "de"})
    assert response.status_code == 409
    assert says("Comments are closed for this idea.") in html(response)
    response = client.post_form(f"/ideas/{draft.id}/comments", {"body": "Hallo", "language": "de"})
    assert response.status_code == 404
    assert count(Comment) == 0


def test_reporting_a_comment_through_another_idea_is_not_found(client, world, login):
    idea = make_idea(world.challenge, world.author)
    elsewhere = make_idea(world.challenge, world.other)
    comment = make_comment(elsewhere, world.author)
    login(world.english)
    prefix = f"report-{comment.id}-"
    response = client.post_form(
        f"/ideas/{idea.id}/comments/{comment.id}/report",
        {prefix + "csrf_token": client.csrf_token(), prefix + "reason": "offensive"},
    )
    assert response.status_code == 404
    assert count(Report) == 0


def test_an_unknown_report_reason_is_refused(client, world, login):
    idea = make_idea(world.challenge, world.author)
    login(world.other)
    prefix = "report-idea-"
    response = client.post_form(
        f"/ideas/{idea.id}/report",
        {prefix + "csrf_token": client.csrf_token(), prefix + "reason": "delete_everything"},
    )
    assert response.status_code == 400
    assert says("Please choose a reason.") in field_error(html(response), "report-idea-reason")
    assert count(Report) == 0


def test_report_body_without_the_form_prefix_is_refused(client, world, login):
    idea = make_idea(world.challenge, world.author)
    login(world.other)
    response = client.post_form(f"/ideas/{idea.id}/report", {"reason": "offensive"})
    assert response.status_code == 400
    assert count(Report) == 0


def test_a_hostile_upload_in_an_edit_changes_nothing(client, world, login):
    login(world.author)
    post_idea(client, world, image_alt="Foto", image=upload(photo_bytes()))
    idea = db.session.scalar(db.select(Idea))
    before, rows = snapshot(idea), counts()
    response = client.post_form(
        f"/ideas/{idea.id}/edit",
        idea_form(world, title="Neu", image_alt="Foto", image=upload(SVG, "x.jpg")),
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert says(NOT_AN_IMAGE) in field_error(html(response), "image")
    assert snapshot(idea) == before and counts() == rows


def test_uploads_cannot_be_smuggled_in_a_text_field(client, world, login):
    login(world.author)
    response = client.post_form(
        new_url(world.challenge),
        {**idea_form(world), "image": "data:image/png;base64,iVBORw0KGgo="},
    )
    assert response.status_code == 302
    assert db.session.scalar(db.select(Idea)).image_id is None
    assert count(Image) == 0
