"""The juror's journey (issue 10, item 18): the whole idea and the deadline on the scoring
page, on to the next open idea after saving, mails when seated and when the ideas are
ready (once per seat, in the juror's language, through the outbox), and reminders and
progress that read truthfully before a shortlist exists and when only submitting is left.
"""

from datetime import timedelta

import pytest
from flask_babel import force_locale
from jury_support import (
    evaluation_challenge,
    give_scores,
    jury_world,
    make_idea,
    says,
    says_n,
    seat_juror,
    tr,
    tr_n,
)
from sqlalchemy import select
from testdata import html

from consult.challenges.models import Category, Challenge
from consult.challenges.timeline import format_when
from consult.clock import now
from consult.districts import District
from consult.errors import UserError
from consult.extensions import db
from consult.jobs import Outbox, run_outbox
from consult.jury import scoring, setup
from consult.jury.models import JurorAssignment

SUBMIT_BY = "Please submit your scores by %(deadline)s."
NOT_READY = "The shortlist is not ready yet."


def overview_url(challenge) -> str:
    return f"/jury/challenges/{challenge.id}"


def idea_url(challenge, idea) -> str:
    return f"/jury/challenges/{challenge.id}/ideas/{idea.id}"


def scores(world, impact="7", feasibility="7") -> dict:
    a, b = world.criteria
    return {f"score-{a.id}": impact, f"score-{b.id}": feasibility}


def deadline(challenge, locale="de") -> str:
    with force_locale(locale):
        return format_when(challenge.results_at)


def mails(template: str) -> list[Outbox]:
    return [
        row
        for row in db.session.scalars(select(Outbox).order_by(Outbox.id))
        if row.job == "send_email" and row.args[1] == template
    ]


# --- the scoring page -------------------------------------------------------------------


def test_the_scoring_page_shows_the_whole_idea_and_the_deadline(client, login, make_user):
    world = jury_world(make_user, scored=False)
    idea = world.ideas[1]  # "Trinkbrunnen", 60 paper votes (counted)
    category = Category(challenge_id=world.challenge.id, name_de="Wasser", name_en="Water")
    district = District(name="Hörde")
    db.session.add_all([category, district])
    db.session.flush()
    idea.category_id, idea.district_id = category.id, district.id
    db.session.commit()
    login(world.jurors[0])

    page = html(client.get(idea_url(world.challenge, idea)))
    assert "Mehr Bäume." in page  # the text
    assert "Wasser" in page and "Hörde" in page
    assert says_n("%(num)d vote", "%(num)d votes", 60) in page
    assert f'href="/ideas/{idea.id}"' in page
    assert says(SUBMIT_BY, deadline=deadline(world.challenge)) in page
    page = html(client.get(overview_url(world.challenge)))
    assert says(SUBMIT_BY, deadline=deadline(world.challenge)) in page
    page = html(client.get("/jury"))
    assert says(SUBMIT_BY, deadline=deadline(world.challenge)) in page


def test_votes_are_left_out_while_the_challenge_hides_them(app, make_user):
    challenge = evaluation_challenge(hide_counts_while_voting=True)
    idea = make_idea(challenge, "Bank")
    assert scoring.shown_votes(challenge, idea) == 0  # voting has closed: shown
    challenge.voting_closes_at = now() + timedelta(days=1)
    db.session.commit()
    assert scoring.shown_votes(challenge, idea) is None


# --- on to the next idea ----------------------------------------------------------------


def test_saving_goes_on_to_the_next_open_idea_and_at_the_end_to_submitting(
    client, login, make_user
):
    world = jury_world(make_user, scored=False)
    markt, brunnen, daecher = world.ideas  # listed as: Bäume am Markt, Grüne Dächer, Trinkbrunnen
    x = world.jurors[0]
    give_scores(x, daecher, {c.id: 5 for c in world.criteria})  # already done
    login(x)

    # From the first idea past the done one, to the next open one.
    response = client.post_form(idea_url(world.challenge, markt), scores(world))
    assert response.headers["Location"].endswith(idea_url(world.challenge, brunnen))
    page = html(client.get(response.headers["Location"]))
    assert says("Next idea: “%(title)s”.", title="Trinkbrunnen") in page

    # Saving the last open idea leads to the overview's submit button.
    response = client.post_form(idea_url(world.challenge, brunnen), scores(world))
    assert response.headers["Location"].endswith(overview_url(world.challenge) + "#submit")
    page = html(client.get(response.headers["Location"]))
    assert (
        says("Every idea is scored or declared a conflict: please check and submit your scores.")
        in page
    )
    assert 'id="submit"' in page and says("Submit my scores") in page


