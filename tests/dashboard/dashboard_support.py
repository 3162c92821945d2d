"""A small challenge with known numbers for the dashboard tests (imported by name; pytest
does not collect this file).

The clock stands at NOW (Wednesday 10 June 2026, 14:00 Berlin). Submission opened on
1 June 00:00 Berlin (31 May 22:00 UTC). What happened, in UTC:

- accounts: staff 1 May (before the window, not a registration); c1 1 June 10:00; c2
  1 June 23:30 (2 June in Berlin); c3 3 June 08:00; c4 9 June 09:00: 4 registrations;
- i1 by c1 (Hörde, category "=Verkehr", title a formula), published, submitted 2 June 10:00;
  i2 by c2 (Eving, "Grün"), published, submitted 2 June 12:00, has an official answer;
  i3 by c3 (no district), waiting for moderation since 8 June 12:00 (48 h);
  i4 by c1 (Hörde), waiting since 10 June 06:00 (6 h); i5 a draft of c4 (counts nowhere);
- comments: c3 on i1, 3 June 09:00 (published); c4 on i2, 9 June 10:00 (hidden);
- online votes: c2 on i1 5 June 10:00; c3 on i1 and i2 6 June 10:00 and 11:00;
- paper votes: 5 for i1 on the sheet of 7 June; 2 for i2 without a date, entered 8 June
  20:00 (22:00 Berlin);
- one open report on i1 since 9 June 12:00 (24 h).
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from consult.answers.models import IdeaAnswer
from consult.challenges.models import Category, Challenge
from consult.districts import District
from consult.extensions import db
from consult.ideas.models import Comment, Idea, Report
from consult.voting.models import PaperVoteEntry, Vote

NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
FORMULA_TITLE = '=HYPERLINK("http://evil.example","Klick")'


def utc(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


@dataclass
class World:
    challenge: Challenge
    staff: object
    citizens: list
    ideas: list
    extra: dict = field(default_factory=dict)


def make_challenge(**settings) -> Challenge:
    values = dict(
        title_de="Mehr Grün in Dortmund",
        title_en="More green in Dortmund",
        question_de="Wo fehlt Grün?",
        question_en="Where is green missing?",
        submission_opens_at=utc(5, 31, 22),
        submission_closes_at=utc(6, 20, 22),
        voting_opens_at=utc(6, 4, 22),
        voting_closes_at=utc(6, 25, 22),
        results_at=utc(7, 1, 10),
        count_paper_votes=True,
    )
    values.update(settings)
    challenge = Challenge(**values)
    db.session.add(challenge)
    db.session.commit()
    return challenge


def _idea(challenge, author, title, status, submitted, district=None, category=None) -> Idea:
    idea = Idea(
        challenge_id=challenge.id,
        author_id=author.id,
        title=title,
        body="Mehr Bäume.",
        body_html="<p>Mehr Bäume.</p>",
        language="de",
        status=status,
        submitted_at=submitted,
        published_at=submitted if status == "published" else None,
        district_id=district.id if district else None,
        category_id=category.id if category else None,
        created_at=submitted or utc(6, 9, 12),
    )
    db.session.add(idea)
    db.session.commit()
    return idea


def known_world(make_user) -> World:
    staff = make_user(roles=("citizen", "staff"), pseudonym="Team")
    citizens = [make_user(pseudonym=f"Bürgerin {n}") for n in range(1, 5)]
    staff.created_at = utc(5, 1, 9)
    for user, created in zip(
        citizens, [utc(6, 1, 10), utc(6, 1, 23, 30), utc(6, 3, 8), utc(6, 9, 9)], strict=True
    ):
        user.created_at = created
    db.session.commit()
    c1, c2, c3, c4 = citizens

    challenge = make_challenge()
    hoerde = District(name="Hörde", position=1)  # population from DISTRICT_POPULATION: 57,000
    eving = District(name="Eving", position=2, population=1000)  # its own column wins
    mengede = District(name="Mengede", position=3)  # no activity: a row of zeros
    nowhere = District(name="Nirgendwo", position=4)  # no population configured
    traffic = Category(challenge_id=challenge.id, name_de="=Verkehr", name_en="=Traffic",
                       position=0)  # fmt: skip
    green = Category(challenge_id=challenge.id, name_de="Grün", name_en="Green", position=1)
    db.session.add_all([hoerde, eving, mengede, nowhere, traffic, green])
    db.session.commit()

    i1 = _idea(challenge, c1, FORMULA_TITLE, "published", utc(6, 2, 10), hoerde, traffic)
    i2 = _idea(challenge, c2, "Bäume am Markt", "published", utc(6, 2, 12), eving, green)
    i3 = _idea(challenge, c3, "Ein Park", "submitted", utc(6, 8, 12))
    i4 = _idea(challenge, c1, "Noch ein Park", "submitted", utc(6, 10, 6), hoerde)
    i5 = _idea(challenge, c4, "Entwurf", "draft", None, eving)
    db.session.add_all(
        [
            IdeaAnswer(idea_id=i2.id, state="under_review", text_de="Wir prüfen.", text_en="We check."),
            Comment(idea_id=i1.id, author_id=c3.id, body="Gut!", created_at=utc(6, 3, 9)),
            Comment(idea_id=i2.id, author_id=c4.id, body="Spam", status="hidden",
                    created_at=utc(6, 9, 10)),
            Vote(challenge_id=challenge.id, idea_id=i1.id, user_id=c2.id, created_at=utc(6, 5, 10)),
            Vote(challenge_id=challenge.id, idea_id=i1.id, user_id=c3.id, created_at=utc(6, 6, 10)),
            Vote(challenge_id=challenge.id, idea_id=i2.id, user_id=c3.id, created_at=utc(6, 6, 11)),
            PaperVoteEntry(idea_id=i1.id, count=5, event_name="Stadtteilfest",
                           event_date=date(2026, 6, 7), entered_at=utc(6, 9, 8)),
            PaperVoteEntry(idea_id=i2.id, count=2, event_name="Bürgerbüro",
                           entered_at=utc(6, 8, 20)),
            Report(idea_id=i1.id, reporter_id=c4.id, reason="spam", created_at=utc(6, 9, 12)),
        ]
    )  # fmt: skip
    db.session.commit()
    return World(
        challenge, staff, citizens, [i1, i2, i3, i4, i5],
        dict(hoerde=hoerde, eving=eving, mengede=mengede, nowhere=nowhere, traffic=traffic,
             green=green),
    )  # fmt: skip
