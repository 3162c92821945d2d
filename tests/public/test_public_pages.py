"""The home page and the challenge page: phases, timeline, languages, what an idea shows."""

import re
from datetime import timedelta

from public_helpers import idea_count

from consult.clock import travel
from consult.extensions import db

EN = {"Accept-Language": "en"}


def page(client, url, **kwargs):
    response = client.get(url, headers=kwargs.pop("headers", EN), **kwargs)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def test_home_lists_current_and_past_challenges_with_their_phase(client, make_challenge):
    challenges = {
        phase: make_challenge(phase, title_en=f"The {phase} one")
        for phase in ("draft", "submission", "voting", "evaluation", "results", "archived")
    }
    html = page(client, "/")
    current, past = html.split('id="past-heading"')
    for phase, label in (
        ("submission", "Submitting ideas"),
        ("voting", "Voting"),
        ("evaluation", "Jury evaluation"),
    ):
        card = current.split(f"The {phase} one")[1].split("</li>")[0]
        assert f'<span class="phase">{label}</span>' in card
    for phase, label in (("results", "Results"), ("archived", "Archived")):
        assert f"The {phase} one" not in current
        card = past.split(f"The {phase} one")[1].split("</li>")[0]
        assert f'<span class="phase">{label}</span>' in card
    assert "The draft one" not in html
    assert f"/challenges/{challenges['draft'].id}" not in html
    assert "Voting ends in 3 days" in current
    assert "Submission closes in 1 week" in current


def test_home_without_challenges_says_so(client):
    html = page(client, "/")
    assert "No challenge is running right now." in html
    assert 'id="past-heading"' not in html


def test_challenge_page_shows_question_timeline_and_deadline(client, make_challenge):
    challenge = make_challenge("voting", plain_en="Say what you want in easy words.")
    html = page(client, f"/challenges/{challenge.id}")
    assert '<h1 lang="en">Challenge' in html
    assert '<p class="lead" lang="en">Question' in html
    assert "<strong>Voting ends in 3 days</strong>" in html
    assert "In plain language" in html and "Say what you want in easy words." in html
    timeline = html.split('class="timeline"')[1].split("</ol>")[0]
    states = re.findall(r'<li class="step-(\w+)"', timeline)
    assert states == ["done", "now", "upcoming", "upcoming"]
    assert timeline.count("<time datetime=") == 7
    assert 'aria-current="step"' in timeline


def test_dates_are_berlin_time_in_the_visitors_language(client, make_challenge):
    from datetime import UTC, datetime

    challenge = make_challenge("voting")
    challenge.voting_closes_at = datetime(2030, 7, 1, 16, 30, tzinfo=UTC)  # 18:30 in summer
    challenge.results_at = datetime(2030, 12, 1, 9, 0, tzinfo=UTC)  # 10:00 in winter
    db.session.commit()
    english = page(client, f"/challenges/{challenge.id}")
    assert "Jul 1, 2030, 18:30" in english and "Dec 1, 2030, 10:00" in english
    german = page(client, f"/challenges/{challenge.id}", headers={"Accept-Language": "de"})
    assert "1. Juli 2030, 18:30" in german and "1. Dez. 2030, 10:00" in german
    assert '<html lang="de">' in german


def test_relative_deadline_follows_the_clock(client, make_challenge):
    challenge = make_challenge("submission")
    assert "Submission closes in 1 week" in page(client, f"/challenges/{challenge.id}")
    with travel(timedelta(days=9)):
        html = page(client, f"/challenges/{challenge.id}")
        assert "Voting ends in 5 days" in html
    with travel(timedelta(days=30)):
        html = page(client, f"/challenges/{challenge.id}")
        assert '<span class="phase">Results</span>' in html
        assert " ends in " not in html


def test_drafts_are_only_for_staff(client, make_challenge, make_user, login):
    draft = make_challenge("draft")
    assert client.get(f"/challenges/{draft.id}").status_code == 404
    assert client.get("/challenges/999999").status_code == 404
    login(make_user())
    assert client.get(f"/challenges/{draft.id}").status_code == 404
    client.post_form("/account/logout")
    client.forget_csrf()
    login(make_user(roles=("citizen", "staff")))
    assert client.get(f"/challenges/{draft.id}").status_code == 200


def test_missing_language_falls_back_with_the_right_lang(client, make_challenge):
    challenge = make_challenge(
        "voting",
        title_de="Nur deutsch",
        title_en="",
        question_de="",
        question_en="Only in English?",
        description_de="Beschreibung auf Deutsch.",
        description_en="",
    )
    english = page(client, f"/challenges/{challenge.id}")
    assert '<html lang="en">' in english
    assert '<h1 lang="de">Nur deutsch</h1>' in english
    assert '<p class="lead" lang="en">Only in English?</p>' in english
    assert '<div class="prose" lang="de">Beschreibung auf Deutsch.</div>' in english
    german = page(client, f"/challenges/{challenge.id}", headers={"Accept-Language": "de"})
    assert '<h1 lang="de">Nur deutsch</h1>' in german
    assert '<p class="lead" lang="en">Only in English?</p>' in german
    home = page(client, "/")
    assert f'<a href="/challenges/{challenge.id}" lang="de">Nur deutsch</a>' in home


def test_cover_image_with_its_description(client, make_challenge, make_image):
    image = make_image()
    challenge = make_challenge("voting", cover_image_id=image.id, cover_alt_de="Ein Platz")
    html = page(client, f"/challenges/{challenge.id}")
    assert f'src="/media/{image.id}/{image.digest}.webp" alt="Ein Platz" lang="de"' in html
    assert 'width="640" height="480"' in html


