"""The moderation queue and its actions through HTTP: permissions, forms, hostile input."""

import re
from collections import Counter

import pytest
from markupsafe import escape
from moderation_helpers import audit, count, fresh, plain, says, says_n

from consult.ideas.models import Idea, Report
from consult.moderation.services import HIDE_REASONS

QUEUE = "/moderation/"


@pytest.fixture
def as_moderator(moderator, login):
    login(moderator)
    return moderator


def page(response) -> str:
    return response.get_data(as_text=True)


def hide(client, idea, reason="offensive", note=""):
    return client.post_form(f"/moderation/ideas/{idea.id}/hide", {"reason": reason, "note": note})


# --- who may see and act ----------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_the_login(client, challenge, make_idea, author_de):
    response = client.get(QUEUE)
    assert response.status_code == 302 and "/account/login" in response.location
    idea = make_idea(challenge, author_de)
    response = client.post_form(f"/moderation/ideas/{idea.id}/publish")
    assert response.status_code == 302 and "/account/login" in response.location
    assert fresh(idea).status == "submitted"


@pytest.mark.parametrize(
    "roles",
    [("citizen",), ("citizen", "juror"), ("press",), ()],
    ids=["citizen", "juror", "press", "none"],
)
def test_other_roles_are_refused(client, login, make_user, challenge, make_idea, author_de,
                                 make_comment, make_report, reporter, roles):  # fmt: skip
    login(make_user(roles=roles))
    idea = make_idea(challenge, author_de)
    published = make_idea(challenge, author_de, status="published")
    comment = make_comment(published, reporter)
    report = make_report(published, reporter)
    assert client.get(QUEUE).status_code == 403
    assert client.post_form(f"/moderation/ideas/{idea.id}/publish").status_code == 403
    assert hide(client, idea).status_code == 403
    assert client.post_form(f"/moderation/comments/{comment.id}/hide",
                            {"reason": "offensive"}).status_code == 403  # fmt: skip
    assert client.post_form(f"/moderation/reports/{report.id}/resolve",
                            {"outcome": "kept"}).status_code == 403  # fmt: skip
    assert fresh(idea).status == "submitted" and fresh(comment).status == "published"
    assert fresh(report).resolved_at is None and audit() == []


def test_an_unverified_moderator_who_lost_the_role_is_refused(client, login, make_user):
    # Roles are read on every request: a revoked role takes effect at once.
    user = make_user(roles=("citizen", "moderator"))
    login(user)
    assert client.get(QUEUE).status_code == 200
    from consult.accounts.models import RoleGrant
    from consult.extensions import db

    db.session.query(RoleGrant).filter_by(user_id=user.id, role="moderator").delete()
    db.session.commit()
    assert client.get(QUEUE).status_code == 403


@pytest.mark.parametrize("roles", [("moderator",), ("staff",)])
def test_moderators_and_staff_see_the_queue(client, login, make_user, roles):
    login(make_user(roles=roles))
    response = client.get(QUEUE)
    assert response.status_code == 200
    assert says("Nothing is waiting.") in page(response)
    assert says("No open reports.") in page(response)


def test_the_menu_links_to_the_queue_for_moderators_only(client, login, make_user, as_moderator):
    assert 'href="/moderation/"' in page(client.get("/"))


# --- the queue page ---------------------------------------------------------------------


def test_the_queue_shows_pending_ideas_by_challenge_with_text_author_and_count(
    client, as_moderator, make_challenge, make_idea, author_de, author_en
):
    parks = make_challenge(title_de="Mehr Parks", title_en="More parks")
    make_idea(parks, author_de, title="Bänke", body="# Sitzen\n\nMehr *Bänke*.")
    make_idea(parks, author_en, title="Benches", body="More benches.", language="en")
    make_idea(parks, author_de, status="published", title="Schon öffentlich")
    make_idea(parks, author_de, status="draft", title="Nur ein Entwurf")

    html = page(client.get(QUEUE))
    assert '<h3 lang="de">Mehr Parks</h3>' in html
    assert 'lang="de">Bänke</h4>' in html and 'lang="en">Benches</h4>' in html
    assert '<div class="idea-body" lang="de"><h3>Sitzen</h3>\n<p>Mehr <em>Bänke</em>.</p>' in html
    assert '<div class="idea-body" lang="en"><p>More benches.</p>' in html
    assert "Anna Ahorn" in html and "Ben Birch" in html
    assert "Schon öffentlich" not in html and "Nur ein Entwurf" not in html
    waiting = says_n("%(num)d item waiting", "%(num)d items waiting", 2)
    assert f'<h1>{says("Moderation")} <span class="muted">({waiting})</span></h1>' in html
    assert f"<title>{says('Moderation')} ({waiting})" in html


