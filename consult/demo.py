"""Demo data: the city of Dortmund, its twelve districts, one account per role, a running
challenge with ideas, one in jury evaluation, and one finished with public results and a
lab project, so that every page has something to show."""

import base64
import hashlib
from contextlib import contextmanager
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, or_, select

from .accounts.models import RoleGrant, User
from .accounts.passwords import hash_password
from .accounts.second_factor import SECOND_FACTOR_ROLES
from .accounts.services import clean_pseudonym
from .answers.models import IdeaAnswer
from .challenges.models import Category, Challenge
from .clock import now, travel
from .districts import District
from .events.models import Event, EventParticipant
from .extensions import db
from .ideas.models import Idea
from .jury.models import JurorAssignment, JuryCriterion, JuryReview, ShortlistEntry
from .text import render_markdown
from .voting.models import PaperVoteEntry

DORTMUND_DISTRICTS = [
    "Innenstadt-West",
    "Innenstadt-Nord",
    "Innenstadt-Ost",
    "Eving",
    "Scharnhorst",
    "Brackel",
    "Aplerbeck",
    "Hörde",
    "Hombruch",
    "Lütgendortmund",
    "Huckarde",
    "Mengede",
]

# Fixed, printed demo logins: this data is for trying consult on a laptop, never production.
DEMO_ACCOUNTS = [
    ("citizen", "buergerin@demo.example", "Bürgerin Anna", "demo-citizen-2026", ["citizen"]),
    (
        "moderator",
        "moderation@demo.example",
        "Moderation",
        "demo-moderator-2026",
        ["citizen", "moderator"],
    ),
    ("juror", "jury@demo.example", "Jurorin Berg", "demo-juror-2026", ["citizen", "juror"]),
    ("juror", "jury2@demo.example", "Juror Demir", "demo-juror2-2026", ["citizen", "juror"]),
    ("staff", "team@demo.example", "KoSI-Lab Team", "demo-staff-2026", ["citizen", "staff"]),
    ("press", "presse@demo.example", "Pressestelle", "demo-press-2026", ["citizen", "press"]),
]


def demo_totp_secret(email: str) -> str:
    """The fixed TOTP key of a demo account (printed with the logins): derived from the
    address, so a tester's authenticator app keeps working after the demo is seeded again."""
    digest = hashlib.sha256(f"consult demo second factor {email}".encode()).digest()
    return base64.b32encode(digest[:20]).decode("ascii")


def is_demo_address(email: str | None) -> bool:
    return bool(email) and email.endswith("@demo.example")


def seed_demo() -> list[tuple[str, str, str]]:
    """Create what is missing and return (role, e-mail, password) for every demo login."""
    existing = set(db.session.scalars(select(District.name)))
    for position, name in enumerate(DORTMUND_DISTRICTS):
        if name not in existing:
            # Inhabitants from DISTRICT_POPULATION, for the staff dashboard's shares.
            population = current_app.config["DISTRICT_POPULATION"].get(name)
            db.session.add(District(name=name, position=position, population=population))
    logins = []
    for label, email, pseudonym, password, roles in DEMO_ACCOUNTS:
        user = _demo_account(email, pseudonym)
        user.password_hash = hash_password(password)
        for role in roles:
            if role not in user.roles:
                user.role_grants.append(RoleGrant(role=role))
        if any(role in SECOND_FACTOR_ROLES for role in roles):
            # Their pages need a second factor; the key is printed for an authenticator
            # app, and `flask demo code EMAIL` prints the current code without one.
            user.totp_secret = demo_totp_secret(email)
            user.totp_enabled_at = user.totp_enabled_at or now()
        logins.append((label, email, password))
    _seed_voters()
    db.session.flush()
    _seed_challenge()
    db.session.flush()
    _seed_answers()
    _seed_event()
    _seed_jury_challenge()
    db.session.commit()
    _seed_results_challenge()
    return logins


