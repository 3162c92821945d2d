"""Demo data: the city of Dortmund, its twelve districts, one account per role, and a
running challenge with ideas, so that every page has something to show."""

from datetime import timedelta

from sqlalchemy import or_, select

from .accounts.models import RoleGrant, User
from .accounts.passwords import hash_password
from .accounts.services import clean_pseudonym
from .challenges.models import Category, Challenge
from .clock import now
from .districts import District
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


def seed_demo() -> list[tuple[str, str, str]]:
    """Create what is missing and return (role, e-mail, password) for every demo login."""
    existing = set(db.session.scalars(select(District.name)))
    for position, name in enumerate(DORTMUND_DISTRICTS):
        if name not in existing:
            db.session.add(District(name=name, position=position))
    logins = []
    for label, email, pseudonym, password, roles in DEMO_ACCOUNTS:
        name, key = clean_pseudonym(pseudonym)
        # By address or by name: an older demo account may have had another address.
        user = db.session.scalar(
            select(User).where(or_(User.email == email, User.pseudonym_key == key))
        )
        if user is not None:
            user.email = email
        else:
            user = User(
                email=email,
                pseudonym=name,
                pseudonym_key=key,
                locale="de",
                email_verified_at=now(),
                privacy_consent_at=now(),
            )
            db.session.add(user)
        user.password_hash = hash_password(password)
        for role in roles:
            if role not in user.roles:
                user.role_grants.append(RoleGrant(role=role))
        logins.append((label, email, password))
    db.session.flush()
    _seed_challenge()
    _seed_jury_challenge()
    db.session.commit()
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