def test_the_queue_speaks_english_to_an_english_moderator(
    client, login, make_user, challenge, make_idea, author_de
):
    login(make_user(roles=("moderator",), locale="en"))
    make_idea(challenge, author_de)
    html = page(client.get(QUEUE))
    assert "1 item waiting" in html and '<h3 lang="en">A greener city</h3>' in html
    assert "Ideas waiting for a decision" in html
    assert str(escape(plain(HIDE_REASONS["personal_data"], "en"))) in html


def test_each_pending_idea_has_publish_and_hide_forms_with_labelled_unique_fields(
    client, as_moderator, challenge, make_idea, make_report, author_de, reporter
):
    first = make_idea(challenge, author_de, title="Eins")
    second = make_idea(challenge, author_de, title="Zwei")
    # Reported while public, then edited by its author: back in pre-moderation, and reported.
    make_report(second, reporter)
    html = page(client.get(QUEUE))
    for idea in (first, second):
        assert f'action="/moderation/ideas/{idea.id}/publish"' in html
        assert f'action="/moderation/ideas/{idea.id}/hide"' in html
        assert f'<label for="idea-{idea.id}-reason">' in html
        assert f'<label for="idea-{idea.id}-note">' in html
        assert f'id="idea-{idea.id}-reason" name="reason"' in html
        assert f'<button type="submit" aria-describedby="idea-{idea.id}-title">' in html
    assert html.count(f'action="/moderation/ideas/{second.id}/hide"') == 1
    assert says("This idea is waiting for a decision above.") in html
    for code in HIDE_REASONS:
        assert f'value="{code}"' in html
    ids = Counter(re.findall(r'\sid="([^"]+)"', html))
    assert [i for i, n in ids.items() if n > 1] == []


def test_the_queue_has_no_inline_script_or_style(client, as_moderator, challenge, make_idea,
                                                 author_de, make_report, reporter):  # fmt: skip
    idea = make_idea(challenge, author_de, status="published")
    make_report(idea, reporter)
    make_idea(challenge, author_de)
    html = page(client.get(QUEUE))
    assert "<script" not in html and "style=" not in html and " on" + "click" not in html


def test_reported_content_shows_with_reason_note_and_actions(
    client, as_moderator, challenge, make_idea, make_comment, make_report, author_de,
    author_en, reporter, make_user,
):  # fmt: skip
    idea = make_idea(challenge, author_de, status="published", title="Radwege")
    comment = make_comment(idea, author_en, body="Line one\n<b>not bold</b>", language="en")
    first = make_report(idea, reporter, reason="off_topic", note="<script>alert(1)</script>")
    make_report(idea, make_user(), reason="advertising")
    on_comment = make_report(idea, reporter, reason="offensive", comment=comment)

    html = page(client.get(QUEUE))
    assert says_n("%(num)d report", "%(num)d reports", 2) in html
    assert says_n("%(num)d report", "%(num)d reports", 1) in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    assert '<blockquote lang="en">Line one<br>&lt;b&gt;not bold&lt;/b&gt;</blockquote>' in html
    assert f'action="/moderation/ideas/{idea.id}/hide"' in html
    assert f'action="/moderation/comments/{comment.id}/hide"' in html
    assert f'action="/moderation/reports/{first.id}/resolve"' in html
    assert f'action="/moderation/reports/{on_comment.id}/resolve"' in html
    assert says_n("%(num)d item waiting", "%(num)d items waiting", 2) in html


# --- publishing and hiding --------------------------------------------------------------


