"""Demo data: the city of Dortmund with its twelve districts and one account per role."""

from sqlalchemy import select

from .accounts.models import RoleGrant, User
from .accounts.passwords import hash_password
from .accounts.services import clean_pseudonym
from .clock import now
from .districts import District
from .extensions import db

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
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            name, key = clean_pseudonym(pseudonym)
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
    db.session.commit()
    return logins