def test_the_next_idea_wraps_round_and_skips_conflicts(app, make_user):
    world = jury_world(make_user, scored=False)
    markt, brunnen, daecher = world.ideas
    x = world.jurors[0]
    give_scores(x, markt, None, conflict=True)
    assert scoring.next_open_idea(x, world.challenge, brunnen.id) == daecher
    assert scoring.next_open_idea(x, world.challenge, daecher.id) == brunnen  # wraps round
    give_scores(x, brunnen, {c.id: 1 for c in world.criteria})
    assert scoring.next_open_idea(x, world.challenge, daecher.id) is None


def test_declaring_a_conflict_also_goes_on(client, login, make_user):
    world = jury_world(make_user, scored=False)
    markt, _brunnen, daecher = world.ideas
    login(world.jurors[0])
    response = client.post_form(idea_url(world.challenge, markt) + "/conflict")
    assert response.headers["Location"].endswith(idea_url(world.challenge, daecher))


# --- before there is a shortlist --------------------------------------------------------


def test_no_shortlist_reads_as_not_ready_not_as_zero_of_zero(client, login, make_user):
    challenge = evaluation_challenge()
    juror = make_user(roles=("juror",))
    seat_juror(challenge, juror, [])
    login(juror)
    zero = says_n("%(done)d of %(num)d idea done", "%(done)d of %(num)d ideas done", 0, done=0)
    for address in ("/jury", overview_url(challenge)):
        page = html(client.get(address))
        assert says(NOT_READY) in page, address
        assert zero not in page
    assert says(
        "The shortlist is not ready yet. You will get a mail when your ideas are ready to score."
    ) in html(client.get(overview_url(challenge)))


# --- mails ------------------------------------------------------------------------------


def test_seated_before_the_shortlist_then_told_once_when_ideas_are_ready(app, make_user, mailbox):
    challenge = evaluation_challenge()
    staff = make_user(roles=("staff",))
    german = make_user(roles=("juror",), pseudonym="Jurorin")
    english = make_user(roles=("juror",), pseudonym="Juror", locale="en")
    ideas = [make_idea(challenge, f"Idee {n}") for n in range(3)]
    for idea, votes in zip(ideas, (3, 2, 1), strict=True):
        from jury_support import add_votes

        add_votes(idea, votes)
    for person in (german, english):
        setup.seat_juror(staff, challenge, person.email)

    assert len(mails("jury_seated")) == 2
    mail = mailbox.last_to(english.email)
    assert mail["Subject"] == tr("You are on the jury", "en")
    assert mail["Content-Language"] == "en"
    text = mailbox.text(mail)
    assert "A greener city centre" in text
    assert (
        tr(
            "The shortlist is not ready yet. We will write to you when your ideas are ready to score.",
            "en",
        )
        in text
    )
    assert tr(SUBMIT_BY, "en", deadline=deadline(challenge, "en")) in text
    assert mailbox.link(mail, "/jury/challenges/") == (
        f"http://localhost/jury/challenges/{challenge.id}"
    )
    assert tr(
        "you are now on the jury of the challenge “%(title)s”.", title="Grünere Innenstadt"
    ) in (mailbox.text(mailbox.last_to(german.email)))

    setup.shortlist_top_ideas(staff, db.session.get(Challenge, challenge.id))
    ready = mails("jury_ideas_ready")
    assert sorted(row.args[0] for row in ready) == sorted([german.email, english.email])
    assert {row.args[0]: row.args[2] for row in ready} == {german.email: "de", english.email: "en"}
    mail = mailbox.last_to(german.email)
    assert mail["Subject"] == tr("The shortlist is ready: your ideas are waiting")
    assert tr_n(
        "%(num)d idea is waiting for your scores.", "%(num)d ideas are waiting for your scores.", 3
    ) in mailbox.text(mail)

    # Once per seat: more ideas later, or a job run twice, mail nobody again.
    extra = make_idea(challenge, "Nachzügler")
    setup.pick_for_shortlist(staff, db.session.get(Challenge, challenge.id), extra.id, "Gut")
    assert len(mails("jury_ideas_ready")) == 2
    before = len(mailbox.messages())
    for row in ready:
        run_outbox(row.id)
    assert len(mailbox.messages()) == before
    assert all(
        seat.ideas_mailed_at is not None for seat in db.session.scalars(select(JurorAssignment))
    )