DEMO_CHALLENGE_TITLE = "Wie wird die Innenstadt lebendiger?"
DEMO_CATEGORIES = [
    ("Grün & Klima", "Green & climate"),
    ("Mobilität", "Mobility"),
    ("Kultur & Begegnung", "Culture & meeting"),
]
DEMO_IDEAS = [
    # (title, body, category index, district, language)
    (
        "Schattige Sitzinseln am Westenhellweg",
        "Bänke mit **Bäumen in Kübeln**, damit man im Sommer verweilen kann.",
        0,
        "Innenstadt-West",
        "de",
    ),
    (
        "Fahrradparkhaus am Hauptbahnhof",
        "Sicher abstellen, *überdacht*, mit Ladestation für E-Bikes.",
        1,
        "Innenstadt-Nord",
        "de",
    ),
    (
        "Open-air cinema in the Stadtgarten",
        "Free films on summer evenings, chosen by the neighbourhood.",
        2,
        "Innenstadt-West",
        "en",
    ),
    (
        "Trinkbrunnen an allen Plätzen",
        "Kostenloses Trinkwasser hilft an heißen Tagen, besonders Älteren.",
        0,
        "Innenstadt-Ost",
        "de",
    ),
]


def _seed_challenge() -> None:
    """A challenge whose submission and voting both run, with ideas from the demo citizen."""
    if db.session.scalar(select(Challenge).where(Challenge.title_de == DEMO_CHALLENGE_TITLE)):
        return
    t = now()
    challenge = Challenge(
        title_de=DEMO_CHALLENGE_TITLE,
        title_en="How do we bring the city centre to life?",
        question_de="Was würde Sie öfter in die Dortmunder Innenstadt locken?",
        question_en="What would bring you to Dortmund's city centre more often?",
        description_de="Die Stadt sucht Ideen für Plätze, Wege und Treffpunkte in der City. "
        "Die besten Ideen werden im KoSI-Lab gemeinsam mit Ihnen erprobt.",
        description_en="The city is looking for ideas for squares, paths and meeting places in "
        "the centre. The best ideas will be tried out with you in the KoSI-Lab.",
        plain_de="Die Stadt fragt: Was wünschen Sie sich für die Innenstadt? "
        "Schreiben Sie Ihre Idee auf. Stimmen Sie für gute Ideen ab.",
        submission_opens_at=t - timedelta(days=7),
        submission_closes_at=t + timedelta(days=14),
        voting_opens_at=t - timedelta(days=1),
        voting_closes_at=t + timedelta(days=21),
        results_at=t + timedelta(days=35),
        vote_budget=3,
        moderation="pre",
    )
    challenge.categories = [
        Category(name_de=de, name_en=en, position=i) for i, (de, en) in enumerate(DEMO_CATEGORIES)
    ]
    db.session.add(challenge)
    db.session.flush()
    author = db.session.scalar(select(User).where(User.email == DEMO_ACCOUNTS[0][1]))
    districts = {d.name: d for d in db.session.scalars(select(District))}
    for offset, (title, body, category, district, language) in enumerate(DEMO_IDEAS):
        published = t - timedelta(days=6 - offset)
        db.session.add(
            Idea(
                challenge_id=challenge.id,
                author_id=author.id,
                category_id=challenge.categories[category].id,
                district_id=districts[district].id,
                title=title,
                body=body,
                body_html=render_markdown(body),
                language=language,
                status="published",
                submitted_at=published,
                published_at=published,
            )
        )


# Official answers to two ideas of the running challenge: (idea title, state, German and
# English answer, department).
DEMO_ANSWERS = [
    (
        "Trinkbrunnen an allen Plätzen",
        "already_planned",
        "Danke! Die Stadtwerke stellen bis zum Sommer **sechs neue Trinkbrunnen** auf, "
        "darunter am Alten Markt und am Friedensplatz.",
        "Thank you! By the summer the city utilities will set up **six new drinking "
        "fountains**, among them at the Alter Markt and the Friedensplatz.",
        "Stadtwerke / Tiefbauamt",
    ),
    (
        "Fahrradparkhaus am Hauptbahnhof",
        "under_review",
        "Wir prüfen gerade, welche Flächen am Nordausgang in Frage kommen.",
        "We are checking which sites at the north exit could be used.",
        "Mobilitätsplanung",
    ),
]