def test_publishing_through_the_page(client, as_moderator, challenge, make_idea, author_en,
                                     mailbox):  # fmt: skip
    idea = make_idea(challenge, author_en, title="Plant trees", language="en")
    response = client.post_form(f"/moderation/ideas/{idea.id}/publish")
    assert response.status_code == 302 and response.location.endswith(QUEUE)
    assert fresh(idea).status == "published"
    assert [e.action for e in audit()] == ["idea.publish"]
    mail = mailbox.last_to("ben@example.org")
    assert mail["Subject"] == "Your idea has been published"
    html = page(client.get(QUEUE))
    assert says("The idea is published, and its author has been told.") in html
    assert "Plant trees" not in html


def test_hiding_through_the_page(client, as_moderator, challenge, make_idea, author_de, mailbox):
    idea = make_idea(challenge, author_de)
    response = hide(client, idea, "duplicate", "Siehe die Idee „Mehr Bäume“.")
    assert response.status_code == 302
    idea = fresh(idea)
    assert (idea.status, idea.moderation_reason) == ("hidden", "duplicate")
    assert idea.moderation_note == "Siehe die Idee „Mehr Bäume“."
    assert [e.action for e in audit()] == ["idea.hide"]
    text = mailbox.text(mailbox.last_to("anna@example.org"))
    assert plain(HIDE_REASONS["duplicate"], "de") in text and "„Mehr Bäume“" in text


def test_hiding_a_reported_published_idea_in_a_post_moderated_challenge(
    client, as_moderator, make_challenge, make_idea, make_report, author_de, reporter, mailbox
):
    idea = make_idea(make_challenge(moderation="post"), author_de, status="published")
    report = make_report(idea, reporter, reason="illegal")
    assert hide(client, idea, "illegal").status_code == 302
    assert fresh(idea).status == "hidden" and fresh(report).outcome == "hidden"
    assert says("No open reports.") in page(client.get(QUEUE))


def test_hiding_a_reported_comment_through_the_page(
    client, as_moderator, challenge, make_idea, make_comment, make_report, author_de, author_en,
    reporter, mailbox,
):  # fmt: skip
    idea = make_idea(challenge, author_de, status="published")
    comment = make_comment(idea, author_en)
    report = make_report(idea, reporter, comment=comment)
    response = client.post_form(
        f"/moderation/comments/{comment.id}/hide",
        {"reason": "offensive", "note": "Please stay kind."},
    )
    assert response.status_code == 302
    assert fresh(comment).status == "hidden" and fresh(idea).comment_count == 0
    assert fresh(report).outcome == "hidden"
    assert {e.action for e in audit()} == {"comment.hide", "report.resolve"}
    assert "Please stay kind." in mailbox.text(mailbox.last_to("ben@example.org"))


def test_a_hidden_idea_with_a_later_report_shows_its_reason_and_note_escaped(
    client, as_moderator, challenge, make_idea, make_report, author_de, reporter
):
    idea = make_idea(challenge, author_de, status="published")
    assert hide(client, idea, "other", "<script>alert('x')</script>").status_code == 302
    assert fresh(idea).moderation_note == "<script>alert('x')</script>"
    make_report(idea, reporter)  # reported again after it was hidden
    html = page(client.get(QUEUE))
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "<script>alert" not in html
    assert says("Close the reports: content is hidden") in html


# --- reports ----------------------------------------------------------------------------


def test_keeping_reported_content(client, as_moderator, challenge, make_idea, make_report,
                                  author_de, reporter, make_user):  # fmt: skip
    idea = make_idea(challenge, author_de, status="published")
    first = make_report(idea, reporter)
    second = make_report(idea, make_user())
    response = client.post_form(f"/moderation/reports/{first.id}/resolve", {"outcome": "kept"})
    assert response.status_code == 302
    assert fresh(first).outcome == fresh(second).outcome == "kept"
    assert fresh(idea).status == "published"
    assert len(audit("report.resolve")) == 2


def test_closing_as_hidden_while_the_content_is_visible_is_a_conflict(
    client, as_moderator, challenge, make_idea, make_report, author_de, reporter
):
    idea = make_idea(challenge, author_de, status="published")
    report = make_report(idea, reporter)
    response = client.post_form(f"/moderation/reports/{report.id}/resolve", {"outcome": "hidden"})
    assert response.status_code == 409
    assert says("This content is not hidden. Please hide it with a reason first.") in page(response)
    assert fresh(report).resolved_at is None and audit() == []