def test_seated_after_the_shortlist_gets_one_mail_with_the_ideas(app, make_user, mailbox):
    world = jury_world(make_user, scored=False)
    newcomer = make_user(roles=("juror",), pseudonym="Neu")
    setup.seat_juror(world.staff, world.challenge, newcomer.email)
    [mail] = mailbox.to(newcomer.email)
    assert mail["Subject"] == tr("You are on the jury")
    assert tr_n(
        "%(num)d idea is waiting for your scores.", "%(num)d ideas are waiting for your scores.", 3
    ) in mailbox.text(mail)
    # Giving them ideas again is no new event.
    setup.set_juror_ideas(world.staff, world.challenge, newcomer.id, [world.ideas[0].id])
    assert mails("jury_ideas_ready") == []
    assert len(mailbox.to(newcomer.email)) == 1


def test_a_juror_given_their_first_ideas_by_staff_is_told(app, make_user, mailbox):
    world = jury_world(make_user, scored=False)
    for seat in db.session.scalars(select(JurorAssignment)):
        seat.ideas_mailed_at = now()  # the world's jurors were told when seated
    late = make_user(roles=("juror",), pseudonym="Später")
    seat_juror(world.challenge, late, [])  # seated with no ideas (staff chose so)
    setup.set_juror_ideas(world.staff, world.challenge, late.id, [world.ideas[0].id])
    [row] = mails("jury_ideas_ready")
    assert row.args[0] == late.email and row.args[3]["ideas"] == 1


def test_a_refused_seating_enqueues_no_mail(app, make_user):
    challenge = evaluation_challenge()
    staff = make_user(roles=("staff",))
    citizen = make_user(roles=("citizen",))
    with pytest.raises(UserError):
        setup.seat_juror(staff, challenge, citizen.email)
    assert db.session.scalars(select(Outbox)).all() == []


# --- reminders --------------------------------------------------------------------------


def test_the_reminder_says_submit_when_nothing_is_open_and_skips_jurors_without_ideas(
    client, login, make_user, mailbox
):
    world = jury_world(make_user, submitted=False)  # both jurors scored everything
    waiting = make_user(roles=("juror",), pseudonym="Ohne Ideen")
    seat_juror(world.challenge, waiting, [])
    login(world.staff)
    response = client.post_form(f"/staff/challenges/{world.challenge.id}/jury/remind")
    assert response.status_code == 302
    page = html(client.get(response.headers["Location"]))
    assert (
        says_n("%(num)d juror has been reminded.", "%(num)d jurors have been reminded.", 2) in page
    )
    assert says_n(
        "%(num)d juror has no ideas to score yet and was not reminded; they get a mail "
        "when their ideas are ready.",
        "%(num)d jurors have no ideas to score yet and were not reminded; they get a "
        "mail when their ideas are ready.",
        1,
    ) in page  # fmt: skip
    assert mailbox.to(waiting.email) == []
    text = mailbox.text(mailbox.last_to(world.jurors[0].email))
    assert tr("All your ideas are scored: the one thing left is to submit.") in text
    assert (
        tr("Please submit your scores by %(deadline)s:", deadline=deadline(world.challenge)) in text
    )
    assert tr_n("%(num)d idea is still open.", "%(num)d ideas are still open.", 0) not in text


@pytest.mark.postgres_only
def test_two_shortlist_changes_at_once_tell_each_juror_once(app, make_user):
    """Top N and a staff pick released together: one "ideas ready" mail per juror."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from jury_support import add_votes

    from consult.accounts.models import User

    challenge = evaluation_challenge()
    staff = make_user(roles=("staff",))
    jurors = [make_user(roles=("juror",)) for _ in range(3)]
    voted = make_idea(challenge, "Mit Stimmen")
    add_votes(voted, 5)
    picked = make_idea(challenge, "Ausgewählt")
    for juror in jurors:
        setup.seat_juror(staff, challenge, juror.email)
    ids = (challenge.id, staff.id, picked.id)
    barrier = threading.Barrier(2)

    def run(action):
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                challenge_now = db.session.get(Challenge, ids[0])
                actor = db.session.get(User, ids[1])
                if action == "top":
                    setup.shortlist_top_ideas(actor, challenge_now)
                else:
                    setup.pick_for_shortlist(actor, challenge_now, ids[2], "Gut")
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(run, ["top", "pick"]))
    db.session.expire_all()
    ready = mails("jury_ideas_ready")
    assert sorted(row.args[0] for row in ready) == sorted(j.email for j in jurors)