def _seed_answers() -> None:
    """Official answers to two demo ideas, so that the answer box and filter show something."""
    staff = db.session.scalar(select(User).where(User.email == "team@demo.example"))
    challenge_id = db.session.scalar(
        select(Challenge.id).where(Challenge.title_de == DEMO_CHALLENGE_TITLE)
    )
    for title, state, text_de, text_en, department in DEMO_ANSWERS:
        idea = db.session.scalar(
            select(Idea).where(Idea.challenge_id == challenge_id, Idea.title == title)
        )
        if idea is None or db.session.get(IdeaAnswer, idea.id) is not None:
            continue
        db.session.add(
            IdeaAnswer(
                idea_id=idea.id,
                state=state,
                text_de=text_de,
                text_en=text_en,
                html_de=render_markdown(text_de),
                html_en=render_markdown(text_en),
                department=department,
                answered_by_id=staff.id if staff else None,
            )
        )


DEMO_EVENT_CODE = "DTMUND"  # from the join-code alphabet: no look-alike characters
DEMO_ROOM_IDEAS = [
    # (title, participant's display name, status: on the wall or waiting for moderation)
    ("Wasserspielplatz auf dem Friedensplatz", "Lea", "room"),
    ("Sonntags Straßenmusik in der Brückstraße", "Jonas", "room"),
    ("Mehr Mülleimer mit Pfandring", "Emre", "queued"),
]


def _seed_event() -> None:
    """An open Helpathon evening of the demo challenge: join with DEMO_EVENT_CODE at /join,
    open the wall and the moderation queue as staff or moderator."""
    if db.session.scalar(select(Event.id).where(Event.join_code == DEMO_EVENT_CODE)):
        return
    challenge = db.session.scalar(
        select(Challenge).where(Challenge.title_de == DEMO_CHALLENGE_TITLE)
    )
    t = now()
    event = Event(
        challenge_id=challenge.id,
        title_de="Helpathon Innenstadt im Dietrich-Keuning-Haus",
        title_en="City centre Helpathon at the Dietrich-Keuning-Haus",
        place="Dietrich-Keuning-Haus, Leopoldstraße 50-58, 44147 Dortmund",
        starts_at=t - timedelta(hours=1),
        ends_at=t + timedelta(hours=3),
        join_code=DEMO_EVENT_CODE,
        open_code=DEMO_EVENT_CODE,
        status="open",
        opened_at=t - timedelta(hours=1),
    )
    db.session.add(event)
    db.session.flush()
    for minutes, (title, name, status) in enumerate(DEMO_ROOM_IDEAS):
        participant = EventParticipant(event_id=event.id, display_name=name, language="de")
        db.session.add(participant)
        db.session.flush()
        db.session.add(
            Idea(
                challenge_id=challenge.id,
                event_id=event.id,
                participant_id=participant.id,
                title=title,
                language="de",
                status=status,
                created_at=t - timedelta(minutes=30 - 10 * minutes),
            )
        )


JURY_CHALLENGE_TITLE = "Wie wird Dortmund klimafreundlicher?"
JURY_IDEAS = [
    # (title, body, paper votes)
    ("Solardächer auf allen Schulen", "Schulen erzeugen ihren Strom selbst.", 84),
    ("Mehr Bäume in der Nordstadt", "Schatten und kühlere Straßen im Sommer.", 61),
    ("Reparaturcafé in jedem Stadtbezirk", "Reparieren statt wegwerfen, gemeinsam.", 47),
    ("Lastenräder zum Ausleihen", "Einkaufen ohne Auto, kostenlos ausleihen.", 39),
    ("Regenwasser für Stadtgärten", "Zisternen sammeln Regen für Beete.", 12),
]
JURY_CRITERIA = [
    # (German, English, weight, German description, English description)
    ("Wirkung", "Impact", 3, "Wie viel bewirkt die Idee?", "How much difference does it make?"),
    ("Machbarkeit", "Feasibility", 2, "Kann die Stadt sie umsetzen?", "Can the city do it?"),
    ("Kosten", "Cost", 1, "Ist sie bezahlbar?", "Is it affordable?"),
]