@pytest.mark.parametrize("outcome", ["", "deleted", "kept<script>"])
def test_an_unknown_outcome_is_a_bad_request(client, as_moderator, challenge, make_idea,
                                             make_report, author_de, reporter, outcome):  # fmt: skip
    idea = make_idea(challenge, author_de, status="published")
    report = make_report(idea, reporter)
    response = client.post_form(f"/moderation/reports/{report.id}/resolve", {"outcome": outcome})
    assert response.status_code == 400
    assert fresh(report).resolved_at is None and audit() == []


# --- hostile and mistaken requests ------------------------------------------------------


def test_posts_without_csrf_token_are_refused(client, as_moderator, challenge, make_idea,
                                              make_comment, make_report, author_de, reporter):  # fmt: skip
    idea = make_idea(challenge, author_de)
    published = make_idea(challenge, author_de, status="published")
    comment = make_comment(published, reporter)
    report = make_report(published, reporter)
    for url, data in [
        (f"/moderation/ideas/{idea.id}/publish", {}),
        (f"/moderation/ideas/{idea.id}/hide", {"reason": "offensive"}),
        (f"/moderation/comments/{comment.id}/hide", {"reason": "offensive"}),
        (f"/moderation/reports/{report.id}/resolve", {"outcome": "kept"}),
    ]:
        assert client.http.post(url, data=data).status_code == 400
        assert client.http.post(url, data={**data, "csrf_token": "forged"}).status_code == 400
    assert fresh(idea).status == "submitted" and fresh(comment).status == "published"
    assert fresh(report).resolved_at is None and audit() == []


@pytest.mark.parametrize("reason", ["", "spam", "offensive'--", "x" * 5000])
def test_hiding_with_an_unknown_reason_is_a_bad_request_and_changes_nothing(
    client, as_moderator, challenge, make_idea, author_de, mailbox, reason
):
    idea = make_idea(challenge, author_de)
    response = hide(client, idea, reason, "Notiz bleibt im Formular")
    assert response.status_code == 400
    html = page(response)
    # The error sits at the field (tied by aria-describedby) and in the summary at the top.
    assert f'id="idea-{idea.id}-reason-error"' in html
    assert f'aria-describedby="idea-{idea.id}-reason-hint idea-{idea.id}-reason-error"' in html
    assert f'href="#idea-{idea.id}-reason"' in html and 'role="alert"' in html
    assert "Notiz bleibt im Formular</textarea>" in html  # the note is not lost
    assert '<details class="queue-hide" open>' in html
    assert fresh(idea).status == "submitted" and audit() == [] and mailbox.messages() == []


def test_hiding_without_any_reason_field_is_a_bad_request(client, as_moderator, challenge,
                                                          make_idea, author_de):  # fmt: skip
    idea = make_idea(challenge, author_de)
    response = client.post_form(f"/moderation/ideas/{idea.id}/hide", {})
    assert response.status_code == 400 and fresh(idea).status == "submitted"


def test_a_ten_thousand_character_note_is_refused(client, as_moderator, challenge, make_idea,
                                                  author_de, mailbox):  # fmt: skip
    idea = make_idea(challenge, author_de)
    response = hide(client, idea, "other", "x" * 10_000)
    assert response.status_code == 400
    html = page(response)
    assert f'id="idea-{idea.id}-note-error"' in html
    assert says("Please use at most %(max)d characters.", max=1000) in html
    assert fresh(idea).status == "submitted" and audit() == [] and mailbox.messages() == []


def test_acting_on_things_that_do_not_exist_is_not_found(client, as_moderator):
    for url, data in [
        ("/moderation/ideas/999999/publish", {}),
        ("/moderation/ideas/999999/hide", {"reason": "offensive"}),
        ("/moderation/comments/999999/hide", {"reason": "offensive"}),
        ("/moderation/reports/999999/resolve", {"outcome": "kept"}),
        ("/moderation/ideas/abc/publish", {}),
        ("/moderation/ideas/-1/publish", {}),
        ("/moderation/ideas/99999999999999999999999/publish", {}),
        ("/moderation/comments/2147483648/hide", {"reason": "offensive"}),
        ("/moderation/reports/99999999999999999999999/resolve", {"outcome": "kept"}),
    ]:
        assert client.post_form(url, data).status_code == 404, url
    assert audit() == []


