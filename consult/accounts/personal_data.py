"""What "download my data" holds, column by column (GDPR Art. 15 and 20).

``EXPORTED`` and ``LEFT_OUT`` name every column in the schema that points at a person:
under which key of the download that person finds its rows, or why the column is
deliberately left out. ``tests/accounts/test_account_data_export.py`` walks the models
and fails when a new column that points at a person is in neither, so a new feature
cannot forget the download.

The parts of features that register no exporter of their own (votes, ballots, images,
jury seats, role grants, the audit log) are read here; features import each other's
models, and these are plain reads.
"""

from sqlalchemy import select

from ..extensions import db
from .models import SsoIdentity

# Column -> the key of the download under which the person finds its rows.
EXPORTED: dict[str, str] = {
    "role_grants.user_id": "roles",
    "votes.user_id": "votes",
    "ballots.user_id": "ballots",
    "ideas.author_id": "ideas",
    "comments.author_id": "comments",
    "reports.reporter_id": "reports",
    "idea_followers.user_id": "followed_ideas",
    "results_subscriptions.user_id": "results_mail_requests",
    "images.owner_id": "images",
    "lab_cocreators.user_id": "cocreator_invitations",
    "juror_assignments.user_id": "jury_seats",
    "jury_reviews.juror_id": "jury_reviews",
    # Events joined while logged in (consult/events/services.py registers the exporter).
    "event_participants.user_id": "event_participation",
    # consult/notifications/services.py registers the exporter of these three.
    "challenge_followers.user_id": "followed_challenges",
    "notifications_sent.user_id": "notifications_sent",
    "digest_items.user_id": "digest_items",
    # The identity at the city's OpenID provider (issuer and subject; consult/sso).
    "sso_identities.user_id": "sso_identities",
    # What the person did; what staff did to the account is under changes_to_your_account.
    "audit_entries.actor_id": "your_actions",
}

# Staff columns that only record which staff member did an official act: the same act is
# in the audit log with its actor, and the staff member finds it under "your_actions".
_STAFF_ACT = (
    "records which staff member did an official act; the act is in the audit log and "
    "exported to that staff member under your_actions"
)

# Column -> why it is deliberately not in the download.
LEFT_OUT: dict[str, str] = {
    # Whether two factors are on is in the account part; the codes are secrets.
    "recovery_codes.user_id": (
        "only hashes of one-time secrets, of no use to the person and a risk in a download"
    ),
    "role_grants.granted_by_id": _STAFF_ACT,
    "ideas.entered_by_id": _STAFF_ACT,
    "ideas.moderated_by_id": _STAFF_ACT,
    "comments.moderated_by_id": _STAFF_ACT,
    "reports.resolved_by_id": _STAFF_ACT,
    "paper_vote_entries.entered_by_id": _STAFF_ACT,
    "challenges.created_by_id": _STAFF_ACT,
    "shortlist_entries.added_by_id": _STAFF_ACT,
    "juror_assignments.assigned_by_id": _STAFF_ACT,
    "result_snapshots.frozen_by_id": _STAFF_ACT,
    "lab_projects.created_by_id": _STAFF_ACT,
    "lab_updates.author_id": _STAFF_ACT,
    "announcements.created_by_id": _STAFF_ACT,
    "announcements.published_by_id": _STAFF_ACT,
    "events.created_by_id": _STAFF_ACT,
    "events.imported_by_id": _STAFF_ACT,
    "event_rounds.created_by_id": _STAFF_ACT,
    "idea_answers.answered_by_id": _STAFF_ACT,
    # Named like a person's column, but it holds the worker process (host and pid) that
    # runs a background job.
    "job_outbox.claimed_by": "the worker process running a job, not a person",
}


def _when(value) -> str | None:
    return value.isoformat() if value else None


def export_own_participation(user) -> dict:
    """Votes (idea, challenge, time), ballots, photos, roles and sign-in identities."""
    from ..challenges.models import Challenge
    from ..ideas.models import Idea
    from ..media.models import Image
    from ..voting.models import Ballot, Vote

    votes = db.session.execute(
        select(Vote, Idea.title, Challenge.title_de, Challenge.title_en)
        .join(Idea, Idea.id == Vote.idea_id)
        .join(Challenge, Challenge.id == Vote.challenge_id)
        .where(Vote.user_id == user.id)
        .order_by(Vote.created_at, Vote.id)
    ).all()
    ballots = db.session.execute(
        select(Ballot, Challenge.title_de, Challenge.title_en)
        .join(Challenge, Challenge.id == Ballot.challenge_id)
        .where(Ballot.user_id == user.id)
        .order_by(Ballot.challenge_id)
    ).all()
    images = db.session.scalars(select(Image).where(Image.owner_id == user.id).order_by(Image.id))
    identities = db.session.scalars(
        select(SsoIdentity).where(SsoIdentity.user_id == user.id).order_by(SsoIdentity.id)
    )
    return {
        "sso_identities": [
            {"issuer": identity.issuer, "subject": identity.subject,
             "linked_at": _when(identity.created_at),
             "last_login_at": _when(identity.last_login_at)}
            for identity in identities
        ],
        "roles": [
            {"role": grant.role, "granted_at": _when(grant.granted_at),
             "source": grant.source}
            for grant in sorted(user.role_grants, key=lambda g: g.role)
        ],
        "votes": [
            {"challenge_id": vote.challenge_id, "challenge_title_de": title_de,
             "challenge_title_en": title_en, "idea_id": vote.idea_id, "idea_title": idea_title,
             "voted_at": _when(vote.created_at)}
            for vote, idea_title, title_de, title_en in votes
        ],
        "ballots": [
            {"challenge_id": ballot.challenge_id, "challenge_title_de": title_de,
             "challenge_title_en": title_en, "votes_used": ballot.used}
            for ballot, title_de, title_en in ballots
        ],
        "images": [
            {"id": image.id, "width": image.width, "height": image.height,
             "sha256": image.digest, "uploaded_at": _when(image.created_at)}
            for image in images
        ],
    }  # fmt: skip


def export_own_jury_seats(user) -> dict:
    """The challenges on whose jury the person sits, and when they submitted."""
    from ..jury.models import JurorAssignment

    seats = db.session.scalars(
        select(JurorAssignment)
        .where(JurorAssignment.user_id == user.id)
        .order_by(JurorAssignment.challenge_id)
    )
    return {
        "jury_seats": [
            {"challenge_id": seat.challenge_id, "assigned_at": _when(seat.assigned_at),
             "submitted_at": _when(seat.submitted_at),
             "last_reminded_at": _when(seat.last_reminded_at)}
            for seat in seats
        ]
    }  # fmt: skip


def export_own_audit_entries(user) -> dict:
    """What the person did that the audit log records, and what staff did to the account.

    Entries about the account name no staff member: who did it is that person's data.
    """
    from ..audit.models import AuditEntry
    from ..audit.sentences import details_for_export

    done = db.session.scalars(
        select(AuditEntry).where(AuditEntry.actor_id == user.id).order_by(AuditEntry.id)
    )
    about = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.object_type == "user", AuditEntry.object_id == user.id)
        .order_by(AuditEntry.id)
    )
    return {
        "your_actions": [
            {"action": e.action, "object_type": e.object_type, "object_id": e.object_id,
             "details": details_for_export(e), "at": _when(e.created_at)}
            for e in done
        ],
        "changes_to_your_account": [
            {"action": e.action, "details": details_for_export(e), "at": _when(e.created_at)}
            for e in about
        ],
    }  # fmt: skip


OWN_EXPORTERS = (export_own_participation, export_own_jury_seats, export_own_audit_entries)