def _seed_jury_challenge() -> None:
    """A challenge after voting, in evaluation: criteria, a shortlist and two seated jurors
    who have not scored yet, so the jury pages can be tried with the demo logins."""
    if db.session.scalar(select(Challenge).where(Challenge.title_de == JURY_CHALLENGE_TITLE)):
        return
    t = now()
    challenge = Challenge(
        title_de=JURY_CHALLENGE_TITLE,
        title_en="How does Dortmund become more climate-friendly?",
        question_de="Welche Idee hilft dem Klima in Ihrem Stadtteil?",
        question_en="Which idea helps the climate in your neighbourhood?",
        description_de="Die Abstimmung ist beendet. Die Jury bewertet jetzt die Ideen der "
        "engeren Auswahl.",
        description_en="Voting has ended. The jury is now scoring the shortlisted ideas.",
        submission_opens_at=t - timedelta(days=60),
        submission_closes_at=t - timedelta(days=40),
        voting_opens_at=t - timedelta(days=35),
        voting_closes_at=t - timedelta(days=3),
        results_at=t + timedelta(days=14),
        vote_budget=3,
        jury_alpha_percent=60,
        shortlist_size=4,
    )
    db.session.add(challenge)
    db.session.flush()
    ideas = []
    for offset, (title, body, votes) in enumerate(JURY_IDEAS):
        submitted = t - timedelta(days=50 - offset)
        idea = Idea(
            challenge_id=challenge.id,
            title=title,
            body=body,
            body_html=render_markdown(body),
            language="de",
            status="published",
            origin="workshop",
            workshop_name="Klimawerkstatt Dortmund",
            submitted_at=submitted,
            published_at=submitted,
        )
        db.session.add(idea)
        db.session.flush()
        db.session.add(PaperVoteEntry(idea_id=idea.id, count=votes, event_name="Klimafest"))
        ideas.append(idea)
    for position, (de, en, weight, about_de, about_en) in enumerate(JURY_CRITERIA):
        db.session.add(
            JuryCriterion(
                challenge_id=challenge.id,
                name_de=de,
                name_en=en,
                weight=weight,
                description_de=about_de,
                description_en=about_en,
                position=position,
            )
        )
    shortlisted = ideas[: challenge.shortlist_size]
    for idea in shortlisted:
        db.session.add(ShortlistEntry(challenge_id=challenge.id, idea_id=idea.id, source="votes"))
    jurors = db.session.scalars(
        select(User).where(User.email.in_([a[1] for a in DEMO_ACCOUNTS if a[0] == "juror"]))
    )
    for juror in jurors:
        db.session.add(JurorAssignment(challenge_id=challenge.id, user_id=juror.id))
        for idea in shortlisted:
            db.session.add(
                JuryReview(challenge_id=challenge.id, juror_id=juror.id, idea_id=idea.id)
            )


# --- a finished challenge with public results -------------------------------------------

# Citizens who voted in the finished challenge. They have no password (nobody logs in as
# them); their addresses are reserved for documentation (RFC 2606), so no mail leaves.
DEMO_VOTERS = [
    ("stimme01@demo.example", "Radlerin Jana"),
    ("stimme02@demo.example", "Kemal aus Eving"),
    ("stimme03@demo.example", "Opa Heinz"),
    ("stimme04@demo.example", "Lina B."),
    ("stimme05@demo.example", "Familie Nowak"),
    ("stimme06@demo.example", "Tobias"),
    ("stimme07@demo.example", "Ayşe K."),
    ("stimme08@demo.example", "Marco"),
    ("stimme09@demo.example", "Greta aus Hörde"),
    ("stimme10@demo.example", "Sven"),
]


def _demo_account(email: str, pseudonym: str) -> User:
    """The verified demo account of that address or name, created when it is missing."""
    name, key = clean_pseudonym(pseudonym)
    # By address or by name: an older demo account may have had another address.
    user = db.session.scalar(
        select(User).where(or_(User.email == email, User.pseudonym_key == key))
    )
    if user is None:
        user = User(
            pseudonym=name,
            pseudonym_key=key,
            locale="de",
            email_verified_at=now(),
            privacy_consent_at=now(),
        )
        db.session.add(user)
    user.email = email
    return user


def _seed_voters() -> None:
    for email, pseudonym in DEMO_VOTERS:
        user = _demo_account(email, pseudonym)
        if "citizen" not in user.roles:
            user.role_grants.append(RoleGrant(role="citizen"))