def test_get_on_an_action_is_not_allowed(client, as_moderator, challenge, make_idea, author_de):
    idea = make_idea(challenge, author_de)
    assert client.get(f"/moderation/ideas/{idea.id}/publish").status_code == 405
    assert fresh(idea).status == "submitted"


@pytest.mark.parametrize("status", ["published", "withdrawn", "draft"])
def test_publishing_an_idea_that_is_not_waiting_is_a_conflict(
    client, as_moderator, challenge, make_idea, author_de, mailbox, status
):
    idea = make_idea(challenge, author_de, status=status)
    response = client.post_form(f"/moderation/ideas/{idea.id}/publish")
    assert response.status_code == 409
    assert fresh(idea).status == status and audit() == [] and mailbox.messages() == []


def test_double_submits_never_fail_badly(
    client, as_moderator, challenge, make_idea, make_comment, make_report, author_de, author_en,
    reporter, mailbox,
):  # fmt: skip
    pending = make_idea(challenge, author_de, title="Eins")
    to_hide = make_idea(challenge, author_de, title="Zwei")
    published = make_idea(challenge, author_de, status="published", title="Drei")
    comment = make_comment(published, author_en)
    report = make_report(published, reporter)

    url = f"/moderation/ideas/{pending.id}/publish"
    assert client.post_form(url).status_code == 302
    second = client.post_form(url)
    assert second.status_code == 409
    assert says("This idea has already been published.") in page(second)

    assert hide(client, to_hide).status_code == 302
    second = hide(client, to_hide)
    assert second.status_code == 409
    assert says("This idea has already been hidden.") in page(second)

    url = f"/moderation/comments/{comment.id}/hide"
    assert client.post_form(url, {"reason": "offensive"}).status_code == 302
    assert client.post_form(url, {"reason": "offensive"}).status_code == 409
    assert fresh(published).comment_count == 0

    other = make_report(published, author_de)
    url = f"/moderation/reports/{other.id}/resolve"
    assert client.post_form(url, {"outcome": "kept"}).status_code == 302
    again = client.post_form(url, {"outcome": "kept"}, follow_redirects=True)
    assert again.status_code == 200
    assert says("This report had already been closed.") in page(again)

    assert Counter(e.action for e in audit()) == {
        "idea.publish": 1, "idea.hide": 1, "comment.hide": 1, "report.resolve": 2,
    }  # fmt: skip
    assert fresh(report).outcome == "kept"  # closed with the other report about the idea
    assert len(mailbox.to("anna@example.org")) == 2 and len(mailbox.to("ben@example.org")) == 1


def test_a_moderator_cannot_decide_on_their_own_idea(client, as_moderator, challenge, make_idea):
    idea = make_idea(challenge, as_moderator)
    html = page(client.get(QUEUE))
    assert f'action="/moderation/ideas/{idea.id}/publish"' not in html
    assert client.post_form(f"/moderation/ideas/{idea.id}/publish").status_code == 403
    assert hide(client, idea).status_code == 403
    assert fresh(idea).status == "submitted" and audit() == []
    assert count(Idea, Idea.status == "published") == 0 and count(Report) == 0


def test_moderators_see_the_photo_before_publishing(client, as_moderator, challenge, make_idea,
                                                    author_de):  # fmt: skip
    from consult.extensions import db
    from consult.media.models import Image

    image = Image(data=b"webp", width=1, height=1, digest="d" * 64)
    db.session.add(image)
    db.session.commit()
    make_idea(challenge, author_de, image_id=image.id, image_alt="Eine Bank im Park")
    html = page(client.get(QUEUE))
    assert (
        f'src="/media/{image.id}/{"d" * 64}-thumb.webp" alt="Eine Bank im Park" lang="de"' in html
    )
