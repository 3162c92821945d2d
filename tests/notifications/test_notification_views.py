"""The pages: Follow on the challenge page, the mail settings page, the unsubscribe page
(a button, and RFC 8058 one-click for mail programs)."""

from notifications_support import (
    follow,
    followers,
    fresh,
    html,
    link_path,
    make_challenge,
    says,
    upcoming_challenge,
)

from consult.notifications import services
from consult.notifications.models import KINDS


def challenge_page(client, challenge) -> str:
    return html(client.get(f"/challenges/{challenge.id}"))


def test_a_citizen_follows_and_unfollows_on_the_challenge_page(app, client, make_user, login):
    challenge = upcoming_challenge()
    assert "/follow" not in challenge_page(client, challenge)  # visitors see no button
    person = make_user()
    login(person)
    page = challenge_page(client, challenge)
    assert f'action="/challenges/{challenge.id}/follow"' in page
    assert says("Follow this challenge") in page
    response = client.post_form(f"/challenges/{challenge.id}/follow")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/challenges/{challenge.id}#follow")
    assert client.post_form(f"/challenges/{challenge.id}/follow").status_code == 302  # again
    assert followers(challenge) == 1
    page = challenge_page(client, challenge)
    assert f'action="/challenges/{challenge.id}/unfollow"' in page
    assert says("You follow this challenge. We will mail you when voting opens, a day before it closes and when the results are out.") in page  # fmt: skip
    # Following asked for the results mail too; the page says so.
    assert says("We will mail you the results as soon as they are published.") in page
    assert client.post_form(f"/challenges/{challenge.id}/unfollow").status_code == 302
    assert followers(challenge) == 0
    assert says("Mail me the results") in challenge_page(client, challenge)


def test_an_unverified_account_sees_no_follow_button(app, client, make_user, login):
    challenge = upcoming_challenge()
    login(make_user(verified=False))
    assert "/follow" not in challenge_page(client, challenge)


def test_the_settings_page_shows_switches_and_followed_challenges(app, client, make_user, login):
    person = make_user(locale="en")
    challenge = upcoming_challenge()
    follow(challenge, person)
    login(person)
    profile = html(client.get("/account/profile"))
    assert 'href="/account/mail-settings"' in profile
    page = html(client.get("/account/mail-settings"))
    for kind in KINDS:
        assert f'id="{kind}" name="{kind}" type="checkbox" value="y" checked' in page or (
            f'checked id="{kind}"' in page
        ), kind
    assert 'name="digest"' in page and "Vote" in page
    assert f'action="/challenges/{challenge.id}/unfollow"' in page
    response = client.post_form(
        "/account/mail-settings",
        {"voting_opens": "y", "answers": "y", "comments": "y", "projects": "y", "digest": "y"},
    )
    assert response.status_code == 302
    person = fresh(person)
    assert not person.notify_voting_closes and person.notify_voting_opens
    assert person.digest_weekly
    page = html(client.get("/account/mail-settings"))
    assert says("Your mail settings have been saved.", "en") in page
    # Unfollowing from the settings page comes back to it.
    response = client.post_form(f"/challenges/{challenge.id}/unfollow", {"back": "settings"})
    assert response.headers["Location"].endswith("/account/mail-settings#followed")
    assert followers(challenge) == 0


def test_the_old_comments_switch_and_the_settings_page_agree(app, client, make_user, login):
    person = make_user()
    login(person)
    assert client.post_form("/account/notifications", {}).status_code == 302
    page = html(client.get("/account/mail-settings"))
    assert 'id="comments" name="comments" type="checkbox" value="y">' in page
    assert not fresh(person).notify_comments


def test_the_settings_page_needs_a_login(app, client):
    response = client.get("/account/mail-settings")
    assert response.status_code == 302 and "/account/login" in response.headers["Location"]


def test_the_unsubscribe_page_asks_first_then_switches_off(app, client, make_user):
    person = make_user(locale="en")
    path = link_path(person, "voting_closes")
    page = client.get(path)
    assert page.status_code == 200
    assert says("Stop these mails") in html(page)
    assert fresh(person).notify_voting_closes  # a link scanner's GET changes nothing
    response = client.post_form(path)
    assert response.status_code == 200
    assert says("You will no longer receive these mails.") in html(response)
    person = fresh(person)
    assert not person.notify_voting_closes and person.notify_voting_opens
    assert says("These mails are already switched off.") in html(client.get(path))


def test_one_click_unsubscribe_needs_no_csrf_token(app, client, make_user, mailbox):
    person = make_user(email="oneclick@example.org")
    challenge = make_challenge()
    follow(challenge, person)
    services.mail_voting_opens()
    message = mailbox.last_to("oneclick@example.org")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = message["List-Unsubscribe"].strip("<>")
    path = url.removeprefix("http://localhost")
    # What a mail program sends (RFC 8058): no cookie, no CSRF token.
    response = client.http.post(path, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert not fresh(person).notify_voting_opens
    # Mail programs may send it twice.
    assert client.http.post(path, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert not fresh(person).notify_voting_opens