RESULTS_CHALLENGE_TITLE = "Wie wird Dortmund fahrradfreundlicher?"
RESULTS_CATEGORIES = [
    ("Radwege", "Cycle lanes"),
    ("Abstellen", "Parking"),
    ("Sicherheit", "Safety"),
]
RESULTS_IDEAS = [
    # (title, body, category index, district, author (None: a workshop idea), language,
    #  paper votes)
    (
        "Geschützter Radweg auf der Brackeler Straße",
        "Poller trennen Rad- und Autoverkehr, damit sich auch **Kinder** aufs Rad trauen.",
        0,
        "Brackel",
        "buergerin@demo.example",
        "de",
        40,
    ),
    (
        "Fahrradbügel vor jeder Schule",
        "Genug sichere Bügel, damit niemand sein Rad an den Zaun schließen muss.",
        1,
        "Hörde",
        "stimme01@demo.example",
        "de",
        22,
    ),
    (
        "Safe crossings at the Wall ring",
        "Raised crossings and longer green phases where the ring road cuts cyclists off "
        "from the centre.",
        2,
        "Innenstadt-West",
        "stimme02@demo.example",
        "en",
        31,
    ),
    (
        "Fahrradstraße durch das Kreuzviertel",
        "Autos zu Gast, Räder mit Vorrang: eine ruhige Achse vom Kreuzviertel in die City.",
        0,
        "Innenstadt-West",
        "stimme03@demo.example",
        "de",
        12,
    ),
    (
        "Reparaturstationen an den Bahnhöfen",
        "Luftpumpe und Werkzeug rund um die Uhr, auch in den äußeren Stadtbezirken.",
        1,
        "Mengede",
        None,
        "de",
        27,
    ),
    (
        "Radkurse für Erwachsene im Stadtteilzentrum",
        "Wer nie Rad fahren gelernt hat, lernt es hier, in kleinen Gruppen.",
        2,
        "Scharnhorst",
        "stimme04@demo.example",
        "de",
        9,
    ),
]
RESULTS_WORKSHOP = "Radforum Dortmund"
# Which ideas (by index) each citizen voted for, within the budget of 3.
RESULTS_BALLOTS = {
    "buergerin@demo.example": (0, 2, 3),
    "stimme01@demo.example": (0, 1, 2),
    "stimme02@demo.example": (0, 2, 5),
    "stimme03@demo.example": (0, 1, 3),
    "stimme04@demo.example": (0, 2, 4),
    "stimme05@demo.example": (1, 2, 5),
    "stimme06@demo.example": (0, 3, 4),
    "stimme07@demo.example": (1, 2, 5),
    "stimme08@demo.example": (0, 1, 3),
    "stimme09@demo.example": (0, 2, 4),
    "stimme10@demo.example": (1, 2, 3),
}
# Scores (impact, feasibility, cost) of the two demo jurors, by idea index.
RESULTS_SCORES = {
    0: ((9, 6, 5), (8, 7, 6)),
    1: ((7, 9, 8), (8, 8, 9)),
    2: ((8, 5, 4), (9, 6, 5)),
    3: ((6, 7, 8), (5, 8, 8)),
    4: ((6, 9, 9), (5, 9, 8)),
    5: ((5, 8, 9), (6, 7, 9)),
}
# The ideas the announcement highlights (by index), as its texts name them; they are first
# and second in the frozen ranking. The first becomes a lab project.
RESULTS_WINNERS = (0, 2)
RESULTS_ANNOUNCEMENT = {
    "title_de": "Sichere Wege fürs Rad gewinnen",
    "title_en": "Safe routes for cycling win",
    "lead_de": "Ein geschützter Radweg in Brackel und sichere Querungen am Wall liegen vorn.",
    "lead_en": "A protected cycle lane in Brackel and safe crossings at the Wall ring come first.",
    "body_de": "Danke an **alle**, die online und beim Radforum abgestimmt haben. "
    "Die Gewinneridee wird jetzt im KoSI-Lab mit den Anwohnenden erprobt.",
    "body_en": "Thank you to **everyone** who voted online and at the cycling forum. "
    "The winning idea is now being tried out with the residents in the KoSI-Lab.",
}


def results_challenge_id() -> int | None:
    """The finished demo challenge, whose results page the seed command points to."""
    return db.session.scalar(
        select(Challenge.id).where(Challenge.title_de == RESULTS_CHALLENGE_TITLE)
    )


