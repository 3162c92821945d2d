"""The command line: demo data and the first staff account."""

import re

from sqlalchemy import func, select, update
from testdata import html, says

from consult.accounts.models import User
from consult.demo import DEMO_ACCOUNTS, DEMO_VOTERS, DORTMUND_DISTRICTS, demo_totp_secret
from consult.districts import District
from consult.extensions import db


def test_demo_seed_prints_logins_that_work_and_is_idempotent(app, client):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["demo", "seed"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(args=["demo", "seed"])
    assert second.exit_code == 0
    assert db.session.scalar(select(func.count()).select_from(District)) == 12
    assert set(db.session.scalars(select(District.name))) == set(DORTMUND_DISTRICTS)
    assert db.session.scalar(select(func.count()).select_from(User)) == len(DEMO_ACCOUNTS) + len(
        DEMO_VOTERS
    )
    for role, email, _name, password, roles in DEMO_ACCOUNTS:
        assert f"{role:<10} {email}" in first.output and password in first.output
        user = db.session.scalar(select(User).where(User.email == email))
        assert set(roles) <= user.roles
        response = client.post_form("/account/login", {"email": email, "password": password})
        assert response.status_code == 302, role
        if role != "citizen":
            # The printed key is the account's second factor; `demo code` prints its code.
            assert demo_totp_secret(email) in first.output
            assert response.headers["Location"].startswith("/account/two-factor/code")
            db.session.execute(update(User).where(User.id == user.id).values(totp_last_step=None))
            db.session.commit()
            code = runner.invoke(args=["demo", "code", email])
            assert code.exit_code == 0 and re.fullmatch(r"\d{6}\n", code.output)
            client.forget_csrf()
            url = response.headers["Location"]
            response = client.post_form(
                url, {"code": code.output.strip(), "csrf_token": client.csrf_token(url)}
            )
            assert response.status_code == 302, role
        assert client.get("/account/profile").status_code == 200, role
        client.forget_csrf()
        client.post_form("/account/logout", {"csrf_token": client.csrf_token("/")})
        client.forget_csrf()


def test_demo_code_refuses_accounts_that_are_not_demo_accounts(app, make_user):
    make_user(email="chefin@stadt.example", roles=("citizen", "staff"))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "code", "chefin@stadt.example"])
    assert result.exit_code != 0 and "Only demo accounts" in result.output


def test_create_admin_reads_the_password_from_stdin(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=["users", "create-admin", "Chefin@Stadt.example", "--password-stdin"],
        input="Rathaus am Friedensplatz 1\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "chefin@stadt.example"))
    assert user.has_role("staff") and user.has_role("citizen") and user.is_verified


def test_create_admin_refuses_a_common_password(app):
    result = app.test_cli_runner().invoke(
        args=["users", "create-admin", "a@stadt.example", "--password-stdin"], input="password\n"
    )
    assert result.exit_code != 0
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_demo_seed_shows_a_running_challenge_with_ideas(app, client):
    from consult.challenges.models import Challenge
    from consult.ideas.models import Idea

    assert app.test_cli_runner().invoke(args=["demo", "seed"]).exit_code == 0
    challenge = db.session.scalar(select(Challenge).order_by(Challenge.id))
    assert challenge.submission_open() and challenge.voting_open()
    assert (
        db.session.scalar(select(func.count()).select_from(Idea).where(Idea.status == "published"))
        >= 4
    )
    assert client.get(f"/challenges/{challenge.id}").status_code == 200


def test_demo_seed_gives_the_demo_jurors_a_shortlist_to_score(app):
    from consult.challenges.models import Challenge
    from consult.demo import JURY_CHALLENGE_TITLE
    from consult.jury.models import JurorAssignment, JuryReview, ShortlistEntry

    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    challenge = db.session.scalar(
        select(Challenge).where(Challenge.title_de == JURY_CHALLENGE_TITLE)
    )
    assert challenge.phase() == "evaluation" and not challenge.is_frozen

    def count(model):
        query = select(func.count()).select_from(model)
        return db.session.scalar(query.where(model.challenge_id == challenge.id))

    assert count(ShortlistEntry) == 4
    jurors = [a for a in DEMO_ACCOUNTS if a[0] == "juror"]
    assert count(JurorAssignment) == len(jurors) == 2
    assert count(JuryReview) == 2 * 4
    assert not any(
        db.session.scalars(
            select(JurorAssignment.submitted_at).where(JurorAssignment.challenge_id == challenge.id)
        )
    )


def test_demo_seed_opens_a_live_event_that_a_phone_can_join(app, client):
    from consult.demo import DEMO_EVENT_CODE
    from consult.events.models import Event

    output = app.test_cli_runner().invoke(args=["demo", "seed"]).output
    assert f"code {DEMO_EVENT_CODE} at http" in output
    event = db.session.scalar(select(Event).where(Event.join_code == DEMO_EVENT_CODE))
    assert event.is_open and event.open_code == DEMO_EVENT_CODE
    join = client.get(f"/j/{DEMO_EVENT_CODE.lower()}")
    assert join.status_code == 303 and join.location.endswith(f"/events/{event.id}/join")
    assert client.get(f"/events/{event.id}/join").status_code == 200
    response = client.post_form(
        f"/events/{event.id}/join", {"display_name": "Mia", "language": "de", "privacy": "y"}
    )
    assert response.status_code in (302, 303), html(response)
    room = client.get(f"/events/{event.id}/")
    assert room.status_code == 200
    page = html(room)
    assert "Wasserspielplatz auf dem Friedensplatz" in page  # on the wall
    assert "Mehr Mülleimer mit Pfandring" not in page  # still waiting for moderation
    assert says("Mia") in page


def test_demo_districts_have_their_population_and_the_command_fills_it(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    populations = dict(db.session.execute(select(District.name, District.population)).all())
    assert populations == app.config["DISTRICT_POPULATION"]
    db.session.add(District(name="Atlantis", position=99))
    hoerde = db.session.scalar(select(District).where(District.name == "Hörde"))
    hoerde.population = None
    db.session.commit()
    result = runner.invoke(args=["districts", "population"])
    assert result.exit_code == 0, result.output
    assert "Population set for 12 district(s)." in result.output
    assert "No figure in DISTRICT_POPULATION for: Atlantis" in result.output
    db.session.expire_all()
    assert db.session.scalar(select(District.population).where(District.name == "Hörde")) == 57_000