def test_an_idea_in_the_list(
    client, make_challenge, make_idea, make_user, make_image, districts, add_comments
):
    challenge = make_challenge("voting", categories=[("Grün & Klima", "Green & climate")])
    author = make_user(pseudonym="Anna Aus Hörde")
    image = make_image()
    idea = make_idea(
        challenge,
        title="Mehr Bäume",
        body="**Schatten** für alle, [mehr](https://example.org) dazu.\n\nZweiter Absatz.",
        author_id=author.id,
        category_id=challenge.categories[0].id,
        district_id=districts[1].id,
        image_id=image.id,
        vote_count=12,
    )
    add_comments(idea, 3, author)
    html = page(client, f"/challenges/{challenge.id}")
    item = html.split('<li class="idea">')[1].split("</li>")[0]
    assert f'href="/ideas/{idea.id}" lang="de" dir="auto">Mehr Bäume</a>' in item
    assert (
        '<p class="excerpt" lang="de" dir="auto">Schatten für alle, mehr dazu. Zweiter Absatz.</p>'
        in item
    )
    assert "by <bdi>Anna Aus Hörde</bdi>" in item
    assert '<span lang="en">Green &amp; climate</span>' in item
    assert "Hörde" in item and "12 votes" in item and "3 comments" in item
    assert f'src="/media/{image.id}/{image.digest}-thumb.webp"' in item
    assert "1 idea" in html


def test_workshop_ideas_and_deleted_authors(client, make_challenge, make_idea, make_user):
    challenge = make_challenge("voting")
    make_idea(
        challenge, title="Vom Papier", origin="workshop", workshop_name="Zukunftswerkstatt Eving"
    )
    gone = make_user()
    gone.pseudonym, gone.pseudonym_key = None, None
    from consult.clock import now

    gone.deleted_at = now()
    db.session.commit()
    make_idea(challenge, title="Von früher", author_id=gone.id)
    html = page(client, f"/challenges/{challenge.id}")
    assert "from the workshop <bdi>Zukunftswerkstatt Eving</bdi>" in html
    assert "by a deleted account" in html


def test_long_excerpts_are_cut_at_a_word(client, make_challenge, make_idea):
    challenge = make_challenge("voting")
    make_idea(challenge, body=("Wort " * 2000).strip())
    html = page(client, f"/challenges/{challenge.id}")
    excerpt = html.split('<p class="excerpt" lang="de" dir="auto">')[1].split("</p>")[0]
    assert excerpt.endswith("Wort…") and len(excerpt) <= 181


def test_counts_are_hidden_while_voting_when_the_challenge_says_so(
    client, make_challenge, make_idea
):
    challenge = make_challenge("voting", hide_counts_while_voting=True)
    make_idea(challenge, title="Wenig", vote_count=1)
    make_idea(challenge, title="Viel", vote_count=99)
    html = page(client, f"/challenges/{challenge.id}")
    assert " votes" not in html.split('class="idea-list"')[1] and "99" not in html
    assert "Vote counts are hidden until voting ends." in html
    assert 'value="votes"' not in html
    # Sorting by votes would reveal the ranking: it falls back to the newest first.
    html = page(client, f"/challenges/{challenge.id}?sort=votes")
    assert html.index(">Wenig<") > html.index(">Viel<")  # newest first, not by votes
    assert "were not valid" in html
    with travel(timedelta(days=4)):  # voting has ended
        html = page(client, f"/challenges/{challenge.id}?sort=votes")
        assert "99 votes" in html and html.index(">Viel<") < html.index(">Wenig<")


def test_script_in_texts_is_shown_as_text(client, make_challenge, make_idea, make_user):
    challenge = make_challenge("voting", title_en="<script>alert(1)</script>")
    author = make_user()
    author.pseudonym = "<b>Bold</b>"  # the account services refuse it; shown safely anyway
    make_idea(
        challenge,
        title='<script>alert("t")</script>',
        body="<script>alert(2)</script> <img src=x onerror=alert(3)>",
        author_id=author.id,
    )
    for url in (f"/challenges/{challenge.id}", "/"):
        html = page(client, url)
        assert "<script>" not in html and "<img src=x" not in html and "<b>Bold" not in html
    html = page(client, f"/challenges/{challenge.id}")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;script&gt;alert(&#34;t&#34;)&lt;/script&gt;" in html
    assert "&lt;b&gt;Bold&lt;/b&gt;" in html


def test_right_to_left_overrides_stay_inside_their_idea(client, make_challenge, make_idea):
    # The services refuse such characters, but older or imported data may hold them.
    challenge = make_challenge("voting")
    make_idea(challenge, title="Park\u202egnp.exe", body="Text \u202e mit Override")
    html = page(client, f"/challenges/{challenge.id}")
    assert 'lang="de" dir="auto">Park\u202egnp.exe</a>' in html
    assert 'dir="auto">Text \u202e mit Override</p>' in html
    assert idea_count(html) == 1


def test_the_page_invites_ideas_only_while_submission_runs(client, make_challenge):
    running = make_challenge("submission")
    html = page(client, f"/challenges/{running.id}")
    assert f'href="/challenges/{running.id}/ideas/new">Submit an idea</a>' in html
    closed = make_challenge("evaluation")
    assert "/ideas/new" not in page(client, f"/challenges/{closed.id}")


def test_phase_names_and_deadlines_are_in_the_visitors_language(app, client, make_challenge):
    from flask_babel import force_locale, gettext

    make_challenge("voting")
    html = page(client, "/", headers={"Accept-Language": "de"})
    with force_locale("de"):
        label = gettext("Voting")
        deadline = gettext("Voting ends %(when)s", when="in 3 Tagen")
    assert f'<span class="phase">{label}</span>' in html
    assert deadline in html