@contextmanager
def _at(moment: datetime):
    """Run the real services as if it were ``moment``: the finished challenge went through
    every phase, and each service checks the phase by the clock. Only for this command,
    which runs alone in its process (the clock's offset is global)."""
    with travel(moment - now()):
        yield


def _account(email: str) -> User:
    return db.session.scalar(select(User).where(User.email == email))


def _seed_results_challenge() -> None:
    """A challenge that went through every phase with the real services: online votes of
    the demo citizens and paper votes, criteria, a shortlist, two jurors' scores, frozen
    results, a press announcement past its embargo (its charts drawn by the inline job)
    and a lab project with an update. Each step is skipped once done, so a second run
    changes nothing and a run that broke off is completed."""
    from .jury import scoring, setup
    from .jury.freezing import freeze_results
    from .results import services as results

    challenge = db.session.scalar(
        select(Challenge).where(Challenge.title_de == RESULTS_CHALLENGE_TITLE)
    )
    if challenge is None:
        challenge = _create_results_challenge()
    ideas = list(
        db.session.scalars(select(Idea).where(Idea.challenge_id == challenge.id).order_by(Idea.id))
    )
    staff = _account("team@demo.example")
    jurors = [_account(a[1]) for a in DEMO_ACCOUNTS if a[0] == "juror"]
    evaluation = challenge.voting_closes_at + timedelta(days=1)
    if not challenge.is_frozen:
        _cast_results_votes(challenge, ideas)
        with _at(evaluation):
            _enter_results_paper_votes(challenge, ideas, staff)
            if not setup.list_criteria(challenge):
                for de, en, weight, about_de, about_en in JURY_CRITERIA:
                    setup.add_criterion(
                        staff, challenge,
                        {"name_de": de, "name_en": en, "weight": weight,
                         "description_de": about_de, "description_en": about_en},
                    )  # fmt: skip
            if not setup.shortlisted_ideas(challenge):
                setup.shortlist_top_ideas(staff, challenge)
            for juror in jurors:
                if scoring.seat_of(juror, challenge) is None:
                    setup.seat_juror(staff, challenge, juror.email)
        with _at(evaluation + timedelta(days=6)):
            for number, juror in enumerate(jurors):
                _score_as_juror(challenge, ideas, juror, number)
        with _at(evaluation + timedelta(days=13)):
            freeze_results(staff, challenge)
    if results.get_announcement(challenge) is None:
        press = _account("presse@demo.example")
        winners = [ideas[index].id for index in RESULTS_WINNERS]
        with _at(challenge.results_at - timedelta(days=2)):
            # Publishing draws the charts (the job runs inline without Redis).
            results.publish_announcement(
                press, challenge,
                dict(RESULTS_ANNOUNCEMENT, highlights=winners, embargo_at=challenge.results_at),
            )  # fmt: skip
    _seed_results_project(challenge, ideas, staff)


def _create_results_challenge() -> Challenge:
    t = now()
    challenge = Challenge(
        title_de=RESULTS_CHALLENGE_TITLE,
        title_en="How does Dortmund become more bicycle-friendly?",
        question_de="Was würde Sie öfter aufs Rad bringen?",
        question_en="What would get you on your bike more often?",
        description_de="Die Ergebnisse stehen fest: Bürgerinnen und Bürger haben online und "
        "beim Radforum abgestimmt, die Jury hat die engere Auswahl bewertet.",
        description_en="The results are in: citizens voted online and at the cycling forum, "
        "and the jury scored the shortlist.",
        submission_opens_at=t - timedelta(days=70),
        submission_closes_at=t - timedelta(days=49),
        voting_opens_at=t - timedelta(days=56),
        voting_closes_at=t - timedelta(days=35),
        results_at=t - timedelta(days=14),
        vote_budget=3,
        jury_alpha_percent=50,
        shortlist_size=4,
    )
    challenge.categories = [
        Category(name_de=de, name_en=en, position=i)
        for i, (de, en) in enumerate(RESULTS_CATEGORIES)
    ]
    db.session.add(challenge)
    db.session.flush()
    districts = {d.name: d for d in db.session.scalars(select(District))}
    for offset, (title, body, category, district, author, language, _paper) in enumerate(
        RESULTS_IDEAS
    ):
        submitted = challenge.submission_opens_at + timedelta(days=2 + 2 * offset, hours=10)
        db.session.add(
            Idea(
                challenge_id=challenge.id,
                author_id=_account(author).id if author else None,
                category_id=challenge.categories[category].id,
                district_id=districts[district].id,
                title=title,
                body=body,
                body_html=render_markdown(body),
                language=language,
                status="published",
                origin="online" if author else "workshop",
                workshop_name="" if author else RESULTS_WORKSHOP,
                created_at=submitted,
                submitted_at=submitted,
                published_at=submitted,
            )
        )
    db.session.commit()
    return challenge


def _cast_results_votes(challenge: Challenge, ideas: list[Idea]) -> None:
    """Each demo citizen votes on another day of the voting phase (cast_vote is idempotent)."""
    from .voting.services import cast_vote

    days = (challenge.voting_closes_at - challenge.voting_opens_at).days
    for number, (email, chosen) in enumerate(RESULTS_BALLOTS.items()):
        moment = challenge.voting_opens_at + timedelta(
            days=number * (days - 1) // len(RESULTS_BALLOTS), hours=8 + number
        )
        voter = _account(email)
        with _at(moment):
            for index in chosen:
                cast_vote(voter, challenge, ideas[index].id)


def _enter_results_paper_votes(challenge: Challenge, ideas: list[Idea], staff: User) -> None:
    """The ballot sheets of the cycling forum, once."""
    entered = db.session.scalar(
        select(func.count())
        .select_from(PaperVoteEntry)
        .join(Idea, Idea.id == PaperVoteEntry.idea_id)
        .where(Idea.challenge_id == challenge.id)
    )
    if entered:
        return
    for idea, spec in zip(ideas, RESULTS_IDEAS, strict=True):
        db.session.add(
            PaperVoteEntry(
                idea_id=idea.id, count=spec[-1], event_name=RESULTS_WORKSHOP, entered_by_id=staff.id
            )
        )
    db.session.commit()


def _score_as_juror(challenge: Challenge, ideas: list[Idea], juror: User, number: int) -> None:
    from .jury import scoring

    seat = scoring.seat_of(juror, challenge)
    if seat is None or seat.submitted_at is not None:
        return
    criteria = scoring.criteria_of(challenge)
    index_of = {idea.id: index for index, idea in enumerate(ideas)}
    for item in scoring.juror_overview(juror, challenge).items:
        values = RESULTS_SCORES[index_of[item.idea.id]][number]
        scoring.save_scores(
            juror, challenge, item.idea.id,
            {c.id: str(v) for c, v in zip(criteria, values, strict=True)},
        )  # fmt: skip
    scoring.submit_scores(juror, challenge)


def _seed_results_project(challenge: Challenge, ideas: list[Idea], staff: User) -> None:
    """The winner as a lab project, with a status, partners, a milestone and an update."""
    from .projects import services as projects

    idea = ideas[RESULTS_WINNERS[0]]
    if projects.project_of_idea(idea.id) is not None:
        return
    start = challenge.results_at + timedelta(days=4)
    with _at(start):
        project = projects.promote_idea(
            staff, challenge, idea.id, idea.title, "Protected cycle lane on Brackeler Straße",
            "Das KoSI-Lab erprobt den geschützten Radweg mit Anwohnenden und dem Tiefbauamt.",
            "The KoSI-Lab is trying out the protected cycle lane with residents and the "
            "civil engineering office.",
        )  # fmt: skip
        projects.update_project(
            staff, project,
            {"title_de": project.title_de, "title_en": project.title_en,
             "summary_de": project.summary_de, "summary_en": project.summary_en,
             "status": "piloting"},
        )  # fmt: skip
        projects.add_partner(staff, project, "ADFC Dortmund", "civil_society")
        projects.add_partner(staff, project, "Tiefbauamt Dortmund", "administration")
        milestone = projects.add_milestone(
            staff, project, "Probestrecke markiert", "Trial section marked",
            (start + timedelta(days=5)).date(),
        )  # fmt: skip
    with _at(start + timedelta(days=6)):
        projects.mark_milestone_reached(staff, project, milestone, now().date())
        projects.publish_update(
            staff, project,
            "Die ersten 300 Meter sind mit Pollern abgetrennt. Sagen Sie uns, wie es sich fährt!",
            "The first 300 metres are separated by bollards. Tell us how it rides!",
        )  # fmt: skip
